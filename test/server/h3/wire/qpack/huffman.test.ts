import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, huffmanDecode, huffmanEncode, huffmanEncodedLength } from '../../../../../server/h3/wire/qpack/huffman.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('Huffman code (RFC 7541 Appendix B)', () => {
  it('rebuilds the RFC codes from the code lengths', () => {
    // Spot checks against the hex codes printed in Appendix B, across all lengths.
    const expected: Array<[number, number, number]> = [
      [0, 0x1ff8, 13], [1, 0x7fffd8, 23], [9, 0xffffea, 24], [10, 0x3ffffffc, 30], [22, 0x3ffffffe, 30],
      [32, 0x14, 6], [33, 0x3f8, 10], [39, 0x7fa, 11], [48, 0x0, 5], [58, 0x5c, 7], [60, 0x7ffc, 15],
      [92, 0x7fff0, 19], [94, 0x3ffc, 14], [97, 0x3, 5], [116, 0x9, 5], [122, 0x7b, 7], [127, 0xffffffc, 28],
      [128, 0xfffe6, 20], [153, 0x1fffdc, 21], [199, 0x1ffffec, 25], [203, 0x7ffffde, 27], [220, 0xffffffd, 28],
      [249, 0xffffffe, 28], [254, 0x7fffff0, 27], [255, 0x3ffffee, 26], [256, 0x3fffffff, 30],
    ];
    for (const [sym, code, len] of expected) expect([sym, HUFFMAN_CODES[sym], HUFFMAN_LENGTHS[sym]]).toEqual([sym, code, len]);
    // A complete prefix code: Kraft sum is exactly 1.
    const kraft = HUFFMAN_LENGTHS.reduce((s, l) => s + 2 ** (30 - l), 0);
    expect(kraft).toBe(2 ** 30);
    expect(HUFFMAN_LENGTHS).toHaveLength(257);
  });

  // RFC 7541 Appendix C.4 (requests with Huffman coding) and C.6 (responses with Huffman coding).
  it.each([
    ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
    ['no-cache', 'a8eb 1064 9cbf'],
    ['custom-key', '25a8 49e9 5ba9 7d7f'],
    ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
    ['302', '6402'],
    ['307', '640e ff'],
    ['private', 'aec3 771a 4b'],
    ['gzip', '9bd9 ab'],
    ['https://www.example.com', '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
  ])('RFC 7541 vector %s', (text, enc) => {
    expect(toHex(huffmanEncode(ascii(text)))).toBe(toHex(hex(enc)));
    const d = huffmanDecode(hex(enc), 1000);
    expect(d.status === 'ok' && Buffer.from(d.bytes).toString('latin1')).toBe(text);
  });

  it('rejects padding longer than 7 bits', () => {
    // 'a' = 00011 then 11 bits of ones: a whole extra byte of padding.
    expect(huffmanDecode(Uint8Array.of(0x1f, 0xff), 10)).toEqual({ status: 'invalid', reason: 'padding-too-long' });
    expect(huffmanDecode(Uint8Array.of(0xff), 10)).toEqual({ status: 'invalid', reason: 'padding-too-long' });
  });

  it('rejects padding that is not all ones', () => {
    // 'a' (00011) + '000' padding would decode as the start of '0' (00000): not an EOS prefix.
    expect(huffmanDecode(Uint8Array.of(0x18), 10)).toEqual({ status: 'invalid', reason: 'padding-not-eos' });
    expect(huffmanDecode(Uint8Array.of(0x1e), 10)).toEqual({ status: 'invalid', reason: 'padding-not-eos' });
  });

  it('rejects an EOS symbol inside the string', () => {
    // EOS = 30 ones, then 2 ones of padding.
    expect(huffmanDecode(Uint8Array.of(0xff, 0xff, 0xff, 0xff), 10)).toEqual({ status: 'invalid', reason: 'eos' });
    // 'a' then EOS.
    const bits = '00011' + '1'.repeat(30) + '11111'; // 40 bits
    const bytes = Uint8Array.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
    expect(huffmanDecode(bytes, 10)).toEqual({ status: 'invalid', reason: 'eos' });
  });

  it('enforces the output limit', () => {
    const enc = huffmanEncode(ascii('aaaaaaaaaa'));
    expect(huffmanDecode(enc, 9)).toEqual({ status: 'invalid', reason: 'too-long' });
    expect(huffmanDecode(enc, 10).status).toBe('ok');
  });

  it('decodes the empty string', () => {
    expect(huffmanDecode(new Uint8Array(0), 10)).toEqual({ status: 'ok', bytes: new Uint8Array(0) });
  });

  it('round-trips any bytes (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      const enc = huffmanEncode(b);
      expect(enc.length).toBe(huffmanEncodedLength(b));
      const d = huffmanDecode(enc, 1000);
      expect(d.status).toBe('ok');
      if (d.status === 'ok') expect(toHex(d.bytes)).toBe(toHex(b));
    }), { numRuns: 2000 });
  });

  it('never throws on random bytes (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      const d = huffmanDecode(b, 100);
      expect(['ok', 'invalid']).toContain(d.status);
    }), { numRuns: 5000 });
  });
});
