/**
 * The hand-off between the game (main thread) and a WebTransport worker (worker-entry.ts): one
 * batch per event-loop turn and direction, packed into one ArrayBuffer that is transferred, not
 * copied (postMessage's transfer list). I/O-free: this file packs and reads batches; the pool
 * (worker-pool.ts) and the worker post them.
 *
 * A batch is a run of records, each a fixed 12-byte header then its payload:
 *
 *   u8 op | u8 flags | u16 0 | u32 connection | u32 payload length | payload
 *
 * little-endian. `connection` is the worker's number for one WebTransport session (never reused
 * by that worker). Records of one connection keep their order within a batch and across batches
 * (one MessagePort per worker is FIFO), so a reliable message, a close and a drain arrive in the
 * order the game made them.
 *
 * Flow control: every batch counts its bytes as produced on the sending side; the receiving
 * side adds them to a shared counter (`HandoffCounters`, an Int32Array on a SharedArrayBuffer)
 * once it has read the batch. Produced minus consumed is what sits in the port between the
 * threads; MAX_HANDOFF_INFLIGHT_BYTES bounds it (see its comment for what happens past it).
 */

import { DROP_REASONS, type DropReason } from '../../../shared/errors.js';
import type { ProtocolError } from '../connection.js';

/** Record types. Main to worker: 1-4; worker to main: 10-16. */
export const Op = {
  /** Main to worker: one unreliable message; flag REPLACE = latest wins among its type. */
  UNRELIABLE: 1,
  /** Main to worker: one reliable message (the worker frames it). */
  RELIABLE: 2,
  /** Main to worker: close the session; payload = closePayload(code, reason). */
  CLOSE: 3,
  /** Main to worker: send the transport's drain (DRAIN capsule). */
  DRAIN: 4,
  /** Worker to main: a session opened; payload = openPayload(maxUnreliable, remoteAddress). */
  OPEN: 10,
  /** Worker to main: one unreliable message from the peer. */
  UNRELIABLE_IN: 11,
  /** Worker to main: one reliable message from the peer (already unframed). */
  RELIABLE_IN: 12,
  /** Worker to main: the session ended; payload = closePayload(code, reason) + u8 byPeer. */
  CLOSED: 13,
  /** Worker to main: the datagram budget changed; payload = u16 maxUnreliable. */
  BUDGET: 14,
  /** Worker to main: drop totals of the session in the worker; payload = u32 dropped, u32 replaced. */
  DROPS: 15,
  /**
   * Worker to main: the peer broke the reliable stream's framing (connection.ts ProtocolError);
   * the session stays open for the game's `error` message. payload = protocolErrorPayload(error).
   */
  PROTOCOL_ERROR: 16,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];

/** Record flags. */
export const Flag = {
  /** UNRELIABLE: replaces older queued messages of the same type (its first byte). */
  REPLACE: 1,
  /** Any record: replaced before it left (latest wins inside the batch); the reader skips it. */
  SKIP: 2,
} as const;

/** Bytes of a record header. */
export const RECORD_HEADER_BYTES = 12;

/**
 * Largest batch buffer. A tick of P=384 snapshots of ~600 bytes is ~230 KB, so one batch carries
 * a tick; a turn that writes more posts a full batch and starts another, and a record larger
 * than this (a reliable message may be 256 KiB, shared/limits.ts) gets a buffer of its own size.
 */
export const HANDOFF_BATCH_BYTES = 512 * 1024;

/**
 * Smallest batch buffer. Buffers are sized to what the last batches needed (a power of two
 * between this and HANDOFF_BATCH_BYTES) and grow by doubling within a turn: every batch is a new
 * ArrayBuffer (it moves to the other thread), which V8 zero-fills and counts as external memory,
 * so 512 KiB per batch of a few datagrams cost more than the datagrams (measured: the datagram
 * echo through a worker at 2x the CPU of the in-thread echo, most of it GC and allocation).
 */
export const HANDOFF_MIN_BATCH_BYTES = 4 * 1024;

/**
 * Bytes one direction may have posted and not yet read by the other thread (per worker). Past
 * it the receiving thread is not keeping up: unreliable messages are dropped at once (counted;
 * they are stale by the time they would be read), reliable ones still go until twice this, and
 * past that the connection that wants to send is closed (INTERNAL_ERROR, counted) rather than
 * letting memory grow. 8 MiB is ~35 ticks of a P=384 room's snapshots: far beyond a GC pause.
 */
export const MAX_HANDOFF_INFLIGHT_BYTES = 8 * 1024 * 1024;

/**
 * How long a worker holds what its peers sent before posting it to the main thread. A message
 * between threads costs ~25 µs of CPU (post, wake the other thread, dispatch: measured here with
 * a ping-pong of transferred buffers), so one batch per worker turn at P=384 (7,700 inputs a
 * second arriving a few per turn) would cost more than the inputs; held 2 ms, at most 500 batches
 * a second go. Inputs wait for the next tick (16.7 ms at 60 Hz) anyway. The main thread posts
 * once per turn: a tick's snapshots are one turn.
 */
export const HANDOFF_COALESCE_MS = 2;

