import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeFieldSection, encodeFieldSection, MAX_FIELD_LINES, type HeaderField,
} from '../../../../../server/h3/wire/qpack/field-section.js';
import { QPACK_STATIC_TABLE, findStaticEntry } from '../../../../../server/h3/wire/qpack/static-table.js';
import { huffmanEncode } from '../../../../../server/h3/wire/qpack/huffman.js';
import { encodePrefixedInt } from '../../../../../server/h3/wire/qpack/integer.js';
import { H3_EXCESSIVE_LOAD, QPACK_DECOMPRESSION_FAILED } from '../../../../../server/h3/wire/errors.js';

const ascii = (s: string) => Array.from(Buffer.from(s, 'latin1'));

/** A string literal with H bit `prefixBits` up, as an encoder other than ours would write it. */
function str(s: string, prefixBits: number, flags: number, huffman: boolean): number[] {
  const data = huffman ? Array.from(huffmanEncode(Uint8Array.from(ascii(s)))) : ascii(s);
  const out: number[] = [];
  encodePrefixedInt(out, data.length, prefixBits, flags | (huffman ? 1 << prefixBits : 0));
  return [...out, ...data];
}

/**
 * The extended CONNECT as Chromium encodes it with no dynamic table: static indexed :method and
 * :scheme, static name references with Huffman values for :authority, :path and origin, and
 * Huffman-coded literal names for :protocol and sec-webtransport-http3-draft02.
 */
function chromiumConnect(): Uint8Array {
  const b: number[] = [0x00, 0x00];
  b.push(0xc0 | 15); // :method CONNECT (static 15)
  b.push(0xc0 | 23); // :scheme https (static 23)
  b.push(0x50 | 0); b.push(...str('127.0.0.1:4433', 7, 0, true)); // :authority (static name 0)
  b.push(0x50 | 1); b.push(...str('/wt', 7, 0, true)); // :path (static name 1)
  b.push(...str(':protocol', 3, 0x20, true), ...str('webtransport', 7, 0, true));
  b.push(...str('sec-webtransport-http3-draft02', 3, 0x20, true), ...str('1', 7, 0, false));
  const origin: number[] = [];
  encodePrefixedInt(origin, 90, 4, 0x50); // origin (static name 90): 4-bit prefix, two bytes
  b.push(...origin, ...str('http://127.0.0.1:8080', 7, 0, true));
  b.push(...str('user-agent', 3, 0x20, false), ...str('Mozilla/5.0 (X11; Linux x86_64)', 7, 0, true));
  return Uint8Array.from(b);
}

describe('QPACK static table (RFC 9204 Appendix A)', () => {
  it('has all 99 entries at their indexes', () => {
    expect(QPACK_STATIC_TABLE).toHaveLength(99);
    expect(QPACK_STATIC_TABLE[0]).toEqual([':authority', '']);
    expect(QPACK_STATIC_TABLE[15]).toEqual([':method', 'CONNECT']);
    expect(QPACK_STATIC_TABLE[23]).toEqual([':scheme', 'https']);
    expect(QPACK_STATIC_TABLE[25]).toEqual([':status', '200']);
    expect(QPACK_STATIC_TABLE[27]).toEqual([':status', '404']);
    expect(QPACK_STATIC_TABLE[63]).toEqual([':status', '100']);
    expect(QPACK_STATIC_TABLE[68]).toEqual([':status', '403']);
    expect(QPACK_STATIC_TABLE[90]).toEqual(['origin', '']);
    expect(QPACK_STATIC_TABLE[98]).toEqual(['x-frame-options', 'sameorigin']);
    expect(findStaticEntry(':status', '429')).toEqual({ index: 24, exact: false });
    expect(findStaticEntry(':status', '503')).toEqual({ index: 28, exact: true });
    expect(findStaticEntry(':protocol', 'webtransport')).toBeNull();
    for (const [name] of QPACK_STATIC_TABLE) expect(name).toBe(name.toLowerCase());
  });
});

