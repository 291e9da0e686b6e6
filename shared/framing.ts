/**
 * Reliable-stream framing (docs/protocol.md, "Framing"): each message on the WebTransport
 * bidirectional stream is `varint length | message`, the length being a QUIC variable-length
 * integer (RFC 9000 §16: the two high bits of the first byte give the size, 1/2/4/8 bytes).
 * On WebSocket no framing is needed: each binary frame is one message.
 *
 * FrameDecoder reassembles frames from arbitrary chunk splits and refuses, before buffering it,
 * any frame longer than its limit: a peer cannot make us hold more than one frame's worth. The
 * buffer of a partial frame grows with the bytes that arrive (doubling, from
 * FRAME_BUFFER_INITIAL_BYTES), never with the length the header announces: a peer that
 * announces the largest frame and sends nothing more costs nothing.
 */
import { ErrorCode, type DropReason } from './errors.js';
import { MAX_RELIABLE_MESSAGE_BYTES } from './limits.js';

/**
 * First size of a partial frame's buffer; it doubles as bytes arrive, up to the announced length.
 * Small enough that announcing a frame costs little, large enough that a chat line fits at once.
 */
export const FRAME_BUFFER_INITIAL_BYTES = 1024;

/** Largest value a QUIC varint can hold that is also a safe JavaScript integer. */
const VARINT_MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Bytes the varint encoding of `value` takes (RFC 9000 §16, Table 4). */
export function varintLength(value: number): 1 | 2 | 4 | 8 {
  if (value < 0x40) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x4000_0000) return 4;
  return 8;
}

/** Writes `value` as a QUIC varint at `offset`; returns the offset after it. */
export function writeVarint(target: Uint8Array, offset: number, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > VARINT_MAX_SAFE) throw new RangeError(`varint out of range: ${value}`);
  const n = varintLength(value);
  let v = value;
  for (let i = n - 1; i >= 0; i--) {
    target[offset + i] = v % 256;
    v = Math.floor(v / 256);
  }
  target[offset] |= n === 1 ? 0x00 : n === 2 ? 0x40 : n === 4 ? 0x80 : 0xc0;
  return offset + n;
}

/**
 * Prefixes `message` with its varint length.
 * @throws RangeError when the message is empty or longer than `maxFrameBytes` (our own bug: the
 *   peer would close the session for it).
 */
export function encodeFrame(message: Uint8Array, maxFrameBytes = MAX_RELIABLE_MESSAGE_BYTES): Uint8Array {
  if (message.length === 0) throw new RangeError('empty frame');
  if (message.length > maxFrameBytes) throw new RangeError(`frame of ${message.length} bytes exceeds ${maxFrameBytes}`);
  const out = new Uint8Array(varintLength(message.length) + message.length);
  const at = writeVarint(out, 0, message.length);
  out.set(message, at);
  return out;
}

/** Outcome of FrameDecoder.push: the whole frames completed by this chunk, or the failure. */
export type FramePushResult =
  | { ok: true; frames: Uint8Array[] }
  | {
    ok: false;
    /** Frames completed before the failure (still valid, in order). */
    frames: Uint8Array[];
    reason: DropReason;
    code: number;
    detail: string;
  };

/**
 * Incremental frame reader. Feed stream chunks to `push` in order; each call returns the frames
 * it completed (fresh copies the caller owns). After a failure the decoder stays failed (the
 * stream cannot be resynchronised), and the caller should close the session with `code`.
 */
export class FrameDecoder {
  /** Frames longer than this are refused before any of their bytes are buffered. */
  readonly maxFrameBytes: number;
  private readonly header = new Uint8Array(8);
  private headerHave = 0;
  private headerNeed = 0;
  /** Announced length of the frame being read; 0 between frames. */
  private frameLength = 0;
  /** Bytes of that frame so far (capacity grows with them, at most frameLength). */
  private frame: Uint8Array | null = null;
  private frameHave = 0;
  private failure: Extract<FramePushResult, { ok: false }> | null = null;

  constructor(maxFrameBytes = MAX_RELIABLE_MESSAGE_BYTES) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** True after a failure; every later push returns the same failure. */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** Bytes of a partial frame currently held (at most maxFrameBytes + 8). */
  get bufferedBytes(): number {
    return this.headerHave + this.frameHave;
  }

  /**
   * Bytes allocated for the partial frame: at most twice the bytes received of it, or
   * FRAME_BUFFER_INITIAL_BYTES (and never more than the frame's length).
   */
  get allocatedBytes(): number {
    return this.frame?.length ?? 0;
  }

  push(chunk: Uint8Array): FramePushResult {
    if (this.failure) return { ...this.failure, frames: [] };
    const frames: Uint8Array[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.frameLength === 0) {
        if (this.headerHave === 0) this.headerNeed = 1 << (chunk[i] >> 6);
        while (this.headerHave < this.headerNeed && i < chunk.length) this.header[this.headerHave++] = chunk[i++];
        if (this.headerHave < this.headerNeed) break;
        let len = this.header[0] & 0x3f;
        for (let k = 1; k < this.headerNeed; k++) len = len * 256 + this.header[k];
        this.headerHave = 0;
        if (len === 0) return this.fail(frames, 'decode', ErrorCode.BAD_MESSAGE, 'zero-length frame');
        if (len > this.maxFrameBytes) {
          return this.fail(frames, 'too_large', ErrorCode.MESSAGE_TOO_LARGE, `frame of ${len} bytes exceeds ${this.maxFrameBytes}`);
        }
        this.frameLength = len;
        this.frameHave = 0;
        if (i >= chunk.length) break;
      }
      const take = Math.min(this.frameLength - this.frameHave, chunk.length - i);
      let done: Uint8Array | null = null;
      if (this.frameHave === 0 && take === this.frameLength) {
        // The whole frame is in this chunk: one exact copy, no buffer.
        done = chunk.slice(i, i + take);
      } else {
        this.reserve(this.frameHave + take);
        this.frame!.set(chunk.subarray(i, i + take), this.frameHave);
        this.frameHave += take;
        if (this.frameHave === this.frameLength) done = this.frame!;
      }
      i += take;
      if (done) {
        frames.push(done);
        this.frame = null;
        this.frameHave = 0;
        this.frameLength = 0;
      }
    }
    return { ok: true, frames };
  }

  /** Grows the partial frame's buffer to hold `need` bytes: doubling, capped at the frame length. */
  private reserve(need: number): void {
    const have = this.frame?.length ?? 0;
    if (need <= have) return;
    const size = Math.min(this.frameLength, Math.max(need, have * 2, FRAME_BUFFER_INITIAL_BYTES));
    const grown = new Uint8Array(size);
    if (this.frame && this.frameHave > 0) grown.set(this.frame.subarray(0, this.frameHave));
    this.frame = grown;
  }

  private fail(frames: Uint8Array[], reason: DropReason, code: number, detail: string): FramePushResult {
    this.failure = { ok: false, frames: [], reason, code, detail };
    this.frame = null;
    this.frameHave = 0;
    this.frameLength = 0;
    return { ...this.failure, frames };
  }
}
