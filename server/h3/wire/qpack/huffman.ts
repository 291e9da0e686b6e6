/**
 * The HPACK Huffman code (RFC 7541 Appendix B), used by QPACK string literals (RFC 9204 §4.1.2).
 *
 * The code is canonical: within each code length, codes are consecutive in symbol order, and
 * shorter codes come first. So the table is fully described by each symbol's code length, and the
 * codes are rebuilt from the lengths at load time (the tests check them against the RFC's codes).
 */

/** Code length in bits of symbols 0..255 and EOS (256), RFC 7541 Appendix B. */
const CODE_LENGTHS: readonly number[] = [
  // 0-31: control characters
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  // 32-63: ' ' ! " # $ % & ' ( ) * + , - . / 0-9 : ; < = > ?
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  // 64-95: @ A-Z [ \ ] ^ _
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  // 96-127: ` a-z { | } ~ DEL
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  // 128-255
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  // 256: EOS
  30,
];

export const HUFFMAN_EOS = 256;
const MAX_CODE_LENGTH = 30;

/** Code of each symbol (right-aligned in `HUFFMAN_LENGTHS[sym]` bits). */
export const HUFFMAN_CODES: readonly number[] = buildCanonicalCodes(CODE_LENGTHS);
export const HUFFMAN_LENGTHS: readonly number[] = CODE_LENGTHS;

function buildCanonicalCodes(lengths: readonly number[]): number[] {
  const order = lengths.map((len, sym) => ({ len, sym })).sort((a, b) => a.len - b.len || a.sym - b.sym);
  const codes = new Array<number>(lengths.length).fill(0);
  let code = 0;
  let prevLen = order[0].len;
  for (const { len, sym } of order) {
    code *= 2 ** (len - prevLen);
    prevLen = len;
    codes[sym] = code;
    code += 1;
  }
  return codes;
}

// Canonical decoding tables: for each length, the first code, the number of codes, and where its
// symbols start in the length-sorted symbol list.
const SORTED_SYMBOLS: number[] = CODE_LENGTHS.map((len, sym) => ({ len, sym })).sort((a, b) => a.len - b.len || a.sym - b.sym).map((x) => x.sym);
const FIRST_CODE = new Array<number>(MAX_CODE_LENGTH + 1).fill(0);
const COUNT = new Array<number>(MAX_CODE_LENGTH + 1).fill(0);
const OFFSET = new Array<number>(MAX_CODE_LENGTH + 1).fill(0);
{
  for (const len of CODE_LENGTHS) COUNT[len]++;
  let offset = 0;
  for (let len = 1; len <= MAX_CODE_LENGTH; len++) {
    OFFSET[len] = offset;
    offset += COUNT[len];
    const firstSym = SORTED_SYMBOLS[OFFSET[len]];
    FIRST_CODE[len] = COUNT[len] > 0 ? HUFFMAN_CODES[firstSym] : 0;
  }
}

/** Length in bytes of the Huffman encoding of `data` (with padding). */
export function huffmanEncodedLength(data: Uint8Array): number {
  let bits = 0;
  for (const b of data) bits += CODE_LENGTHS[b];
  return Math.ceil(bits / 8);
}

/** Huffman-encodes `data`, padding the last byte with the most significant bits of EOS (all ones). */
export function huffmanEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(huffmanEncodedLength(data));
  let acc = 0; // pending bits, at most 7 + 30 < 53: exact in a double
  let nbits = 0;
  let o = 0;
  for (const b of data) {
    acc = acc * 2 ** CODE_LENGTHS[b] + HUFFMAN_CODES[b];
    nbits += CODE_LENGTHS[b];
    while (nbits >= 8) {
      nbits -= 8;
      const div = 2 ** nbits;
      out[o++] = Math.floor(acc / div) & 0xff;
      acc %= div;
    }
  }
  if (nbits > 0) out[o++] = ((acc << (8 - nbits)) | (0xff >> nbits)) & 0xff;
  return out;
}

export type HuffmanDecodeResult =
  | { status: 'ok'; bytes: Uint8Array }
  | { status: 'invalid'; reason: 'eos' | 'padding-too-long' | 'padding-not-eos' | 'too-long' };

/**
 * Decodes a Huffman-encoded string. Per RFC 7541 §5.2 it rejects: an EOS symbol inside the string,
 * padding longer than 7 bits, and padding that is not the EOS prefix (all ones). Output longer
 * than `maxLength` is rejected as `too-long` (a bound on decompression). Never throws.
 */
export function huffmanDecode(data: Uint8Array, maxLength: number): HuffmanDecodeResult {
  // Output is at most 8/5 of the input (shortest code is 5 bits).
  const out = new Uint8Array(Math.min(maxLength, Math.floor((data.length * 8) / 5)));
  let o = 0;
  let code = 0;
  let len = 0;
  let allOnes = true;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i];
    for (let bit = 7; bit >= 0; bit--) {
      const b = (byte >> bit) & 1;
      code = code * 2 + b;
      len++;
      if (b === 0) allOnes = false;
      const idx = code - FIRST_CODE[len];
      if (COUNT[len] > 0 && idx >= 0 && idx < COUNT[len]) {
        const sym = SORTED_SYMBOLS[OFFSET[len] + idx];
        if (sym === HUFFMAN_EOS) return { status: 'invalid', reason: 'eos' };
        if (o >= out.length) return { status: 'invalid', reason: 'too-long' };
        out[o++] = sym;
        code = 0;
        len = 0;
        allOnes = true;
      } else if (len >= MAX_CODE_LENGTH) {
        // Only EOS has a 30-bit all-ones code; any other 30-bit string is not in the code.
        return { status: 'invalid', reason: 'padding-not-eos' };
      }
    }
  }
  if (len > 7) return { status: 'invalid', reason: 'padding-too-long' };
  if (!allOnes) return { status: 'invalid', reason: 'padding-not-eos' };
  return { status: 'ok', bytes: out.subarray(0, o) };
}
