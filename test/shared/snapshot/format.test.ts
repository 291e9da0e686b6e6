import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_WORLD_SIZE } from '../../../shared/limits.js';
import {
  ANGLE_BITS, POSITION_STEP, STANDARD_FORMAT, dequantizeAngle, dequantizePosition, quantizeAngle, quantizePosition, snapshotFormat,
} from '../../../shared/snapshot/format.js';

const angleDiff = (a: number, b: number) => {
  const d = (((a - b) % (2 * Math.PI)) + 3 * Math.PI) % (2 * Math.PI) - Math.PI;
  return Math.abs(d);
};

describe('snapshot quantization', () => {
  it('standard world: 12 bits per axis, 4000 steps', () => {
    expect(STANDARD_FORMAT).toMatchObject({ xMax: 4000, yMax: 4000, xBits: 12, yBits: 12 });
    expect(snapshotFormat(MAX_WORLD_SIZE, 1).xBits).toBeLessThanOrEqual(16);
    expect(snapshotFormat(Number.NaN, -5)).toMatchObject({ worldW: 1, worldH: 1 });
  });

  it('positions inside the world come back within half a step', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 1000, noNaN: true }), (x) => {
      const q = quantizePosition(x, STANDARD_FORMAT.xMax);
      expect(Math.abs(dequantizePosition(q) - x)).toBeLessThanOrEqual(POSITION_STEP / 2 + 1e-9);
    }), { numRuns: 2000 });
  });

  it('positions outside the world or not finite are clamped', () => {
    expect(quantizePosition(-3, 4000)).toBe(0);
    expect(quantizePosition(2000, 4000)).toBe(4000);
    expect(quantizePosition(Number.NaN, 4000)).toBe(0);
    expect(quantizePosition(Number.POSITIVE_INFINITY, 4000)).toBe(4000);
  });

  it('angles come back in (-π, π] within π / 2^ANGLE_BITS', () => {
    fc.assert(fc.property(fc.double({ min: -20, max: 20, noNaN: true }), (a) => {
      const q = quantizeAngle(a);
      expect(q).toBeGreaterThanOrEqual(0);
      expect(q).toBeLessThan(2 ** ANGLE_BITS);
      const back = dequantizeAngle(q);
      expect(back).toBeGreaterThan(-Math.PI);
      expect(back).toBeLessThanOrEqual(Math.PI);
      expect(angleDiff(back, a)).toBeLessThanOrEqual(Math.PI / 2 ** ANGLE_BITS + 1e-9);
    }), { numRuns: 2000 });
    expect(quantizeAngle(Number.NaN)).toBe(0);
    expect(quantizeAngle(2 * Math.PI - 1e-6)).toBe(0);
  });
});
