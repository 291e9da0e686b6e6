/**
 * Prefixed integers (RFC 7541 §5.1, used by QPACK per RFC 9204 §4.1.1): an N-bit prefix in the
 * low bits of the first byte; if it is all ones, continuation bytes follow, 7 bits each,
 * least significant group first.
 */

/**
 * Largest prefixed integer the decoder accepts. Every integer QPACK sends us is an index, a
 * length or a count bounded far below this by our limits; anything bigger is an attack or garbage
 * (RFC 7541 §5.1: "Integer encodings that exceed implementation limits ... MUST be treated as
 * decoding errors").
 */
export const MAX_PREFIXED_INTEGER = 2 ** 32 - 1;

export type PrefixedIntResult =
  | { status: 'ok'; value: number; length: number }
  | { status: 'need-more' }
  | { status: 'overflow' };

/** Decodes a prefixed integer whose first byte is at `offset`, with a `prefixBits`-bit prefix (1..8). Never throws. */
export function decodePrefixedInt(bytes: Uint8Array, offset: number, prefixBits: number): PrefixedIntResult {
  if (offset >= bytes.length) return { status: 'need-more' };
  const max = (1 << prefixBits) - 1;
  let value = bytes[offset] & max;
  if (value < max) return { status: 'ok', value, length: 1 };
  let scale = 1;
  for (let i = offset + 1; i < bytes.length; i++) {
    const b = bytes[i];
    value += (b & 0x7f) * scale;
    if (value > MAX_PREFIXED_INTEGER) return { status: 'overflow' };
    if ((b & 0x80) === 0) return { status: 'ok', value, length: i - offset + 1 };
    scale *= 128;
    // Continuation bytes that add only zeros still cost input; bound them too.
    if (scale > 2 ** 35) return { status: 'overflow' };
  }
  return { status: 'need-more' };
}

/**
 * Appends a prefixed integer to `out`. `flags` holds the bits above the prefix in the first byte.
 * Throws RangeError for a negative or non-integer value (a caller bug).
 */
export function encodePrefixedInt(out: number[], value: number, prefixBits: number, flags: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`prefixed integer out of range: ${value}`);
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push((flags | value) & 0xff);
    return;
  }
  out.push((flags | max) & 0xff);
  value -= max;
  while (value >= 128) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}
