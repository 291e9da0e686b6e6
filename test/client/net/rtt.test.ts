import { describe, expect, it } from 'vitest';
import { RTT_SAMPLE_LIMIT, RttEstimator } from '../../../client/net/rtt.js';
import { SampleRing } from '../../../client/net/sample-ring.js';

describe('RttEstimator (RFC 6298 smoothing)', () => {
  it('starts at the first sample, then moves by 1/8 of the error', () => {
    const r = new RttEstimator();
    expect(r.smoothedMs).toBeNull();
    r.addSample(100);
    expect(r.smoothedMs).toBe(100);
    expect(r.variationMs).toBe(50);
    r.addSample(180);
    expect(r.smoothedMs).toBe(110);
    expect(r.variationMs).toBe(57.5);
    expect(r.minMs).toBe(100);
  });

  it('ignores negative and non-finite samples', () => {
    const r = new RttEstimator();
    r.addSample(-1);
    r.addSample(Number.NaN);
    expect(r.smoothedMs).toBeNull();
    expect(r.samples.size).toBe(0);
  });

  it('keeps a bounded ring of recent samples', () => {
    const r = new RttEstimator();
    for (let i = 0; i < RTT_SAMPLE_LIMIT + 5; i++) r.addSample(i);
    const v = r.samples.values();
    expect(v).toHaveLength(RTT_SAMPLE_LIMIT);
    expect(v[0]).toBe(5);
    expect(v.at(-1)).toBe(RTT_SAMPLE_LIMIT + 4);
  });
});

describe('SampleRing', () => {
  it('returns values oldest first across wraparound', () => {
    const s = new SampleRing(3);
    [1, 2, 3, 4].forEach((v) => s.push(v));
    expect(s.values()).toEqual([2, 3, 4]);
    expect(s.pushed).toBe(4);
  });
});
