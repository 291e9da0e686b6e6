/**
 * The Capsule Protocol (RFC 9297 §3.2) on a WebTransport CONNECT stream, where capsules travel
 * inside HTTP/3 DATA frames: `Capsule { Type (i), Length (i), Value (..) }`.
 *
 * Known capsules (draft-ietf-webtrans-http3 §5 / §6):
 * - WT_CLOSE_SESSION 0x2843 (a.k.a. CLOSE_WEBTRANSPORT_SESSION): 32-bit code + UTF-8 reason of at
 *   most 1024 bytes;
 * - WT_DRAIN_SESSION 0x78ae (DRAIN_WEBTRANSPORT_SESSION): empty.
 * Unknown capsule types are skipped without buffering (RFC 9297 §3.2: "an endpoint that receives
 * a capsule with an unknown type MUST silently drop that capsule"), including the DATAGRAM capsule
 * (0x00), since we carry datagrams natively in QUIC DATAGRAM frames, and the flow-control
 * capsules of later drafts. A malformed known capsule, or a stream that ends mid-capsule, makes
 * the HTTP message malformed: H3_MESSAGE_ERROR (RFC 9297 §3.3).
 */
import { ByteWriter } from './bytes.js';
import { ChunkQueue } from './chunk-queue.js';
import { decodeVarint } from './varint.js';
import { H3_MESSAGE_ERROR, wireError, type WireError } from './errors.js';
import { encodeDataFrame } from './frames.js';

export const CAPSULE_DATAGRAM = 0x00;
export const CAPSULE_CLOSE_WEBTRANSPORT_SESSION = 0x2843;
export const CAPSULE_DRAIN_WEBTRANSPORT_SESSION = 0x78ae;

/** Longest close reason in bytes (draft-ietf-webtrans-http3 §6). */
export const MAX_CLOSE_REASON_BYTES = 1024;
/** Largest CLOSE capsule value: 4-byte code + reason. */
export const MAX_CLOSE_CAPSULE_VALUE = 4 + MAX_CLOSE_REASON_BYTES;

const MAX_CAPSULE_HEADER_LENGTH = 16;
/**
 * Most bytes a CapsuleParser holds between calls when drained after every push: a capsule header
 * plus the largest close capsule value (unknown capsules pass through without accumulating).
 */
export const CAPSULE_PARSER_MAX_BUFFERED = MAX_CAPSULE_HEADER_LENGTH + MAX_CLOSE_CAPSULE_VALUE;

export type CapsuleEvent =
  | { status: 'close'; code: number; reason: string }
  | { status: 'drain' }
  /** An unknown capsule was skipped in full. */
  | { status: 'skipped'; type: number; length: number }
  | { status: 'need-more' }
  | WireError;

/**
 * Incremental capsule parser for one CONNECT stream: `push()` the DATA frame payload pieces, call
 * `next()` until `need-more`; call `finish()` at the end of the stream. Errors are sticky.
 * Buffering is bounded by MAX_CLOSE_CAPSULE_VALUE plus the chunks pushed without draining.
 */
export class CapsuleParser {
  private readonly queue = new ChunkQueue();
  private state: 'header' | 'buffer' | 'skip' = 'header';
  private type = 0;
  private length = 0;
  private remaining = 0;
  private error: WireError | null = null;

  push(chunk: Uint8Array): void {
    if (this.error) return;
    this.queue.push(chunk);
  }

  /** Bytes held but not yet returned. */
  get bufferedBytes(): number {
    return this.queue.available;
  }

