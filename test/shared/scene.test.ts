import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  clampAxis, inputHeading, inputVelocity, STANDARD_PLAYER_SPEED, STANDARD_WORLD, stepEntity, stepPosition, wrapCoord,
} from '../../shared/scene.js';

const W = 1000;

describe('wrapCoord', () => {
  it.each([
    [0, 0], [999.5, 999.5], [1000, 0], [1001, 1], [-1, 999], [-1000, 0], [2500, 500], [-0, 0],
    [-2500.25, 499.75], [1000 - 1e-13, 1000 - 1e-13], [1e12 + 0.5, 0.5], [-1e12 - 0.5, 999.5],
  ])('wrapCoord(%f, 1000) = %f', (v, want) => {
    expect(wrapCoord(v, W)).toBe(want);
    expect(Object.is(wrapCoord(v, W), -0)).toBe(false);
  });

  it('folds a tiny negative value to 0, never to the size itself', () => {
    // -1e-14 % 1000 is -1e-14, and -1e-14 + 1000 rounds to exactly 1000: outside [0, 1000). The
    // server's old `wrap` returned 1000 here (and -0 for -0); the client's wrapCoord returned 0.
    expect((-1e-14 % W) + W).toBe(W); // the rounding this guards against
    for (const v of [-1e-14, -Number.MIN_VALUE, -1e-300, -(2 ** -47)]) expect(wrapCoord(v, W)).toBe(0);
    expect(wrapCoord(-1e-17, 2 * Math.PI)).toBe(0);
  });

  it('gives NaN for what is not a position', () => {
    for (const v of [Number.NaN, Infinity, -Infinity]) expect(wrapCoord(v, W)).toBeNaN();
    expect(wrapCoord(5, Number.NaN)).toBeNaN();
    expect(wrapCoord(5, 0)).toBeNaN();
  });

  it('maps every finite value into [0, size), congruent to it', () => {
    fc.assert(fc.property(
      fc.double({ min: -1e9, max: 1e9, noNaN: true }),
      fc.constantFrom(1000, 1, 7.5, 2 * Math.PI, 16000),
      (v, size) => {
        const r = wrapCoord(v, size);
        expect(r).toBeGreaterThanOrEqual(0);
        expect(r).toBeLessThan(size);
        expect(Object.is(r, -0)).toBe(false);
        const turns = (v - r) / size;
        expect(Math.abs(turns - Math.round(turns))).toBeLessThan(1e-6);
      },
    ), { numRuns: 2000 });
  });

  it('leaves a value already in range exactly as it is', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: W, maxExcluded: true, noNaN: true }), (v) => {
      expect(wrapCoord(v, W)).toBe(v + 0);
    }));
  });
});

describe('clampAxis', () => {
  it.each([[5, 1], [-5, -1], [0.25, 0.25], [-1, -1], [Number.NaN, 0], [Infinity, 0], [-Infinity, 0]])('%f -> %f', (v, want) => {
    expect(clampAxis(v)).toBe(want);
  });
});

describe('inputVelocity', () => {
  it.each([
    [1, 0, 1, 0], [0, -1, 0, -1], [1, 1, Math.SQRT1_2, Math.SQRT1_2], [0.5, 0.5, 0.5, 0.5],
    [-1, 1, -Math.SQRT1_2, Math.SQRT1_2], [3, 0, 1, 0], [Number.NaN, 1, 0, 1], [0, Infinity, 0, 0],
    [-Infinity, -Infinity, 0, 0], [-5, 5, -Math.SQRT1_2, Math.SQRT1_2],
  ])('(%f, %f) -> (%f, %f)', (dx, dy, vx, vy) => {
    const v = inputVelocity(dx, dy);
    expect(v.x).toBeCloseTo(vx, 12);
    expect(v.y).toBeCloseTo(vy, 12);
  });

  it('never exceeds unit length', () => {
    const axis = fc.double({ noNaN: false });
    fc.assert(fc.property(axis, axis, (dx, dy) => {
      const v = inputVelocity(dx, dy);
      expect(Math.hypot(v.x, v.y)).toBeLessThanOrEqual(1 + 1e-15);
    }));
  });
});

describe('inputHeading', () => {
  it('faces the input, or keeps the current heading when the input does not move', () => {
    expect(inputHeading(1, 0, 2)).toBe(0);
    expect(inputHeading(-1, -1, 0)).toBeCloseTo(-3 * Math.PI / 4, 12);
    expect(inputHeading(0, 0, 1.25)).toBe(1.25);
    expect(inputHeading(Number.NaN, 0, 1.25)).toBe(1.25);
    expect(inputHeading(Number.NaN, 1, 0)).toBeCloseTo(Math.PI / 2, 12);
  });
});

