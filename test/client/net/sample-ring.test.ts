import { describe, expect, it } from 'vitest';
import { SampleRing } from '../../../client/net/sample-ring.js';
import { RTT_SAMPLE_LIMIT } from '../../../client/net/game-client.js';

describe('SampleRing', () => {
  it('returns values oldest first across wraparound', () => {
    const s = new SampleRing(3);
    [1, 2, 3, 4].forEach((v) => s.push(v));
    expect(s.values()).toEqual([2, 3, 4]);
    expect(s.pushed).toBe(4);
  });

  it('keeps a bounded ring of recent samples (the client\'s RTT samples)', () => {
    const r = new SampleRing(RTT_SAMPLE_LIMIT);
    for (let i = 0; i < RTT_SAMPLE_LIMIT + 5; i++) r.push(i);
    const v = r.values();
    expect(v).toHaveLength(RTT_SAMPLE_LIMIT);
    expect(v[0]).toBe(5);
    expect(v.at(-1)).toBe(RTT_SAMPLE_LIMIT + 4);
  });
});
