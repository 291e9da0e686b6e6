import { describe, it, expect } from 'vitest';
import { renderedError } from '../../experiments/render-error.js';
import { analyzeRender } from '../../experiments/analyze.js';
import type { FrameLog } from '../../experiments/types.js';

const world = { w: 1000, h: 1000 };

/** Truth: entity 7 walks +x at 100 units/s from x = 100 (rows every 10 ms from t = 0); entity 9 stands at (500, 500). */
function truth(): number[] {
  const v: number[] = [];
  for (let t = 0; t <= 1000; t += 10) v.push(t, 7, 100 + t / 10, 200, t, 9, 500, 500);
  return v;
}

describe('rendered-position error', () => {
  it('is the distance to the newest truth at or before each frame, the short way round the world', () => {
    const frames = [
      // Drawn exactly where it is at t = 100 (x = 110): error 0.
      100, 0, 7, 110, 200,
      // At t = 205 the truth is the row of t = 200 (x = 120); drawn 3-4-5 off: error 5.
      205, 0, 7, 123, 204,
      // Entity 9 drawn across the wrap: (998, 500) vs (500, 500) is 498, and (2, 500) vs (998, 500) would be 4.
      205, 0, 9, 998, 500,
    ];
    const truthRows = [...truth(), 0, 11, 998, 500];
    const r = renderedError({ frames: [...frames, 205, 1, 11, 2, 500], truth: truthRows, world, start: 0, end: 1000 });
    expect(r.errors).toEqual([0, 5, 498, 4]);
    expect(r.compared).toBe(4);
    expect(r.noTruth).toBe(0);
  });

  it('counts frames outside the window as nothing and frames without truth separately', () => {
    const r = renderedError({ frames: [50, 0, 7, 105, 200, 2000, 0, 7, 0, 0, 60, 0, 42, 1, 1], truth: truth(), world, start: 0, end: 1000 });
    expect(r.errors).toEqual([0]);
    expect(r.noTruth).toBe(1);
  });

  it('calls a frame frozen when it repeats the drawn position while the player moved, never for a player standing still', () => {
    const frames = [
      100, 0, 7, 110, 200, 100, 0, 9, 500, 500,
      117, 0, 7, 110, 200, 117, 0, 9, 500, 500, // 7 held (moved 1.7 units): frozen; 9 stands: not a candidate
      133, 0, 7, 113.3, 200, 133, 0, 9, 500, 500, // 7 moves again
      133, 1, 7, 113.3, 200, // another observer's first frame: no previous, no candidate
    ];
    const r = renderedError({ frames, truth: truth(), world, start: 0, end: 1000 });
    expect(r.freezeCandidates).toBe(2);
    expect(r.frozen).toBe(1);
  });

  it('summarises a frame log: extrapolating share from the buffer counters, delay settled on, frames per second', () => {
    const log: FrameLog = {
      fields: ['t', 'observer', 'id', 'x', 'y'],
      values: [100, 0, 7, 110, 200, 200, 0, 7, 118, 200],
      observers: [
        { observer: 0, frames: 60, starvedFrames: 3, interpDelayMeanMs: 150, interpDelayEndMs: 140 },
        { observer: 1, frames: 60, starvedFrames: 0, interpDelayMeanMs: 170, interpDelayEndMs: 180 },
        { observer: 2, frames: 60, starvedFrames: 6, interpDelayMeanMs: 160, interpDelayEndMs: 160 },
      ],
      dropped: 0,
    };
    const { render, errors } = analyzeRender(log, truth(), world, 0, 1000);
    expect(errors).toEqual([0, 2]);
    expect(render.errorUnits.p50).toBeGreaterThanOrEqual(0);
    expect(render.extrapolateShare).toBeCloseTo(9 / 180, 10);
    expect(render.interpDelayEndMs).toBe(160);
    expect(render.interpDelayMeanMs).toBe(160);
    expect(render.framesPerSec).toBe(60);
    expect(render.observers).toBe(3);
  });
});