/** A batch this large goes at the end of the turn without waiting HANDOFF_COALESCE_MS. */
export const HANDOFF_EAGER_BYTES = 64 * 1024;

/** A packed batch, ready to post (transfer `buffer`). */
export interface Batch {
  buffer: ArrayBuffer;
  /** Bytes used. */
  length: number;
}

/**
 * Writes records into batch buffers. `onFull` gets a batch that has no room for the next
 * record; `take()` hands over the current one (end of the loop turn).
 */
export class BatchWriter {
  private buf: ArrayBuffer;
  private u8: Uint8Array;
  private view: DataView;
  private used = 0;
  /** Size of the batches handed over lately (decays), for the next buffer's size. */
  private recent = 0;
  /** Increments with every batch handed over: offsets of an earlier batch are stale. */
  generation = 0;

  constructor(private readonly onFull: (batch: Batch) => void, private readonly capacity = HANDOFF_BATCH_BYTES) {
    this.buf = new ArrayBuffer(Math.min(capacity, HANDOFF_MIN_BATCH_BYTES));
    this.u8 = new Uint8Array(this.buf);
    this.view = new DataView(this.buf);
  }

  /** Bytes written to the current batch. */
  get pending(): number {
    return this.used;
  }

  /**
   * Appends a record; returns its offset in the current batch (for `skip`). `payload` is copied.
   */
  put(op: OpCode, flags: number, conn: number, payload: Uint8Array): number {
    const at = this.reserve(op, flags, conn, payload.byteLength);
    this.u8.set(payload, at + RECORD_HEADER_BYTES);
    return at;
  }

  /** Appends a record whose payload the caller writes at `payloadAt` of `bytes()` (length `len`). */
  reserve(op: OpCode, flags: number, conn: number, len: number): number {
    const need = RECORD_HEADER_BYTES + len;
    if (this.used + need > this.u8.byteLength || (this.used > 0 && this.used + need > this.capacity)) this.makeRoom(need);
    const at = this.used;
    const v = this.view;
    v.setUint8(at, op);
    v.setUint8(at + 1, flags);
    v.setUint16(at + 2, 0, true);
    v.setUint32(at + 4, conn, true);
    v.setUint32(at + 8, len, true);
    this.used = at + need;
    return at;
  }

  /** The current batch's bytes, for writing a reserved payload at `offset + RECORD_HEADER_BYTES`. */
  bytes(): Uint8Array {
    return this.u8;
  }

  /** Marks the record at `offset` of the current batch SKIP (it was replaced). */
  skip(offset: number): void {
    this.u8[offset + 1] |= Flag.SKIP;
  }

  /** The current batch (null when empty); the writer starts a new one. */
  take(): Batch | null {
    return this.used > 0 ? this.detach() : null;
  }

  /** Room for `need` more bytes: a larger buffer (copying), or else the full batch goes out. */
  private makeRoom(need: number): void {
    const want = this.used + need;
    if (want <= this.capacity) {
      // Grow within the turn: offsets stay valid (same generation), the bytes move along.
      const old = this.u8.subarray(0, this.used);
      this.fresh(powerOfTwoAtLeast(want));
      this.u8.set(old);
      this.used = old.byteLength;
      return;
    }
    if (this.used > 0) this.onFull(this.detach());
    if (need > this.u8.byteLength) this.fresh(Math.max(need, powerOfTwoAtLeast(Math.min(need, this.capacity))));
  }

  private detach(): Batch {
    const batch = { buffer: this.buf, length: this.used };
    this.generation++;
    // The next buffer fits what recent batches needed (half-life of a few batches).
    this.recent = Math.max(this.used, this.recent * 0.75);
    this.fresh(powerOfTwoAtLeast(Math.min(this.capacity, Math.max(HANDOFF_MIN_BATCH_BYTES, this.recent))));
    return batch;
  }

  private fresh(size: number): void {
    this.buf = new ArrayBuffer(size);
    this.u8 = new Uint8Array(this.buf);
    this.view = new DataView(this.buf);
    this.used = 0;
  }
}

/** The smallest power of two >= n (n >= 1). */
function powerOfTwoAtLeast(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}

/** What `readBatch` calls for each record not marked SKIP; `payload` is a view into the batch. */
export type RecordVisitor = (op: number, flags: number, conn: number, payload: Uint8Array) => void;

/**
 * Calls `visit` for every record of a batch, in order. A truncated record ends the walk (a bug
 * of ours, since both ends are our code); returns false then.
 */
