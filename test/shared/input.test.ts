import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dequantizeAxis, INPUT_AXIS_STEPS, quantizeAxis, quantizeInput } from '../../shared/input.js';

describe('input quantization', () => {
  it('uses the symmetric range of a signed byte', () => {
    expect(INPUT_AXIS_STEPS).toBe(127);
    expect(quantizeAxis(1)).toBe(127);
    expect(quantizeAxis(-1)).toBe(-127);
    expect(dequantizeAxis(127)).toBe(1);
    expect(dequantizeAxis(-127)).toBe(-1);
  });

  it('keeps 0 and ±1 exact and never produces -0', () => {
    expect(quantizeInput([0, 1])).toEqual([0, 1]);
    expect(quantizeInput([-1, 0])).toEqual([-1, 0]);
    expect(Object.is(quantizeAxis(-0), 0)).toBe(true);
    expect(Object.is(quantizeAxis(-0.001), 0)).toBe(true);
    expect(Object.is(quantizeInput([-0, -0.003])[0], 0)).toBe(true);
    expect(Object.is(quantizeInput([-0, -0.003])[1], 0)).toBe(true);
  });

  it('clamps out-of-range components and maps NaN and ±Infinity to 0', () => {
    expect(quantizeAxis(5)).toBe(127);
    expect(quantizeAxis(-1.5)).toBe(-127);
    expect(quantizeAxis(Number.NaN)).toBe(0);
    expect(quantizeAxis(Number.POSITIVE_INFINITY)).toBe(0);
    expect(quantizeAxis(Number.NEGATIVE_INFINITY)).toBe(0);
  });

  it('rounds halves away from zero, so that it is symmetric', () => {
    expect(quantizeAxis(63.5 / 127)).toBe(64);
    expect(quantizeAxis(-63.5 / 127)).toBe(-64);
    expect(quantizeAxis(Math.SQRT1_2)).toBe(90);
  });

  it('property: integer in range, symmetric, within half a step, idempotent', () => {
    fc.assert(fc.property(fc.double({ min: -1, max: 1, noNaN: true }), (v) => {
      const q = quantizeAxis(v);
      expect(Number.isInteger(q)).toBe(true);
      expect(Math.abs(q)).toBeLessThanOrEqual(INPUT_AXIS_STEPS);
      expect(quantizeAxis(-v)).toBe(q === 0 ? 0 : -q);
      expect(Math.abs(dequantizeAxis(q) - v)).toBeLessThanOrEqual(0.5 / INPUT_AXIS_STEPS + 1e-15);
      expect(quantizeAxis(dequantizeAxis(q))).toBe(q);
    }), { numRuns: 2000 });
  });

  it('every step is a fixed point of quantizeInput', () => {
    for (let q = -INPUT_AXIS_STEPS; q <= INPUT_AXIS_STEPS; q++) {
      const v = dequantizeAxis(q);
      expect(quantizeInput([v, -v])).toEqual([v, q === 0 ? 0 : -v]);
    }
  });
});
