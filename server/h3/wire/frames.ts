/**
 * HTTP/3 frames (RFC 9114 §7): `Frame { Type (i), Length (i), Payload (..) }`.
 *
 * `FrameDecoder` parses frames from a stream incrementally (bytes arrive in arbitrary pieces):
 * - HEADERS, SETTINGS, GOAWAY, CANCEL_PUSH, MAX_PUSH_ID and PUSH_PROMISE are delivered whole,
 *   each bounded by a named maximum size (over it: H3_EXCESSIVE_LOAD);
 * - DATA payloads are streamed out in pieces as they arrive (never buffered whole);
 * - unknown and reserved frame types are skipped without buffering (RFC 9114 §9: "implementations
 *   MUST ignore and discard frames of unknown types");
 * - the HTTP/2-only types 0x2, 0x6, 0x8, 0x9 are H3_FRAME_UNEXPECTED (RFC 9114 §7.2.8);
 * - the WebTransport signal 0x41 is accepted only as the very first bytes of a stream, when asked
 *   (draft-ietf-webtrans-http3 §4.2); anywhere else it is H3_FRAME_ERROR.
 * Which frames are allowed on which stream (e.g. DATA on the control stream) is the connection's
 * rule, not this codec's.
 */
import { ByteWriter, ByteReader } from './bytes.js';
import { ChunkQueue } from './chunk-queue.js';
import { decodeVarint, encodeVarint, varintLength } from './varint.js';
import { H3_EXCESSIVE_LOAD, H3_FRAME_ERROR, H3_FRAME_UNEXPECTED, wireError, type WireError } from './errors.js';

/** Frame types, RFC 9114 §7.2 and §11.2.1. */
export const FRAME_DATA = 0x00;
export const FRAME_HEADERS = 0x01;
export const FRAME_CANCEL_PUSH = 0x03;
export const FRAME_SETTINGS = 0x04;
export const FRAME_PUSH_PROMISE = 0x05;
export const FRAME_GOAWAY = 0x07;
export const FRAME_MAX_PUSH_ID = 0x0d;
/** The WebTransport bidirectional stream signal (draft-ietf-webtrans-http3 §4.2, "WT_STREAM"). */
export const FRAME_WT_STREAM = 0x41;

/** Frame types reserved because they exist only in HTTP/2 (RFC 9114 §7.2.8, §11.2.1). */
export const HTTP2_ONLY_FRAME_TYPES: ReadonlySet<number> = new Set([0x02, 0x06, 0x08, 0x09]);

/** Largest HEADERS payload accepted (an encoded field section; see qpack MAX_FIELD_SECTION_SIZE). */
export const MAX_HEADERS_FRAME_SIZE = 16 * 1024;
/** Largest SETTINGS payload accepted; browsers send under 100 bytes. */
export const MAX_SETTINGS_FRAME_SIZE = 4 * 1024;
/** Largest PUSH_PROMISE payload accepted (a push id plus a field section). */
export const MAX_PUSH_PROMISE_FRAME_SIZE = MAX_HEADERS_FRAME_SIZE + 8;
/** GOAWAY, CANCEL_PUSH and MAX_PUSH_ID carry exactly one varint: at most 8 bytes. */
export const MAX_SINGLE_VARINT_FRAME_SIZE = 8;

/** Types whose payload the decoder buffers and delivers whole, with their size limit. */
const BUFFERED_FRAME_LIMITS: ReadonlyMap<number, number> = new Map([
  [FRAME_HEADERS, MAX_HEADERS_FRAME_SIZE],
  [FRAME_SETTINGS, MAX_SETTINGS_FRAME_SIZE],
  [FRAME_PUSH_PROMISE, MAX_PUSH_PROMISE_FRAME_SIZE],
  [FRAME_GOAWAY, MAX_SINGLE_VARINT_FRAME_SIZE],
  [FRAME_CANCEL_PUSH, MAX_SINGLE_VARINT_FRAME_SIZE],
  [FRAME_MAX_PUSH_ID, MAX_SINGLE_VARINT_FRAME_SIZE],
]);

/** Longest frame header: two 8-byte varints. */
const MAX_FRAME_HEADER_LENGTH = 16;
/**
 * Most bytes a FrameDecoder holds between calls when its caller drains it after every push: a
 * frame header plus the largest whole-delivered frame. (DATA and unknown frames pass through
 * without accumulating.) Chunks pushed without draining add to it; the caller bounds those.
 */
export const FRAME_DECODER_MAX_BUFFERED = MAX_FRAME_HEADER_LENGTH + MAX_PUSH_PROMISE_FRAME_SIZE;

