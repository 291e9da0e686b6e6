import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodePrefixedInt, encodePrefixedInt, MAX_PREFIXED_INTEGER } from '../../../../../server/h3/wire/qpack/integer.js';

describe('prefixed integers (RFC 7541 §5.1)', () => {
  // RFC 7541 Appendix C.1.
  it.each([
    [10, 5, [0x0a]],
    [1337, 5, [0x1f, 0x9a, 0x0a]],
    [42, 8, [0x2a]],
  ])('encodes %d with a %d-bit prefix', (value, prefix, bytes) => {
    const out: number[] = [];
    encodePrefixedInt(out, value, prefix, 0);
    expect(out).toEqual(bytes);
    expect(decodePrefixedInt(Uint8Array.from(bytes), 0, prefix)).toEqual({ status: 'ok', value, length: bytes.length });
  });

  it('keeps flag bits and ignores them when decoding', () => {
    const out: number[] = [];
    encodePrefixedInt(out, 1337, 5, 0xe0);
    expect(out[0]).toBe(0xff);
    expect(decodePrefixedInt(Uint8Array.from(out), 0, 5)).toMatchObject({ status: 'ok', value: 1337 });
  });

  it('reports truncation and overflow distinctly', () => {
    expect(decodePrefixedInt(new Uint8Array(0), 0, 5)).toEqual({ status: 'need-more' });
    expect(decodePrefixedInt(Uint8Array.of(0x1f, 0x9a), 0, 5)).toEqual({ status: 'need-more' });
    expect(decodePrefixedInt(Uint8Array.of(0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f), 0, 5)).toEqual({ status: 'overflow' });
    // Endless zero-valued continuation bytes are bounded as well.
    expect(decodePrefixedInt(Uint8Array.of(0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), 0, 5)).toEqual({ status: 'overflow' });
    const max: number[] = [];
    encodePrefixedInt(max, MAX_PREFIXED_INTEGER, 5, 0);
    expect(decodePrefixedInt(Uint8Array.from(max), 0, 5)).toMatchObject({ status: 'ok', value: MAX_PREFIXED_INTEGER });
    const over: number[] = [];
    encodePrefixedInt(over, MAX_PREFIXED_INTEGER + 1, 5, 0);
    expect(decodePrefixedInt(Uint8Array.from(over), 0, 5)).toEqual({ status: 'overflow' });
    expect(() => encodePrefixedInt([], -1, 5, 0)).toThrow(RangeError);
  });

  it('round-trips (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: MAX_PREFIXED_INTEGER }), fc.integer({ min: 1, max: 8 }), (v, p) => {
      const out: number[] = [];
      encodePrefixedInt(out, v, p, 0);
      const bytes = Uint8Array.from(out);
      expect(decodePrefixedInt(bytes, 0, p)).toEqual({ status: 'ok', value: v, length: out.length });
      for (let cut = 0; cut < out.length; cut++) expect(decodePrefixedInt(bytes.subarray(0, cut), 0, p).status).toBe('need-more');
    }), { numRuns: 2000 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 12 }), fc.integer({ min: 1, max: 8 }), (b, p) => {
      expect(['ok', 'need-more', 'overflow']).toContain(decodePrefixedInt(b, 0, p).status);
    }), { numRuns: 3000 });
  });
});
