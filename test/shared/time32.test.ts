import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TIME32_MODULUS, time32Delta, unwrapTime32 } from '../../shared/time32.js';

const M = 2 ** 32;
const H = 2 ** 31;

describe('unwrapTime32', () => {
  // [32-bit time on the wire, reference, full time]
  it.each([
    // Around the wrap point: the wire value wrapped a little before or after the reference did.
    [M - 30, M + 20, M - 30],
    [10, M - 5, M + 10],
    [0, M, M],
    [M - 1, M, M - 1],
    [0, M - 1, M],
    [M - 1, 2 * M, 2 * M - 1],
    [5, 2 * M + 1, 2 * M + 5],
    // No wrap nearby.
    [1234, 1000, 1234],
    [0, 0, 0],
    [7, 7.75, 7],
    // Epoch-sized references (Date.now() today is about 410 * 2^32).
    [(410 * M - 30) % M, 410 * M + 20, 410 * M - 30],
    [(410 * M + 10) % M, 410 * M - 5, 410 * M + 10],
    [1_700_000_000_000 % M, 1_700_000_000_123.456, 1_700_000_000_000],
    // The window is half-open: 2^31 ahead reads as 2^31 behind; just under it reads ahead.
    [H, 0, -H],
    [H - 1, 0, H - 1],
    [0, H, 0],
    [0, H - 1, 0],
    [0, -H, -M],
    [(10 * M + H) % M, 10 * M, 10 * M - H],
    // Negative references (a test clock before zero) unwrap the same way.
    [M - 1, -1, -1],
    [1, -1, 1],
  ])('unwrapTime32(%d, %d) = %d', (time, reference, want) => {
    expect(unwrapTime32(time, reference)).toBe(want);
  });

  it('restores epoch times from their low 32 bits (the bench observer and the experiments)', () => {
    for (const now of [1_763_800_000_123, 1_795_000_000_123.5]) {
      const t = Math.floor(now) - 40;
      expect(unwrapTime32(t % M, now)).toBe(t);
      expect(unwrapTime32((Math.floor(now) + 5) % M, now)).toBe(Math.floor(now) + 5);
      expect(unwrapTime32(t, now)).toBe(t);
      const wrapAt = Math.ceil(now / M) * M;
      expect(unwrapTime32((wrapAt - 30) % M, wrapAt + 20)).toBe(wrapAt - 30);
      expect(unwrapTime32((wrapAt + 10) % M, wrapAt - 5)).toBe(wrapAt + 10);
    }
  });

  it('returns an already unwrapped time as it is', () => {
    const now = 1_759_000_000_000.5;
    const t = 1_759_000_000_000 - 7;
    expect(unwrapTime32(t, now)).toBe(t);
    expect(unwrapTime32(t % M, now)).toBe(t);
  });

  it('leaves the time as it is when there is nothing to unwrap against', () => {
    expect(unwrapTime32(5, Number.NaN)).toBe(5);
    expect(unwrapTime32(5, Infinity)).toBe(5);
    expect(unwrapTime32(Number.NaN, 5)).toBeNaN();
  });

  it('is exact and inside the window for any integral time and reference', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 2 ** 50 }), fc.integer({ min: -(2 ** 31) + 1, max: 2 ** 31 - 1 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (full, skew, frac) => {
        const reference = full + skew + frac;
        const got = unwrapTime32(full % M, reference);
        expect(got).toBe(full);
        expect(got - reference).toBeGreaterThanOrEqual(-H);
        expect(got - reference).toBeLessThan(H);
      },
    ), { numRuns: 3000 });
  });

  it('has the modulus of the u32 wire field', () => {
    expect(TIME32_MODULUS).toBe(0xffff_ffff + 1);
  });
});

describe('time32Delta', () => {
  it.each([
    [5, 3, 2],
    [3, 5, -2],
    [2, M - 3, 5],
    [M - 3, 2, -5],
    [0, 0, 0],
    [H, 0, -H],
    [H - 1, 0, H - 1],
    [0, H, -H],
    [0, H + 1, H - 1],
    [M + 7, 3, 4],
    [410 * M + 25.5, (410 * M) % M + 5, 20.5],
  ])('time32Delta(%d, %d) = %d', (a, b, want) => {
    expect(time32Delta(a, b)).toBe(want);
  });

  it('gives a snapshot age across the wrap of the wire clock (the bots)', () => {
    const now = 1_763_000_000_123; // an epoch ms value
    expect(time32Delta(now, (now - 40) % M)).toBe(40);
    // Server stamped just before a wrap, client reads just after it.
    expect(time32Delta(5 * M + 10, M - 20)).toBe(30);
    // A client clock slightly behind the server's gives a small negative age, not 2^32.
    expect(time32Delta(now, (now + 3) % M)).toBe(-3);
  });

  it('is how far unwrapTime32 moves from its reference: unwrap(t, ref) - ref', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: M - 1 }), fc.integer({ min: 0, max: 2 ** 45 }), (t, ref) => {
      expect(unwrapTime32(t, ref) - ref).toBe(time32Delta(t, ref));
    }));
    expect(unwrapTime32(H, 0) - 0).toBe(time32Delta(H, 0));
  });
});
