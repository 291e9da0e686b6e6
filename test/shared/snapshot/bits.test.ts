import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BitReader, BitWriter, expGolombBits } from '../../../shared/snapshot/bits.js';

describe('BitWriter / BitReader', () => {
  it('round-trips any sequence of values and widths, MSB first', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 32 }).chain((bits) =>
      fc.tuple(fc.constant(bits), bits === 0 ? fc.constant(0) : fc.integer({ min: 0, max: 2 ** bits - 1 }))), { maxLength: 60 }), (fields) => {
      const w = new BitWriter(300);
      for (const [bits, v] of fields) w.write(v, bits);
      const total = fields.reduce((s, [b]) => s + b, 0);
      expect(w.bitLength).toBe(total);
      const bytes = w.finish();
      expect(bytes.length).toBe(Math.ceil(total / 8));
      const r = new BitReader(bytes);
      for (const [bits, v] of fields) expect(r.read(bits)).toBe(v);
      expect(r.overrun).toBe(false);
      expect(r.atPaddedEnd()).toBe(true);
    }), { numRuns: 500 });
  });

  it('writes most significant bit first', () => {
    const w = new BitWriter(2);
    w.write(0b101, 3);
    w.write(0b1, 1);
    w.write(0xff, 8);
    expect([...w.finish()]).toEqual([0b10111111, 0b11110000]);
  });

  it('exp-Golomb codes: sizes and round trip, including 2^32 - 2', () => {
    const values = [0, 1, 2, 3, 6, 7, 100, 65535, 2 ** 31, 2 ** 32 - 2];
    const w = new BitWriter(100);
    for (const v of values) w.expGolomb(v);
    expect(w.bitLength).toBe(values.reduce((s, v) => s + expGolombBits(v), 0));
    expect([0, 1, 2, 3, 6, 7].map(expGolombBits)).toEqual([1, 3, 3, 5, 5, 7]);
    const r = new BitReader(w.finish());
    for (const v of values) expect(r.expGolomb()).toBe(v);
  });

  it('signed reads are two\'s complement', () => {
    const w = new BitWriter(2);
    w.write(-5 & 0x7f, 7);
    w.write(63, 7);
    const r = new BitReader(w.finish());
    expect(r.readSigned(7)).toBe(-5);
    expect(r.readSigned(7)).toBe(63);
  });

  it('reading past the end yields zeros and flags overrun instead of throwing', () => {
    const r = new BitReader(Uint8Array.of(0xff));
    expect(r.read(4)).toBe(15);
    expect(r.read(8)).toBe(0);
    expect(r.overrun).toBe(true);
    const z = new BitReader(new Uint8Array(10)); // 80 zero bits: an exp-Golomb prefix that never ends
    expect(z.expGolomb()).toBe(-1);
    expect(z.overrun).toBe(true);
  });

  it('atPaddedEnd refuses non-zero padding and a whole spare byte', () => {
    const a = new BitReader(Uint8Array.of(0b10000001));
    a.read(1);
    expect(a.atPaddedEnd()).toBe(false);
    const b = new BitReader(Uint8Array.of(0x80, 0x00));
    b.read(1);
    expect(b.atPaddedEnd()).toBe(false);
  });

  it('refuses to write past its capacity (encoder bug guard)', () => {
    const w = new BitWriter(1);
    w.write(0, 8);
    expect(() => w.write(1, 1)).toThrow(RangeError);
  });
});