/** A parsed frame header. */
export interface FrameHeader {
  status: 'ok';
  /** Frame type; exact only when `typeSafe` (larger types are always unknown ones). */
  type: number;
  typeSafe: boolean;
  /** Payload length; exact only when `lengthSafe`. */
  length: number;
  lengthSafe: boolean;
  /** Bytes taken by the header. */
  headerLength: number;
}

/** Parses a frame header at `offset`; `need-more` when the bytes end inside it. Never throws. */
export function parseFrameHeader(bytes: Uint8Array, offset = 0): FrameHeader | { status: 'need-more' } {
  const t = decodeVarint(bytes, offset);
  if (t.status !== 'ok') return { status: 'need-more' };
  const l = decodeVarint(bytes, offset + t.length);
  if (l.status !== 'ok') return { status: 'need-more' };
  return { status: 'ok', type: t.value, typeSafe: t.safe, length: l.value, lengthSafe: l.safe, headerLength: t.length + l.length };
}

/** Events from `FrameDecoder.next()`. */
export type FrameEvent =
  /** A whole HEADERS, SETTINGS, GOAWAY, CANCEL_PUSH, MAX_PUSH_ID or PUSH_PROMISE frame. */
  | { status: 'frame'; type: number; payload: Uint8Array }
  /** A piece of a DATA frame's payload; `end` marks the frame's last piece (possibly empty). */
  | { status: 'data'; chunk: Uint8Array; end: boolean }
  /** An unknown or reserved frame was skipped in full. */
  | { status: 'skipped'; type: number; length: number }
  /**
   * The stream began with the WebTransport signal 0x41 (only with `acceptWebTransportStream`):
   * `sessionId` follows, `rest` holds the bytes after the header already received; the decoder
   * is done and further bytes of this stream are raw WebTransport payload for the caller.
   */
  | { status: 'webtransport-stream'; sessionId: number; sessionIdSafe: boolean; rest: Uint8Array }
  | { status: 'need-more' }
  | WireError;

export interface FrameDecoderOptions {
  /** Accept 0x41 + session id as the first bytes (client-initiated bidi streams on a WT server). */
  acceptWebTransportStream?: boolean;
}

/**
 * Incremental HTTP/3 frame decoder for one stream. Usage: `push(chunk)`, then call `next()` until
 * it returns `need-more` (or an error, which is sticky). DATA chunks are views into the pushed
 * chunks: consume or copy them before mutating a pushed buffer. At a clean end of stream call
 * `finish()`. Buffered bytes are bounded by the largest buffered-frame limit plus the chunks the
 * caller pushed without draining.
 */
export class FrameDecoder {
  private readonly queue = new ChunkQueue();
  private state: 'header' | 'buffer' | 'data' | 'skip' | 'detached' = 'header';
  private frameType = 0;
  private frameLength = 0;
  private remaining = 0;
  private atStreamStart = true;
  private error: WireError | null = null;
  private readonly acceptWt: boolean;

  constructor(options: FrameDecoderOptions = {}) {
    this.acceptWt = options.acceptWebTransportStream ?? false;
  }

  /** Appends bytes received on the stream. Bytes pushed after detaching or an error are ignored. */
  push(chunk: Uint8Array): void {
    if (this.error || this.state === 'detached') return;
    this.queue.push(chunk);
  }

  /** Bytes held but not yet returned. */
  get bufferedBytes(): number {
    return this.queue.available;
  }

