import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cdfPoints, gaps, mean, median, percentile, percentileOfSorted, SampleReservoir, summarize } from '../../../tools/lib/stats.js';

describe('percentile (nearest rank)', () => {
  it('matches the textbook nearest-rank table', () => {
    // Wikipedia's nearest-rank example: 15, 20, 35, 40, 50.
    const xs = [50, 15, 40, 20, 35];
    expect(percentile(xs, 5)).toBe(15);
    expect(percentile(xs, 30)).toBe(20);
    expect(percentile(xs, 40)).toBe(20);
    expect(percentile(xs, 50)).toBe(35);
    expect(percentile(xs, 100)).toBe(50);
    expect(percentile(xs, 0)).toBe(15);
  });

  it.each([
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99, 10],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9],
    [[7], 99, 7],
    [[1, 2], 0, 1],
  ])('nearest rank of sorted %j at p%d is %d', (values, p, want) => {
    expect(percentileOfSorted(values, p)).toBe(want);
    expect(percentile([...values].reverse(), p)).toBe(want);
  });

  it('p99 of 1..100 is 99 and of 1..1000 is 990', () => {
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 99)).toBe(99);
    expect(percentile(Array.from({ length: 1000 }, (_, i) => i + 1), 99)).toBe(990);
  });

  it('is null for no samples and clamps p', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentileOfSorted([], 50)).toBeNull();
    expect(percentile([3, 1, 2], -5)).toBe(1);
    expect(percentile([3, 1, 2], 500)).toBe(3);
  });

  it('always returns an observed sample, monotone in p', () => {
    fc.assert(fc.property(fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 200 }),
      fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 100, noNaN: true }), (xs, p, q) => {
        const a = percentile(xs, Math.min(p, q))!;
        const b = percentile(xs, Math.max(p, q))!;
        expect(xs).toContain(a);
        expect(a).toBeLessThanOrEqual(b);
        // At least p% of samples are <= the p-th percentile.
        const share = xs.filter((x) => x <= b).length / xs.length;
        expect(share * 100).toBeGreaterThanOrEqual(Math.max(p, q) - 1e-9);
      }));
  });

  it('does not reorder the caller\'s array', () => {
    const xs = [3, 1, 2];
    percentile(xs, 50);
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe('median, mean, gaps, summarize', () => {
  it('median of odd and even counts, ignoring null and non-finite', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([null, 5, undefined, Number.NaN, Infinity, 7])).toBe(6);
    expect(median([null, undefined])).toBeNull();
    expect(median([])).toBeNull();
  });

  it('mean', () => {
    expect(mean([1, 2, 3, 6])).toBe(3);
    expect(mean([])).toBeNull();
  });

  it('gaps between consecutive arrivals', () => {
    expect(gaps([100, 150, 201, 250])).toEqual([50, 51, 49]);
    expect(gaps([5])).toEqual([]);
  });

  it('summarize gives count, p50, p99 and max', () => {
    const xs = Array.from({ length: 200 }, (_, i) => 200 - i); // 200..1
    expect(summarize(xs)).toEqual({ count: 200, p50: 100, p99: 198, max: 200 });
    expect(summarize([])).toEqual({ count: 0, p50: null, p99: null, max: null });
  });
});

describe('cdfPoints', () => {
  it('ends at 1, rises monotonically, thins long inputs', () => {
    const pts = cdfPoints(Array.from({ length: 10_000 }, (_, i) => 10_000 - i), 100);
    expect(pts.length).toBeLessThanOrEqual(101);
    expect(pts[pts.length - 1]).toEqual([10_000, 1]);
    for (let i = 1; i < pts.length; i++) {
      expect(pts[i][0]).toBeGreaterThanOrEqual(pts[i - 1][0]);
      expect(pts[i][1]).toBeGreaterThan(pts[i - 1][1]);
    }
    expect(cdfPoints([])).toEqual([]);
  });

  it('gives every sample its share when short', () => {
    expect(cdfPoints([3, 1, 2])).toEqual([[1, 1 / 3], [2, 2 / 3], [3, 1]]);
  });
});

describe('SampleReservoir', () => {
  it('keeps everything up to its capacity', () => {
    const r = new SampleReservoir(5);
    for (const x of [1, 2, 3]) r.add(x);
    expect([...r.values()]).toEqual([1, 2, 3]);
    expect(r.offered).toBe(3);
  });

  it('never grows past its capacity and keeps a uniform subset', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const r = new SampleReservoir(1000, rand);
    for (let i = 0; i < 100_000; i++) r.add(i);
    expect(r.size).toBe(1000);
    expect(r.offered).toBe(100_000);
    // A uniform sample of 0..99999 has its median near 50000 (a biased one keeps the first 1000).
    const m = percentile(r.values(), 50)!;
    expect(m).toBeGreaterThan(40_000);
    expect(m).toBeLessThan(60_000);
  });

  it('reset empties it; bad capacity is refused', () => {
    const r = new SampleReservoir(2);
    r.add(1);
    r.reset();
    expect(r.size).toBe(0);
    expect(r.offered).toBe(0);
    expect(() => new SampleReservoir(0)).toThrow(RangeError);
    expect(() => new SampleReservoir(1.5)).toThrow(RangeError);
  });
});
