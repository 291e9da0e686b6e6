import { describe, it, expect } from 'vitest';
import { analyzeChat, stalenessSamples, stalls, summarize } from '../../experiments/metrics.js';

describe('summarize (the outputs\' distribution, on tools/lib/stats.ts percentiles)', () => {
  it('summarises unsorted input by nearest rank, NaN for no data', () => {
    const s = summarize([5, 1, 4, 2, 3]);
    expect(s).toEqual({ n: 5, p50: 3, p95: 5, p99: 5, max: 5, mean: 3 });
    expect(summarize(Array.from({ length: 10 }, (_, i) => 10 - i))).toMatchObject({ p50: 5, p95: 10, p99: 10 });
    const empty = summarize([]);
    expect(empty.n).toBe(0);
    for (const k of ['p50', 'p95', 'p99', 'max', 'mean'] as const) expect(empty[k]).toBeNaN();
  });
});

describe('stalls', () => {
  const P = 50;
  it('counts no stall for a steady stream with timer jitter', () => {
    const times = Array.from({ length: 20 }, (_, i) => 1000 + 50 * (i + 1) + (i % 2 ? 6 : -6));
    expect(stalls(times, 1000, 2000, P)).toEqual({ intervals: 20, stalled: 0 });
  });

  it('counts one stalled interval per missing snapshot', () => {
    // Snapshots 4 and 9 missing: gaps of 100 ms.
    const times = [50, 100, 150, 250, 300, 350, 400, 500].map((t) => 1000 + t);
    expect(stalls(times, 1000, 1500, P)).toEqual({ intervals: 10, stalled: 2 });
  });

  it('counts a head-of-line burst as stalled intervals before the burst', () => {
    // 200 ms silence, then four snapshots at once, then steady.
    const times = [50, 100, 300, 300, 301, 302, 350, 400].map((t) => t);
    expect(stalls(times, 0, 400, P).stalled).toBe(3);
  });

  it('counts silent head and tail, and a silent window as all stalled', () => {
    expect(stalls([300], 0, 500, P)).toEqual({ intervals: 10, stalled: 8 });
    expect(stalls([], 0, 500, P)).toEqual({ intervals: 10, stalled: 10 });
    expect(stalls([10], 0, 0, P)).toEqual({ intervals: 0, stalled: 0 });
  });

  it('ignores receipts outside the window', () => {
    expect(stalls([-100, 50, 100, 600], 0, 100, P)).toEqual({ intervals: 2, stalled: 0 });
  });
});

describe('chat accounting', () => {
  const sent = [
    { key: 'a', sender: 0, sentAt: 100 },
    { key: 'b', sender: 1, sentAt: 200 },
  ];
  it('expects every line at every other bot exactly once', () => {
    const received = [
      { key: 'a', receiver: 0, receivedAt: 101 }, // own echo: ignored
      { key: 'a', receiver: 1, receivedAt: 110 },
      { key: 'a', receiver: 2, receivedAt: 130 },
      { key: 'b', receiver: 0, receivedAt: 220 },
      { key: 'b', receiver: 2, receivedAt: 240 },
    ];
    const r = analyzeChat(sent, received, [0, 1, 2]);
    expect(r).toMatchObject({ sent: 2, expected: 4, delivered: 4, lost: 0, duplicates: 0, unknown: 0 });
    expect(r.latency.p50).toBe(20);
    expect(r.latency.max).toBe(40);
  });

  it('counts losses, duplicates and strangers', () => {
    const received = [
      { key: 'a', receiver: 1, receivedAt: 110 },
      { key: 'a', receiver: 1, receivedAt: 111 },
      { key: 'zz', receiver: 1, receivedAt: 111 },
      { key: 'b', receiver: 0, receivedAt: 220 },
    ];
    expect(analyzeChat(sent, received, [0, 1, 2])).toMatchObject({ expected: 4, delivered: 2, lost: 2, duplicates: 1, unknown: 1 });
  });
});

describe('staleness', () => {
  it('ages the held snapshot until a newer one arrives, charging a lost one', () => {
    // Snapshots stamped at 0, 50, (100 lost), 150, each received 2 ms after stamping.
    const receipts = [[0, 2, 1], [50, 52, 2], [150, 152, 4]] as const;
    expect(stalenessSamples(receipts, 0, 160, 10)).toEqual([
      // t=0: nothing held yet (skipped); t=10..50 hold #1; t=60..150 hold #2 (the loss shows); t=160 holds #4.
      10, 20, 30, 40, 50, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 10,
    ]);
  });

  it('ignores a late, older snapshot and orders by receipt time', () => {
    // #2 (stamped 50) arrives at 55, then the older #1 (stamped 0) arrives late at 62.
    const receipts = [[0, 62, 1], [50, 55, 2]] as const;
    expect(stalenessSamples(receipts, 50, 70, 10)).toEqual([10, 20]);
  });
});
