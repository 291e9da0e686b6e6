import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeVarint, encodeVarint, varintLength, VARINT_MAX, writeVarint } from '../../../../server/h3/wire/varint.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

describe('varint (RFC 9000 §16)', () => {
  // RFC 9000 Appendix A.1 sample encodings.
  it.each([
    ['c2197c5eff14e88c', 151288809941952652n],
    ['9d7f3e7d', 494878333n],
    ['7bbd', 15293n],
    ['25', 37n],
    ['4025', 37n], // non-minimal two-byte form of 37 is valid
  ])('decodes %s as %s', (h, v) => {
    const r = decodeVarint(hex(h));
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.big).toBe(v);
    expect(r.length).toBe(hex(h).length);
    expect(r.safe).toBe(v <= BigInt(Number.MAX_SAFE_INTEGER));
    if (r.safe) expect(r.value).toBe(Number(v));
  });

  it('encodes in the shortest form at each boundary', () => {
    expect(Array.from(encodeVarint(0))).toEqual([0]);
    expect(Array.from(encodeVarint(63))).toEqual([0x3f]);
    expect(Array.from(encodeVarint(64))).toEqual([0x40, 0x40]);
    expect(Array.from(encodeVarint(16383))).toEqual([0x7f, 0xff]);
    expect(Array.from(encodeVarint(16384))).toEqual([0x80, 0, 0x40, 0]);
    expect(Array.from(encodeVarint(2 ** 30 - 1))).toEqual([0xbf, 0xff, 0xff, 0xff]);
    expect(encodeVarint(2 ** 30).length).toBe(8);
    expect(Buffer.from(encodeVarint(151288809941952652n)).toString('hex')).toBe('c2197c5eff14e88c');
    expect(Buffer.from(encodeVarint(VARINT_MAX)).toString('hex')).toBe('ffffffffffffffff');
  });

  it('rejects values it cannot encode', () => {
    expect(() => encodeVarint(-1)).toThrow(RangeError);
    expect(() => encodeVarint(1.5)).toThrow(RangeError);
    expect(() => encodeVarint(VARINT_MAX + 1n)).toThrow(RangeError);
    expect(() => encodeVarint(2 ** 60)).toThrow(RangeError); // not an exact JS number: pass a bigint
    expect(() => writeVarint(new Uint8Array(1), 0, 64)).toThrow(RangeError);
  });

  it('flags values above 2^53-1 as unsafe but keeps them exact in big', () => {
    const r = decodeVarint(encodeVarint(2n ** 53n));
    expect(r.status === 'ok' && !r.safe && r.big === 2n ** 53n).toBe(true);
    const s = decodeVarint(encodeVarint(2n ** 53n - 1n));
    expect(s.status === 'ok' && s.safe && s.value === Number.MAX_SAFE_INTEGER).toBe(true);
  });

  it('reports truncation as need-more with the full length', () => {
    expect(decodeVarint(new Uint8Array(0))).toEqual({ status: 'need-more', needed: 1 });
    expect(decodeVarint(hex('c2197c5eff14e8'))).toEqual({ status: 'need-more', needed: 8 });
    expect(decodeVarint(hex('9d7f3e'))).toEqual({ status: 'need-more', needed: 4 });
    expect(decodeVarint(hex('7b'))).toEqual({ status: 'need-more', needed: 2 });
    expect(decodeVarint(hex('25'), 1)).toEqual({ status: 'need-more', needed: 1 });
  });

  it('round-trips every value (property)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: VARINT_MAX }), fc.nat(4), (v, pad) => {
      const enc = encodeVarint(v);
      expect(enc.length).toBe(varintLength(v));
      const buf = new Uint8Array(pad + enc.length + 3);
      buf.set(enc, pad);
      const r = decodeVarint(buf, pad);
      expect(r.status === 'ok' && r.big === v && r.length === enc.length).toBe(true);
      for (let cut = 0; cut < enc.length; cut++) expect(decodeVarint(enc.subarray(0, cut)).status).toBe('need-more');
    }), { numRuns: 2000 });
  });

  it('number and bigint encodings agree for safe values (property)', () => {
    fc.assert(fc.property(fc.maxSafeNat(), (v) => {
      expect(Buffer.from(encodeVarint(v)).equals(Buffer.from(encodeVarint(BigInt(v))))).toBe(true);
      const r = decodeVarint(encodeVarint(v));
      expect(r.status === 'ok' && r.safe && r.value === v).toBe(true);
    }), { numRuns: 2000 });
  });

  it('never throws on random bytes (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 12 }), fc.nat(12), (b, off) => {
      const r = decodeVarint(b, off);
      if (r.status === 'ok') expect(r.length).toBeLessThanOrEqual(b.length - off);
    }), { numRuns: 3000 });
  });
});
