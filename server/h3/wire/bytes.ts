/**
 * Small cursor helpers for building and reading wire messages. They hold no limits of their own:
 * each codec bounds its input before reading.
 */
import { decodeVarint, varintLength, writeVarint, type VarintOk } from './varint.js';

/** Builds a byte sequence; grows as needed. */
export class ByteWriter {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initialCapacity = 64) {
    this.buf = new Uint8Array(Math.max(8, initialCapacity));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** Appends a QUIC varint (RFC 9000 §16), shortest form. */
  varint(value: number | bigint): this {
    const n = varintLength(value);
    this.reserve(n);
    this.pos = writeVarint(this.buf, this.pos, value);
    return this;
  }

  u8(value: number): this {
    this.reserve(1);
    this.buf[this.pos++] = value & 0xff;
    return this;
  }

  /** Appends a 32-bit unsigned big-endian integer (network byte order). */
  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`u32 out of range: ${value}`);
    this.reserve(4);
    this.buf[this.pos++] = value >>> 24;
    this.buf[this.pos++] = (value >>> 16) & 0xff;
    this.buf[this.pos++] = (value >>> 8) & 0xff;
    this.buf[this.pos++] = value & 0xff;
    return this;
  }

  bytes(data: Uint8Array): this {
    this.reserve(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  /** A copy of the bytes written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Reads from a byte array with a cursor; every read returns `undefined` when input is short. */
export class ByteReader {
  offset: number;

  constructor(readonly bytes: Uint8Array, offset = 0) {
    this.offset = offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  /** Reads a varint; `undefined` when truncated (the cursor does not move then). */
  varint(): VarintOk | undefined {
    const r = decodeVarint(this.bytes, this.offset);
    if (r.status !== 'ok') return undefined;
    this.offset += r.length;
    return r;
  }

  u8(): number | undefined {
    if (this.offset >= this.bytes.length) return undefined;
    return this.bytes[this.offset++];
  }

  u32(): number | undefined {
    if (this.remaining < 4) return undefined;
    const b = this.bytes;
    const o = this.offset;
    this.offset += 4;
    return ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);
  }

  /** A view (not a copy) of the next `n` bytes. */
  take(n: number): Uint8Array | undefined {
    if (n < 0 || this.remaining < n) return undefined;
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** A view of everything left. */
  rest(): Uint8Array {
    const v = this.bytes.subarray(this.offset);
    this.offset = this.bytes.length;
    return v;
  }
}

/** Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