describe('QPACK field sections with a zero-capacity dynamic table (RFC 9204 §4.5)', () => {
  it('decodes a CONNECT encoded the way Chromium encodes it', () => {
    const r = decodeFieldSection(chromiumConnect());
    expect(r).toEqual({
      status: 'ok',
      headers: [
        [':method', 'CONNECT'], [':scheme', 'https'], [':authority', '127.0.0.1:4433'], [':path', '/wt'],
        [':protocol', 'webtransport'], ['sec-webtransport-http3-draft02', '1'], ['origin', 'http://127.0.0.1:8080'],
        ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64)'],
      ],
    });
  });

  it('encodes responses compactly with static entries', () => {
    expect(Array.from(encodeFieldSection([[':status', '200']]))).toEqual([0, 0, 0xd9]);
    const r = encodeFieldSection([[':status', '429'], ['sec-webtransport-http3-draft', 'draft02']]);
    expect(decodeFieldSection(r)).toEqual({ status: 'ok', headers: [[':status', '429'], ['sec-webtransport-http3-draft', 'draft02']] });
    // Name reference to static :status (24): 4-bit prefix full (0x5f), then 24 - 15 = 9.
    expect(Array.from(r.subarray(2, 4))).toEqual([0x5f, 9]);
  });

  it('round-trips with and without Huffman', () => {
    const h: HeaderField[] = [[':method', 'CONNECT'], [':path', '/a?b=c'], ['x-custom', 'v\u00e9'], ['empty', '']];
    for (const huffman of [true, false, 'auto'] as const) {
      expect(decodeFieldSection(encodeFieldSection(h, { huffman }))).toEqual({ status: 'ok', headers: h });
    }
    expect(() => encodeFieldSection([['x', '\u20ac']])).toThrow(RangeError);
  });

  it.each([
    ['Required Insert Count != 0', [0x01, 0x00]],
    ['negative Base', [0x00, 0x80]],
    ['truncated prefix', [0x00]],
    ['empty block', []],
    ['dynamic indexed line', [0x00, 0x00, 0x80]],
    ['post-base indexed line', [0x00, 0x00, 0x10]],
    ['post-base name reference', [0x00, 0x00, 0x00, 0x01, 0x61]],
    ['dynamic name reference', [0x00, 0x00, 0x40, 0x01, 0x61]],
    ['static index 99', [0x00, 0x00, 0xff, 0x24]],
    ['static name index 99', [0x00, 0x00, 0x5f, 0x54, 0x00]],
    ['truncated value', [0x00, 0x00, 0x51, 0x05, 0x61]],
    ['truncated literal name', [0x00, 0x00, 0x23, 0x61]],
    ['bad Huffman padding', [0x00, 0x00, 0x51, 0x81, 0x18]],
    ['Huffman EOS', [0x00, 0x00, 0x51, 0x84, 0xff, 0xff, 0xff, 0xff]],
    ['length overflow', [0x00, 0x00, 0x51, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x7f]],
  ])('rejects %s with QPACK_DECOMPRESSION_FAILED', (_n, bytes) => {
    expect(decodeFieldSection(Uint8Array.from(bytes))).toMatchObject({ status: 'error', code: QPACK_DECOMPRESSION_FAILED });
  });

  it('bounds the decoded size and the line count with H3_EXCESSIVE_LOAD', () => {
    // Two bytes per line expanding to the 108-byte content-security-policy entry (static 85):
    // the decompression-bomb shape. 9 lines = 972 bytes fit a 1000-byte limit, 10 do not.
    const bomb = (lines: number) => Uint8Array.from([0, 0, ...new Array<number[]>(lines).fill([0xff, 85 - 63]).flat()]);
    expect(decodeFieldSection(bomb(9), { maxSize: 1000 }).status).toBe('ok');
    expect(decodeFieldSection(bomb(10), { maxSize: 1000 })).toMatchObject({ status: 'error', code: H3_EXCESSIVE_LOAD });
    const many = Uint8Array.from([0, 0, ...new Array(MAX_FIELD_LINES + 1).fill(0xd9)]);
    expect(decodeFieldSection(many)).toMatchObject({ status: 'error', code: H3_EXCESSIVE_LOAD });
    expect(decodeFieldSection(many.subarray(0, many.length - 1)).status).toBe('ok');
    expect(decodeFieldSection(encodeFieldSection([['a', 'x'.repeat(200)]]), { maxSize: 200 })).toMatchObject({ status: 'error', code: H3_EXCESSIVE_LOAD });
  });

  it('round-trips arbitrary byte-string fields (property)', () => {
    const byteString = fc.uint8Array({ maxLength: 40 }).map((b) => String.fromCharCode(...b));
    const field = fc.oneof(
      fc.tuple(byteString, byteString),
      fc.constantFrom(...QPACK_STATIC_TABLE).map(([n, v]) => [n, v] as [string, string]),
      fc.tuple(fc.constantFrom(...QPACK_STATIC_TABLE.map(([n]) => n)), byteString),
    );
    fc.assert(fc.property(fc.array(field, { maxLength: 20 }), fc.constantFrom(true, false, 'auto' as const), (h, huffman) => {
      expect(decodeFieldSection(encodeFieldSection(h, { huffman }))).toEqual({ status: 'ok', headers: h });
    }), { numRuns: 1000 });
  });

  it('never throws on random or mutated blocks (property)', () => {
    const valid = chromiumConnect();
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).map((m) => {
        const b = valid.slice();
        for (const [i, v] of m) b[i] = v;
        return b;
      }),
      fc.nat(valid.length - 1).map((n) => valid.subarray(0, n)),
    );
    fc.assert(fc.property(input, (b) => {
      const r = decodeFieldSection(b);
      expect(['ok', 'error']).toContain(r.status);
      if (r.status === 'error') expect([QPACK_DECOMPRESSION_FAILED, H3_EXCESSIVE_LOAD]).toContain(r.code);
    }), { numRuns: 5000 });
  });
});
