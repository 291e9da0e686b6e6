/**
 * QPACK field sections (RFC 9204 §4.5) for a decoder whose dynamic table capacity is 0, which is
 * what our SETTINGS announce (QPACK_MAX_TABLE_CAPACITY = 0). So:
 * - the encoded Required Insert Count must be 0 and Base non-negative (§4.5.1);
 * - indexed and name-reference lines must use the static table (T=1); any dynamic or post-base
 *   reference is QPACK_DECOMPRESSION_FAILED (§2.2.3, §4.5.2-4.5.6);
 * - string literals may be Huffman-coded (§4.1.2, RFC 7541 Appendix B).
 * Field names and values are byte strings on the wire; they are mapped 1:1 to JS strings with
 * code points 0..255 (ISO-8859-1), so validation above can see every byte.
 */
import { H3_EXCESSIVE_LOAD, QPACK_DECOMPRESSION_FAILED, wireError, type WireError } from '../errors.js';
import { decodePrefixedInt, encodePrefixedInt } from './integer.js';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.js';
import { findStaticEntry, QPACK_STATIC_TABLE } from './static-table.js';

/** A field line: name (lowercase on the wire for HTTP/3) and value. */
export type HeaderField = readonly [name: string, value: string];

/**
 * Largest decoded field section we accept, measured as in RFC 9114 §4.2.2 (sum over fields of
 * name length + value length + 32). A WebTransport CONNECT from a browser is under 1 KB.
 */
export const MAX_FIELD_SECTION_SIZE = 16 * 1024;
/** Most field lines in one section. */
export const MAX_FIELD_LINES = 128;
/** Per-field overhead in the section size (RFC 9114 §4.2.2, as RFC 7541 §4.1). */
const FIELD_OVERHEAD = 32;

export type FieldSectionResult = { status: 'ok'; headers: HeaderField[] } | WireError;

export interface DecodeFieldSectionOptions {
  /** Decoded size limit (RFC 9114 §4.2.2 measure); default MAX_FIELD_SECTION_SIZE. */
  maxSize?: number;
}

/**
 * Decodes an encoded field section (a HEADERS frame payload). Errors: malformed or referencing
 * the dynamic table -> QPACK_DECOMPRESSION_FAILED (RFC 9204 §6); bigger than the size limit ->
 * H3_EXCESSIVE_LOAD. Never throws.
 */
export function decodeFieldSection(block: Uint8Array, options: DecodeFieldSectionOptions = {}): FieldSectionResult {
  const maxSize = options.maxSize ?? MAX_FIELD_SECTION_SIZE;
  const fail = (detail: string): WireError => wireError(QPACK_DECOMPRESSION_FAILED, detail);
  // Encoded Field Section Prefix (§4.5.1): Required Insert Count (8-bit prefix), S + Delta Base (7-bit prefix).
  const ric = decodePrefixedInt(block, 0, 8);
  if (ric.status !== 'ok') return fail('field section prefix truncated or oversized');
  if (ric.value !== 0) return fail('Required Insert Count != 0 with a zero-capacity dynamic table');
  let pos = ric.length;
  const db = decodePrefixedInt(block, pos, 7);
  if (db.status !== 'ok') return fail('field section prefix truncated or oversized');
  // With Required Insert Count 0, a sign bit of 1 makes Base = -DeltaBase-1 < 0 (§4.5.1.2).
  if ((block[pos] & 0x80) !== 0) return fail('negative Base');
  pos += db.length;

  const headers: HeaderField[] = [];
  let size = 0;
  while (pos < block.length) {
    if (headers.length >= MAX_FIELD_LINES) return wireError(H3_EXCESSIVE_LOAD, `more than ${MAX_FIELD_LINES} field lines`);
    const b = block[pos];
    let name: string;
    let value: string;
    if ((b & 0x80) !== 0) {
      // Indexed Field Line (§4.5.2): 1 T index(6).
      if ((b & 0x40) === 0) return fail('indexed field line references the dynamic table');
      const idx = decodePrefixedInt(block, pos, 6);
      if (idx.status !== 'ok') return fail('indexed field line truncated');
      if (idx.value >= QPACK_STATIC_TABLE.length) return fail(`static index ${idx.value} out of range`);
      pos += idx.length;
      [name, value] = QPACK_STATIC_TABLE[idx.value];
    } else if ((b & 0x40) !== 0) {
      // Literal Field Line with Name Reference (§4.5.4): 0 1 N T index(4), then the value.
      if ((b & 0x10) === 0) return fail('literal with name reference into the dynamic table');
      const idx = decodePrefixedInt(block, pos, 4);
      if (idx.status !== 'ok') return fail('name reference truncated');
      if (idx.value >= QPACK_STATIC_TABLE.length) return fail(`static index ${idx.value} out of range`);
      pos += idx.length;
      name = QPACK_STATIC_TABLE[idx.value][0];
      const v = readString(block, pos, 7, maxSize);
      if (v.status !== 'ok') return fail(`field value: ${v.status}`);
      pos = v.end;
      value = v.text;
    } else if ((b & 0x20) !== 0) {
      // Literal Field Line with Literal Name (§4.5.6): 0 0 1 N H nameLen(3), name, then the value.
      const n = readString(block, pos, 3, maxSize);
      if (n.status !== 'ok') return fail(`field name: ${n.status}`);
      pos = n.end;
      const v = readString(block, pos, 7, maxSize);
      if (v.status !== 'ok') return fail(`field value: ${v.status}`);
      pos = v.end;
      name = n.text;
      value = v.text;
    } else {
      // 0001xxxx: Indexed Field Line with Post-Base Index (§4.5.3);
      // 0000xxxx: Literal Field Line with Post-Base Name Reference (§4.5.5). Both need the dynamic table.
      return fail('post-base reference with a zero-capacity dynamic table');
    }
    size += name.length + value.length + FIELD_OVERHEAD;
    if (size > maxSize) return wireError(H3_EXCESSIVE_LOAD, `field section larger than ${maxSize}`);
    headers.push([name, value]);
  }
  return { status: 'ok', headers };
}

