import { describe, expect, it } from 'vitest';
import { lerpAngle, lerpWrapped, shortDelta, wrapCopies, wrappedDistance } from '../../../client/game/wrap.js';

describe('shortDelta', () => {
  it.each([
    [10, 20, 10], [20, 10, -10], [990, 10, 20], [10, 990, -20], [0, 500, -500], [0, 499, 499], [250, 750, -500],
  ])('from %f to %f is %f', (a, b, want) => {
    expect(shortDelta(a, b, 1000)).toBeCloseTo(want, 9);
  });
});

describe('lerpWrapped goes the short way round', () => {
  it.each([
    [100, 200, 0.5, 150], [990, 10, 0.5, 0], [990, 10, 0.25, 995], [10, 990, 0.5, 0], [10, 990, 0.75, 995],
    [0, 0, 0.3, 0], [998, 4, 1, 4],
  ])('lerp(%f, %f, %f) = %f', (a, b, t, want) => {
    expect(lerpWrapped(a, b, t, 1000)).toBeCloseTo(want, 9);
  });
});

describe('lerpAngle', () => {
  it.each([
    [0.1, 0.3, 0.5, 0.2],
    [2 * Math.PI - 0.1, 0.1, 0.5, 0],
    [-0.1, 0.1, 0.5, 0],
    [Math.PI - 0.1, -Math.PI + 0.1, 0.5, Math.PI],
  ])('lerpAngle(%f, %f, %f) = %f', (a, b, t, want) => {
    const got = lerpAngle(a, b, t);
    expect(Math.abs(shortDelta(got, want, 2 * Math.PI))).toBeLessThan(1e-9);
  });
});

describe('wrappedDistance', () => {
  it('measures across both edges', () => {
    expect(wrappedDistance(995, 995, 5, 5, 1000, 1000)).toBeCloseTo(Math.hypot(10, 10), 9);
    expect(wrappedDistance(100, 100, 103, 104, 1000, 1000)).toBeCloseTo(5, 9);
  });
});

describe('wrapCopies', () => {
  it.each<[number, number, Array<[number, number]>]>([
    [500, 500, []],
    [10, 500, [[1000, 0]]],
    [995, 500, [[-1000, 0]]],
    [500, 5, [[0, 1000]]],
    [500, 990, [[0, -1000]]],
    [5, 5, [[0, 1000], [1000, 0], [1000, 1000]]],
    [995, 3, [[0, 1000], [-1000, 0], [-1000, 1000]]],
    [20, 500, []],
  ])('(%f, %f) -> %j', (x, y, want) => {
    expect(wrapCopies(x, y, 1000, 1000, 20)).toEqual(want);
  });
});
