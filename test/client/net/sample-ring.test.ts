import { describe, expect, it } from 'vitest';
import { percentile, SampleRing } from '../../../client/net/sample-ring.js';

describe('SampleRing / percentile', () => {
  it('returns values oldest first across wraparound', () => {
    const s = new SampleRing(3);
    [1, 2, 3, 4].forEach((v) => s.push(v));
    expect(s.values()).toEqual([2, 3, 4]);
    expect(s.pushed).toBe(4);
  });

  it('nearest-rank percentiles', () => {
    const v = [5, 1, 4, 2, 3];
    expect(percentile(v, 50)).toBe(3);
    expect(percentile(v, 100)).toBe(5);
    expect(percentile(v, 0)).toBe(1);
    expect(percentile([], 50)).toBeNaN();
  });
});