type StringRead = { status: 'ok'; text: string; end: number } | { status: 'truncated' | 'oversized' | 'bad-huffman' };

/**
 * Reads a string literal whose H bit sits just above a `prefixBits`-bit length prefix
 * (RFC 9204 §4.1.2).
 */
function readString(block: Uint8Array, pos: number, prefixBits: number, maxLength: number): StringRead {
  if (pos >= block.length) return { status: 'truncated' };
  const huffman = (block[pos] & (1 << prefixBits)) !== 0;
  const len = decodePrefixedInt(block, pos, prefixBits);
  if (len.status === 'overflow') return { status: 'oversized' };
  if (len.status !== 'ok') return { status: 'truncated' };
  const start = pos + len.length;
  const end = start + len.value;
  if (end > block.length) return { status: 'truncated' };
  const raw = block.subarray(start, end);
  if (!huffman) {
    if (raw.length > maxLength) return { status: 'oversized' };
    return { status: 'ok', text: bytesToLatin1(raw), end };
  }
  const d = huffmanDecode(raw, maxLength);
  if (d.status !== 'ok') return { status: d.reason === 'too-long' ? 'oversized' : 'bad-huffman' };
  return { status: 'ok', text: bytesToLatin1(d.bytes), end };
}

function bytesToLatin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

function latin1ToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new RangeError('field names and values must be byte strings (code points 0..255)');
    out[i] = c;
  }
  return out;
}

export interface EncodeFieldSectionOptions {
  /** 'auto' (default) Huffman-codes a string when that is shorter; true/false force it. */
  huffman?: boolean | 'auto';
}

/**
 * Encodes a field section without the dynamic table (Required Insert Count 0, Base 0): static
 * indexed lines for exact static matches, static name references where only the name matches,
 * literal names otherwise. Throws RangeError for strings with code points above 255 (a caller bug).
 */
export function encodeFieldSection(headers: Iterable<HeaderField>, options: EncodeFieldSectionOptions = {}): Uint8Array {
  const mode = options.huffman ?? 'auto';
  const out: number[] = [0x00, 0x00]; // Required Insert Count 0; S=0, Delta Base 0.
  for (const [name, value] of headers) {
    const s = findStaticEntry(name, value);
    if (s?.exact) {
      encodePrefixedInt(out, s.index, 6, 0xc0); // 1 T=1 index
      continue;
    }
    if (s) {
      encodePrefixedInt(out, s.index, 4, 0x50); // 0 1 N=0 T=1 index
    } else {
      writeString(out, latin1ToBytes(name), 3, 0x20, mode); // 0 0 1 N=0 H nameLen
    }
    writeString(out, latin1ToBytes(value), 7, 0x00, mode);
  }
  return Uint8Array.from(out);
}

function writeString(out: number[], raw: Uint8Array, prefixBits: number, flags: number, mode: boolean | 'auto'): void {
  const useHuffman = mode === 'auto' ? huffmanEncodedLength(raw) < raw.length : mode;
  const data = useHuffman ? huffmanEncode(raw) : raw;
  encodePrefixedInt(out, data.length, prefixBits, flags | (useHuffman ? 1 << prefixBits : 0));
  for (const b of data) out.push(b);
}