export function readBatch(buffer: ArrayBuffer, length: number, visit: RecordVisitor): boolean {
  const view = new DataView(buffer, 0, length);
  const u8 = new Uint8Array(buffer, 0, length);
  let at = 0;
  while (at + RECORD_HEADER_BYTES <= length) {
    const op = view.getUint8(at);
    const flags = view.getUint8(at + 1);
    const conn = view.getUint32(at + 4, true);
    const len = view.getUint32(at + 8, true);
    const start = at + RECORD_HEADER_BYTES;
    if (start + len > length) return false;
    if ((flags & Flag.SKIP) === 0) visit(op, flags, conn, u8.subarray(start, start + len));
    at = start + len;
  }
  return at === length;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Longest close reason carried (bytes): WebTransport's own cap (draft-ietf-webtrans-http3 §5). */
export const MAX_REASON_BYTES = 1024;

/** CLOSE / CLOSED payload: u32 code, then the reason (UTF-8, at most MAX_REASON_BYTES), then `tail`. */
export function closePayload(code: number, reason: string, tail?: number): Uint8Array {
  const text = encoder.encode(reason).subarray(0, MAX_REASON_BYTES);
  const out = new Uint8Array(4 + text.byteLength + (tail === undefined ? 0 : 1));
  new DataView(out.buffer).setUint32(0, code >>> 0, true);
  out.set(text, 4);
  if (tail !== undefined) out[out.byteLength - 1] = tail;
  return out;
}

/** Reads a CLOSE (`withTail` false) or CLOSED (`withTail` true: the last byte is byPeer) payload. */
export function readClosePayload(p: Uint8Array, withTail: boolean): { code: number; reason: string; byPeer: boolean } {
  const code = p.byteLength >= 4 ? new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(0, true) : 0;
  const end = withTail ? Math.max(4, p.byteLength - 1) : p.byteLength;
  return { code, reason: decoder.decode(p.subarray(Math.min(4, p.byteLength), end)), byPeer: withTail && p.byteLength > 4 && p[p.byteLength - 1] === 1 };
}

/** OPEN payload: u16 datagram budget, then the peer's address (IP without a port, UTF-8). */
export function openPayload(maxUnreliable: number, remoteAddress: string): Uint8Array {
  const text = encoder.encode(remoteAddress);
  const out = new Uint8Array(2 + text.byteLength);
  new DataView(out.buffer).setUint16(0, maxUnreliable, true);
  out.set(text, 2);
  return out;
}

export function readOpenPayload(p: Uint8Array): { maxUnreliable: number; remoteAddress: string } {
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return { maxUnreliable: p.byteLength >= 2 ? v.getUint16(0, true) : 0, remoteAddress: decoder.decode(p.subarray(2)) };
}

/**
 * PROTOCOL_ERROR payload: u32 close code, u8 length of the drop reason, the drop reason, then
 * the kind (both ASCII labels of a fixed set, connection.ts ProtocolError).
 */
export function protocolErrorPayload(error: ProtocolError): Uint8Array {
  const reason = encoder.encode(error.reason);
  const kind = encoder.encode(error.kind);
  const out = new Uint8Array(5 + reason.byteLength + kind.byteLength);
  new DataView(out.buffer).setUint32(0, error.code >>> 0, true);
  out[4] = reason.byteLength;
  out.set(reason, 5);
  out.set(kind, 5 + reason.byteLength);
  return out;
}

/** Reads a PROTOCOL_ERROR payload (a reason that is not a drop reason reads as 'decode'). */
export function readProtocolErrorPayload(p: Uint8Array): ProtocolError {
  const code = readU32(p, 0);
  const len = p.byteLength >= 5 ? p[4] : 0;
  const reason = decoder.decode(p.subarray(5, 5 + len));
  return {
    code,
    reason: (DROP_REASONS as readonly string[]).includes(reason) ? (reason as DropReason) : 'decode',
    kind: decoder.decode(p.subarray(5 + len)),
  };
}

/** u16 / u32-pair payloads of BUDGET and DROPS, read back by `readU16` / `readU32`. */
export function u16Payload(value: number): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value, true);
  return out;
}

export function u32Payload(a: number, b: number): Uint8Array {
  const out = new Uint8Array(8);
  const v = new DataView(out.buffer);
  v.setUint32(0, a >>> 0, true);
  v.setUint32(4, b >>> 0, true);
  return out;
}

export function readU16(p: Uint8Array, at = 0): number {
  return p.byteLength >= at + 2 ? p[at] | (p[at + 1] << 8) : 0;
}

export function readU32(p: Uint8Array, at = 0): number {
  return p.byteLength >= at + 4 ? (p[at] | (p[at + 1] << 8) | (p[at + 2] << 16) | (p[at + 3] << 24)) >>> 0 : 0;
}

/**
 * Bytes read by each side, on a SharedArrayBuffer both threads see: index 0 = main-to-worker
 * bytes the worker has read, 1 = worker-to-main bytes the main thread has read. Counted modulo
 * 2^32 (in flight is `(produced - consumed) >>> 0`, exact while under 4 GiB).
 */
export class HandoffCounters {
  readonly shared: SharedArrayBuffer;
  private readonly cells: Int32Array;

  constructor(shared?: SharedArrayBuffer) {
    this.shared = shared ?? new SharedArrayBuffer(8);
    this.cells = new Int32Array(this.shared);
  }

  consumed(direction: 0 | 1, bytes: number): void {
    Atomics.add(this.cells, direction, bytes | 0);
  }

  inFlight(direction: 0 | 1, produced: number): number {
    return ((produced | 0) - Atomics.load(this.cells, direction)) >>> 0;
  }
}

/** Direction indexes of `HandoffCounters`. */
export const TO_WORKER = 0;
export const TO_MAIN = 1;