  /** Returns the next event; see `FrameEvent`. Never throws. */
  next(): FrameEvent {
    if (this.error) return this.error;
    for (;;) {
      switch (this.state) {
        case 'detached':
          return { status: 'need-more' };
        case 'header': {
          if (this.queue.available === 0) return { status: 'need-more' };
          const head = this.queue.peek(MAX_FRAME_HEADER_LENGTH);
          const h = parseFrameHeader(head);
          if (h.status !== 'ok') return { status: 'need-more' };
          this.queue.consume(h.headerLength);
          const first = this.atStreamStart;
          this.atStreamStart = false;
          if (h.typeSafe && h.type === FRAME_WT_STREAM) {
            if (!first || !this.acceptWt) return this.fail(H3_FRAME_ERROR, 'WT_STREAM signal 0x41 outside the start of a request stream');
            // The second varint of a WT_STREAM header is the session id, not a length.
            this.state = 'detached';
            const rest = this.queue.takeAll();
            return { status: 'webtransport-stream', sessionId: h.length, sessionIdSafe: h.lengthSafe, rest };
          }
          if (h.typeSafe && HTTP2_ONLY_FRAME_TYPES.has(h.type)) {
            return this.fail(H3_FRAME_UNEXPECTED, `HTTP/2-only frame type 0x${h.type.toString(16)}`);
          }
          this.frameType = h.type;
          this.frameLength = h.length;
          this.remaining = h.length;
          if (h.typeSafe && h.type === FRAME_DATA) {
            if (!h.lengthSafe) return this.fail(H3_EXCESSIVE_LOAD, 'DATA frame length beyond 2^53');
            this.state = 'data';
            if (h.length === 0) {
              this.state = 'header';
              return { status: 'data', chunk: new Uint8Array(0), end: true };
            }
            continue;
          }
          const limit = h.typeSafe ? BUFFERED_FRAME_LIMITS.get(h.type) : undefined;
          if (limit !== undefined) {
            if (!h.lengthSafe || h.length > limit) {
              return this.fail(H3_EXCESSIVE_LOAD, `frame 0x${h.type.toString(16)} of ${h.length} bytes exceeds limit ${limit}`);
            }
            this.state = 'buffer';
            continue;
          }
          this.state = 'skip';
          continue;
        }
        case 'buffer': {
          if (this.queue.available < this.remaining) return { status: 'need-more' };
          const payload = this.queue.take(this.remaining);
          this.state = 'header';
          return { status: 'frame', type: this.frameType, payload };
        }
        case 'data': {
          if (this.queue.available === 0) return { status: 'need-more' };
          const chunk = this.queue.takeUpTo(this.remaining);
          this.remaining -= chunk.length;
          const end = this.remaining === 0;
          if (end) this.state = 'header';
          return { status: 'data', chunk, end };
        }
        case 'skip': {
          const n = Math.min(this.queue.available, this.remaining);
          this.queue.consume(n);
          this.remaining -= n;
          if (this.remaining > 0) return { status: 'need-more' };
          this.state = 'header';
          return { status: 'skipped', type: this.frameType, length: this.frameLength };
        }
      }
    }
  }

  /**
   * Call at the clean end of the stream (FIN). A stream that ends inside a frame is
   * H3_FRAME_ERROR (RFC 9114 §7.1); returns null when it ended on a frame boundary.
   */
  finish(): WireError | null {
    if (this.error) return this.error;
    if (this.state === 'detached') return null;
    if (this.state === 'header' && this.queue.available === 0) return null;
    return this.fail(H3_FRAME_ERROR, 'stream ended inside a frame');
  }

  private fail(code: number, detail: string): WireError {
    this.error = wireError(code, detail);
    this.queue.clear();
    return this.error;
  }
}

/** Encodes a whole frame: type, length, payload. */
export function encodeFrame(type: number | bigint, payload: Uint8Array): Uint8Array {
  return new ByteWriter(payload.length + 16).varint(type).varint(payload.length).bytes(payload).finish();
}

/** Encodes only a frame header (type and length), e.g. to send a large DATA payload without copying it. */
export function encodeFrameHeader(type: number | bigint, length: number): Uint8Array {
  const out = new Uint8Array(varintLength(type) + varintLength(length));
  const t = encodeVarint(type);
  out.set(t, 0);
  out.set(encodeVarint(length), t.length);
  return out;
}

/** A DATA frame (RFC 9114 §7.2.1). */
export function encodeDataFrame(payload: Uint8Array): Uint8Array {
  return encodeFrame(FRAME_DATA, payload);
}

/** A HEADERS frame carrying an encoded QPACK field section (RFC 9114 §7.2.2). */
export function encodeHeadersFrame(fieldSection: Uint8Array): Uint8Array {
  return encodeFrame(FRAME_HEADERS, fieldSection);
}

/** A GOAWAY frame (RFC 9114 §7.2.6): from a server, `id` is the first client bidi stream id it will not process. */
export function encodeGoawayFrame(id: number): Uint8Array {
  return encodeFrame(FRAME_GOAWAY, encodeVarint(id));
}

/**
 * Decodes the payload of GOAWAY, CANCEL_PUSH or MAX_PUSH_ID: exactly one varint. Anything else is
 * H3_FRAME_ERROR (RFC 9114 §7.1: extra or missing bytes in a frame payload).
 */
export function decodeSingleVarintPayload(payload: Uint8Array): { status: 'ok'; value: number; safe: boolean } | WireError {
  const r = new ByteReader(payload);
  const v = r.varint();
  if (v === undefined || r.remaining !== 0) return wireError(H3_FRAME_ERROR, 'frame payload is not exactly one varint');
  return { status: 'ok', value: v.value, safe: v.safe };
}

/** Decodes a GOAWAY payload (RFC 9114 §7.2.6). */
export function decodeGoaway(payload: Uint8Array): { status: 'ok'; id: number; safe: boolean } | WireError {
  const r = decodeSingleVarintPayload(payload);
  if (r.status !== 'ok') return r;
  return { status: 'ok', id: r.value, safe: r.safe };
}
