import { describe, expect, it } from 'vitest';
import { FRAME_SAMPLE_LIMIT, FrameSampleRing, installDebugObject } from '../../client/debug.js';

describe('installDebugObject', () => {
  it('publishes read-only getters whose values are copies', () => {
    const state = { n: 1, list: ['a'] };
    const target: Record<string, unknown> = {};
    installDebugObject(target, { count: () => state.n, lines: () => state.list, samples: (s?: number) => [s ?? 0] });
    const tw = target.tickwire as Record<string, unknown> & { samples(s?: number): unknown };
    expect(tw.count).toBe(1);
    state.n = 2;
    expect(tw.count).toBe(2);
    (tw.lines as string[]).push('mutated');
    expect(state.list).toEqual(['a']);
    expect(() => { (tw as unknown as { count: number }).count = 5; }).toThrow(TypeError);
    expect(() => { target.tickwire = {}; }).toThrow(TypeError);
    expect(Object.isFrozen(tw)).toBe(true);
    expect(tw.samples(7)).toEqual([7]);
  });
});

describe('FrameSampleRing', () => {
  it('keeps the newest frames in order, bounded', () => {
    const ring = new FrameSampleRing();
    for (let i = 0; i < FRAME_SAMPLE_LIMIT + 10; i++) ring.add(i, [{ id: 1, x: i, y: 0, angle: 0, name: 'a', own: false }]);
    const all = ring.since(-Infinity);
    expect(all.length).toBe(FRAME_SAMPLE_LIMIT);
    expect(all[0].t).toBe(10);
    expect(all[all.length - 1].e).toEqual([[1, FRAME_SAMPLE_LIMIT + 9, 0, 0]]);
    expect(ring.since(FRAME_SAMPLE_LIMIT + 7).map((s) => s.t)).toEqual([FRAME_SAMPLE_LIMIT + 8, FRAME_SAMPLE_LIMIT + 9]);
  });
});
