/**
 * QUIC variable-length integers (RFC 9000 §16).
 *
 * The two most significant bits of the first byte give the length (1, 2, 4 or 8 bytes); the
 * remaining 6, 14, 30 or 62 bits hold the value, big-endian. Values go up to 2^62-1. RFC 9000
 * §16 does not require the shortest form, so decoding accepts any length; encoding always picks
 * the shortest.
 *
 * JavaScript numbers are exact only up to 2^53-1. Decoding reports such larger values with
 * `safe: false` (the `value` field is then the nearest double and must not be used for identity
 * or arithmetic); callers that only need to ignore them (GREASE setting ids, unknown frame types)
 * can do so, and callers that need them exactly use `big`.
 */

/** Largest value a QUIC varint can carry: 2^62-1 (RFC 9000 §16). */
export const VARINT_MAX = (1n << 62n) - 1n;
/** Largest varint value that is also an exact JS number. */
export const VARINT_MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A decoded varint. */
export interface VarintOk {
  status: 'ok';
  /** The value; exact only when `safe` is true. */
  value: number;
  /** False when the value exceeds 2^53-1 (then `value` is rounded; use `big`). */
  safe: boolean;
  /** The exact value. */
  big: bigint;
  /** Bytes consumed (1, 2, 4 or 8). */
  length: number;
}

/** Not enough bytes yet: `needed` is the total byte count the varint will occupy. */
export interface VarintNeedMore {
  status: 'need-more';
  needed: number;
}

export type VarintResult = VarintOk | VarintNeedMore;

/** Encoded length of `value` in bytes (1, 2, 4 or 8). Throws RangeError outside 0..2^62-1. */
export function varintLength(value: number | bigint): 1 | 2 | 4 | 8 {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`varint: not a non-negative integer: ${value}`);
    if (value < 0x40) return 1;
    if (value < 0x4000) return 2;
    if (value < 0x40000000) return 4;
    if (value > VARINT_MAX_SAFE) throw new RangeError(`varint: ${value} is not an exact JS number; pass a bigint`);
    return 8;
  }
  if (value < 0n || value > VARINT_MAX) throw new RangeError(`varint: out of range: ${value}`);
  if (value < 0x40n) return 1;
  if (value < 0x4000n) return 2;
  if (value < 0x40000000n) return 4;
  return 8;
}

/**
 * Writes `value` at `offset` in the shortest form and returns the offset after it.
 * Throws RangeError when the value is out of range or `out` is too short (a caller bug: size the
 * buffer with `varintLength`).
 */
export function writeVarint(out: Uint8Array, offset: number, value: number | bigint): number {
  const len = varintLength(value);
  if (offset + len > out.length) throw new RangeError('varint: output buffer too short');
  if (len === 8) {
    let v = BigInt(value);
    for (let i = 7; i >= 0; i--) {
      out[offset + i] = Number(v & 0xffn);
      v >>= 8n;
    }
    out[offset] |= 0xc0;
    return offset + 8;
  }
  const n = Number(value);
  if (len === 1) {
    out[offset] = n;
  } else if (len === 2) {
    out[offset] = 0x40 | (n >>> 8);
    out[offset + 1] = n & 0xff;
  } else {
    out[offset] = 0x80 | (n >>> 24);
    out[offset + 1] = (n >>> 16) & 0xff;
    out[offset + 2] = (n >>> 8) & 0xff;
    out[offset + 3] = n & 0xff;
  }
  return offset + len;
}

/** Encodes `value` as a fresh byte array in the shortest form. */
export function encodeVarint(value: number | bigint): Uint8Array {
  const out = new Uint8Array(varintLength(value));
  writeVarint(out, 0, value);
  return out;
}

/**
 * Decodes the varint at `offset`. Never throws: a truncated varint is `need-more` (no byte
 * sequence is a malformed varint, since non-minimal forms are allowed).
 */
export function decodeVarint(bytes: Uint8Array, offset = 0): VarintResult {
  if (offset >= bytes.length) return { status: 'need-more', needed: 1 };
  const first = bytes[offset];
  const length = 1 << (first >> 6);
  if (offset + length > bytes.length) return { status: 'need-more', needed: length };
  if (length === 1) return { status: 'ok', value: first, safe: true, big: BigInt(first), length };
  if (length === 2) {
    const v = ((first & 0x3f) << 8) | bytes[offset + 1];
    return { status: 'ok', value: v, safe: true, big: BigInt(v), length };
  }
  if (length === 4) {
    const v = (first & 0x3f) * 0x1000000 + ((bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]);
    return { status: 'ok', value: v, safe: true, big: BigInt(v), length };
  }
  // 8 bytes: 62 bits. High 30 bits and low 32 bits as numbers, combined exactly when safe.
  const hi = (first & 0x3f) * 0x1000000 + ((bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3]);
  const lo = ((bytes[offset + 4] << 24) >>> 0) + ((bytes[offset + 5] << 16) | (bytes[offset + 6] << 8) | bytes[offset + 7]);
  const big = (BigInt(hi) << 32n) | BigInt(lo);
  const safe = big <= BigInt(VARINT_MAX_SAFE);
  return { status: 'ok', value: safe ? hi * 0x100000000 + lo : Number(big), safe, big, length: 8 };
}