  next(): CapsuleEvent {
    if (this.error) return this.error;
    for (;;) {
      if (this.state === 'header') {
        if (this.queue.available === 0) return { status: 'need-more' };
        const head = this.queue.peek(MAX_CAPSULE_HEADER_LENGTH);
        const t = decodeVarint(head, 0);
        if (t.status !== 'ok') return { status: 'need-more' };
        const l = decodeVarint(head, t.length);
        if (l.status !== 'ok') return { status: 'need-more' };
        this.queue.consume(t.length + l.length);
        this.type = t.value;
        this.length = l.value;
        this.remaining = l.value;
        const known = t.safe && (t.value === CAPSULE_CLOSE_WEBTRANSPORT_SESSION || t.value === CAPSULE_DRAIN_WEBTRANSPORT_SESSION);
        if (!known) {
          this.state = 'skip';
          continue;
        }
        if (t.value === CAPSULE_DRAIN_WEBTRANSPORT_SESSION && !(l.safe && l.value === 0)) {
          return this.fail('DRAIN_WEBTRANSPORT_SESSION capsule with a non-empty value');
        }
        if (t.value === CAPSULE_CLOSE_WEBTRANSPORT_SESSION && (!l.safe || l.value < 4 || l.value > MAX_CLOSE_CAPSULE_VALUE)) {
          return this.fail(`CLOSE_WEBTRANSPORT_SESSION capsule value of ${l.big} bytes (must be 4..${MAX_CLOSE_CAPSULE_VALUE})`);
        }
        this.state = 'buffer';
        continue;
      }
      if (this.state === 'skip') {
        const n = Math.min(this.queue.available, this.remaining);
        this.queue.consume(n);
        this.remaining -= n;
        if (this.remaining > 0) return { status: 'need-more' };
        this.state = 'header';
        return { status: 'skipped', type: this.type, length: this.length };
      }
      // buffer
      if (this.queue.available < this.remaining) return { status: 'need-more' };
      const value = this.queue.take(this.remaining);
      this.state = 'header';
      if (this.type === CAPSULE_DRAIN_WEBTRANSPORT_SESSION) return { status: 'drain' };
      const code = ((value[0] << 24) >>> 0) + ((value[1] << 16) | (value[2] << 8) | value[3]);
      return { status: 'close', code, reason: new TextDecoder('utf-8', { fatal: false }).decode(value.subarray(4)) };
    }
  }

  /** Call at the end of the CONNECT stream: a partial capsule is H3_MESSAGE_ERROR (RFC 9297 §3.3). */
  finish(): WireError | null {
    if (this.error) return this.error;
    if (this.state === 'header' && this.queue.available === 0) return null;
    return this.fail('stream ended inside a capsule');
  }

  private fail(detail: string): WireError {
    this.error = wireError(H3_MESSAGE_ERROR, detail);
    this.queue.clear();
    return this.error;
  }
}

/** Encodes any capsule. */
export function encodeCapsule(type: number, value: Uint8Array): Uint8Array {
  return new ByteWriter(value.length + 16).varint(type).varint(value.length).bytes(value).finish();
}

/**
 * Truncates `reason` to at most MAX_CLOSE_REASON_BYTES of UTF-8 without splitting a character.
 */
export function truncateCloseReason(reason: string): Uint8Array {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return bytes;
  let end = MAX_CLOSE_REASON_BYTES;
  // Back off over UTF-8 continuation bytes (10xxxxxx) so the cut lands on a character start.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/**
 * CLOSE_WEBTRANSPORT_SESSION capsule. `code` is a 32-bit application code; a reason longer than
 * 1024 UTF-8 bytes is truncated at a character boundary.
 */
export function encodeCloseSessionCapsule(code: number, reason: string): Uint8Array {
  if (!Number.isInteger(code) || code < 0 || code > 0xffffffff) throw new RangeError(`close code must be 32-bit unsigned, got ${code}`);
  const r = truncateCloseReason(reason);
  const value = new ByteWriter(4 + r.length).u32(code).bytes(r).finish();
  return encodeCapsule(CAPSULE_CLOSE_WEBTRANSPORT_SESSION, value);
}

/** DRAIN_WEBTRANSPORT_SESSION capsule. */
export function encodeDrainSessionCapsule(): Uint8Array {
  return encodeCapsule(CAPSULE_DRAIN_WEBTRANSPORT_SESSION, new Uint8Array(0));
}

/** The close capsule wrapped in an HTTP/3 DATA frame, ready for the CONNECT stream (send FIN after it). */
export function encodeCloseSessionData(code: number, reason: string): Uint8Array {
  return encodeDataFrame(encodeCloseSessionCapsule(code, reason));
}

/** The drain capsule wrapped in an HTTP/3 DATA frame, ready for the CONNECT stream. */
export function encodeDrainSessionData(): Uint8Array {
  return encodeDataFrame(encodeDrainSessionCapsule());
}
