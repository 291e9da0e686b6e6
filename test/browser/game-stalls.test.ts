// The stall measure used by the browser loss test, checked on hand-made frame series.
import { describe, expect, it } from 'vitest';
import { analyzeStalls, type FrameSample } from './game-harness.js';

const frames = (pts: Array<[number, number | null]>): FrameSample[] =>
  pts.map(([t, x]) => ({ t, e: x === null ? [] : [[7, x, 0, 0]] }));

describe('analyzeStalls', () => {
  it('finds no stall in steady motion', () => {
    const r = analyzeStalls(frames([[0, 0], [16, 1], [33, 2], [50, 3]]), 7);
    expect(r).toMatchObject({ frames: 4, spanMs: 50, longestStallMs: 0, longestFrameGapMs: 17, missingFrames: 0 });
  });
  it('measures a run of repeated positions from the first repeat to the next move', () => {
    const r = analyzeStalls(frames([[0, 0], [16, 1], [33, 1], [50, 1], [66, 1], [83, 2], [100, 3]]), 7);
    expect(r.longestStallMs).toBe(83 - 16);
  });
  it('counts a stall that lasts to the end', () => {
    const r = analyzeStalls(frames([[0, 0], [16, 1], [33, 1], [200, 1]]), 7);
    expect(r.longestStallMs).toBe(200 - 16);
  });
  it('does not call a slow frame with movement a stall, but reports the gap', () => {
    const r = analyzeStalls(frames([[0, 0], [16, 1], [216, 21], [232, 22]]), 7);
    expect(r.longestStallMs).toBe(0);
    expect(r.longestFrameGapMs).toBe(200);
  });
  it('counts frames without the entity', () => {
    const r = analyzeStalls(frames([[0, 0], [16, null], [33, 2]]), 7);
    expect(r.missingFrames).toBe(1);
    expect(r.longestStallMs).toBe(0);
  });
});