describe('stepPosition (the standard scene step)', () => {
  const at = (x: number, y: number) => ({ x, y });

  it('moves STANDARD_PLAYER_SPEED units per second along the input', () => {
    expect(STANDARD_PLAYER_SPEED).toBe(100);
    expect(STANDARD_WORLD).toEqual({ width: 1000, height: 1000 });
    const p = at(500, 500);
    expect(stepPosition(p, 1, 0, 1, STANDARD_WORLD)).toBe(true);
    expect(p).toEqual({ x: 600, y: 500 });
    const q = at(500, 500);
    stepPosition(q, -1, -1, 1, STANDARD_WORLD);
    expect(q.x).toBeCloseTo(500 - 100 * Math.SQRT1_2, 12);
    expect(q.y).toBeCloseTo(500 - 100 * Math.SQRT1_2, 12);
  });

  it.each([
    // [x, dx, dt, want x]: exactly at 0 going left, landing exactly on W, from just below W.
    [0, -1, 0.01, 999],
    [0, 1, 0.01, 1],
    [999, 1, 0.01, 0],
    [999.5, 1, 0.01, 0.5],
    [0.5, -1, 0.01, 999.5],
    [0, -1, 10, 0],
    // Large steps wrap as many times as they need to.
    [500, 1, 100, 500],
    [250, -1, 123.45, 905],
    [10, 1, 1e6, 10],
  ])('x %f, dx %f for %f s -> x %f', (x, dx, dt, want) => {
    const p = at(x, 7);
    stepPosition(p, dx, 0, dt, STANDARD_WORLD);
    expect(p.x).toBeCloseTo(want, 6);
    expect(p.x).toBeGreaterThanOrEqual(0);
    expect(p.x).toBeLessThan(W);
    expect(Object.is(p.x, -0)).toBe(false);
    expect(p.y).toBe(7);
  });

  it('does nothing for a still, non-finite or out-of-time step', () => {
    for (const [dx, dy, dt] of [
      [0, 0, 1], [Number.NaN, Number.NaN, 1], [Infinity, -Infinity, 1],
      [1, 0, 0], [1, 0, -1], [1, 0, Number.NaN], [1, 0, Infinity],
    ] as const) {
      const p = at(12, 34);
      expect(stepPosition(p, dx, dy, dt, STANDARD_WORLD)).toBe(false);
      expect(p).toEqual({ x: 12, y: 34 });
    }
  });

  it('takes the world size and the speed from its arguments', () => {
    const p = at(1, 1);
    stepPosition(p, 1, -1, 2, { width: 10, height: 20 }, 5 * Math.SQRT2);
    expect(p.x).toBeCloseTo(1, 9);
    expect(p.y).toBeCloseTo(11, 9);
  });

  it('keeps every position it writes in [0, size) for any start, input and duration', () => {
    fc.assert(fc.property(
      fc.double({ min: -2000, max: 3000, noNaN: true }), fc.double({ min: -2000, max: 3000, noNaN: true }),
      fc.double({ min: -1.5, max: 1.5, noNaN: true }), fc.double({ min: -1.5, max: 1.5, noNaN: true }),
      fc.double({ min: 1e-9, max: 1e5, noNaN: true }),
      (x, y, dx, dy, dt) => {
        const p = at(x, y);
        if (!stepPosition(p, dx, dy, dt, STANDARD_WORLD)) return;
        for (const c of [p.x, p.y]) {
          expect(c).toBeGreaterThanOrEqual(0);
          expect(c).toBeLessThan(W);
        }
      },
    ), { numRuns: 2000 });
  });
});

describe('stepEntity (the server\'s step: position and heading)', () => {
  it('moves like stepPosition and faces the input, bit for bit', () => {
    const axis = fc.oneof(fc.constantFrom(-1, 0, 1, Number.NaN, 3), fc.double({ min: -1.5, max: 1.5, noNaN: true }));
    fc.assert(fc.property(
      fc.double({ min: 0, max: W, maxExcluded: true, noNaN: true }), fc.double({ min: 0, max: W, maxExcluded: true, noNaN: true }),
      axis, axis, fc.double({ min: -1, max: 100, noNaN: true }),
      (x, y, dx, dy, dt) => {
        const e = { x, y, angle: 0.5 };
        const p = { x, y };
        const moved = stepEntity(e, dx, dy, dt, STANDARD_WORLD);
        expect(moved).toBe(stepPosition(p, dx, dy, dt, STANDARD_WORLD));
        expect([e.x, e.y]).toEqual([p.x, p.y]);
        expect(e.angle).toBe(moved ? inputHeading(dx, dy, 0.5) : 0.5);
      },
    ), { numRuns: 2000 });
  });

  it('keeps the heading when it does not move', () => {
    const e = { x: 1, y: 2, angle: 1.25 };
    expect(stepEntity(e, 0, 0, 1, STANDARD_WORLD)).toBe(false);
    expect(e).toEqual({ x: 1, y: 2, angle: 1.25 });
    expect(stepEntity(e, -1, 0, 1, STANDARD_WORLD)).toBe(true);
    expect(e.angle).toBe(Math.PI);
  });
});
