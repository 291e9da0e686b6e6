import { describe, expect, it } from 'vitest';
import { InterpolationBuffer, LOSS_RESIDUAL, lossIntervals, type InterpolationConfig } from '../../../client/game/interpolation.js';
import type { SnapshotPath } from '../../../client/net/game-client-types.js';
import type { EntityState } from '../../../shared/snapshot/view.js';
import { shortDelta } from '../../../client/game/wrap.js';

const IV = 50;
const cfg = { snapshotIntervalMs: IV, worldW: 1000, worldH: 1000 };
const T0 = 100_000;

/** Entity 1 moves +x at 100 units/s (5 units per snapshot), starting at x0. */
function stateAt(serverT: number, x0 = 0): EntityState[] {
  return [{ id: 1, x: (((x0 + (serverT - T0) / 10) % 1000) + 1000) % 1000, y: 500, angle: 0 }];
}

function feed(buf: InterpolationBuffer, from: number, to: number, opts: { transit?: (i: number) => number; drop?: (i: number) => boolean; x0?: number } = {}) {
  for (let i = from; i < to; i++) {
    if (opts.drop?.(i)) continue;
    const s = T0 + i * IV;
    buf.push(s, stateAt(s, opts.x0), s + (opts.transit?.(i) ?? 10));
  }
}

describe('lossIntervals', () => {
  it.each([
    [0, 0], [0.005, 0], [0.02, 0], [0.05, 1], [0.1, 1], [0.15, 2], [0.3, 4], [0.9, 4], [1, 4], [Number.NaN, 0],
  ])('p=%f -> %i extra intervals', (p, want) => {
    expect(lossIntervals(p)).toBe(want);
  });
});

describe('InterpolationBuffer steady stream', () => {
  it('renders exactly three intervals behind the fastest path, on the straight line', () => {
    const buf = new InterpolationBuffer(cfg);
    feed(buf, 0, 40);
    expect(buf.targetDelayMs).toBe(150);
    expect(buf.delayMs).toBeCloseTo(150, 9);
    // Local times just after the last arrival, frame by frame; snapshots keep arriving.
    for (let i = 40; i < 80; i++) {
      const s = T0 + i * IV;
      buf.push(s, stateAt(s), s + 10);
      for (const dt of [0, 16, 33]) {
        const local = s + 10 + dt;
        const [e] = buf.sample(local);
        const renderT = local - 160;
        expect(e.x).toBeCloseTo(((renderT - T0) / 10) % 1000, 6);
        expect(e.extrapolated).toBe(false);
      }
    }
    expect(buf.starvedFrames).toBe(0);
    expect(buf.lossRate).toBe(0);
  });

  it('interpolates the short way across the arena edge', () => {
    const buf = new InterpolationBuffer(cfg);
    feed(buf, 0, 10, { x0: 960 });
    const xs: number[] = [];
    for (let i = 10; i < 30; i++) {
      const s = T0 + i * IV;
      buf.push(s, stateAt(s, 960), s + 10);
      for (const dt of [0, 25]) {
        const local = s + 10 + dt;
        const [e] = buf.sample(local);
        const want = (((960 + (local - 160 - T0) / 10) % 1000) + 1000) % 1000;
        expect(Math.abs(shortDelta(e.x, want, 1000))).toBeLessThan(1e-6);
        xs.push(e.x);
      }
    }
    // It really crossed the edge, and every step was small (never through the middle).
    expect(xs.some((x) => x > 990)).toBe(true);
    expect(xs.some((x) => x < 10)).toBe(true);
    for (let i = 1; i < xs.length; i++) expect(Math.abs(shortDelta(xs[i - 1], xs[i], 1000))).toBeLessThan(5);
  });

  it('bridges a lost snapshot without a stall', () => {
    const buf = new InterpolationBuffer(cfg);
    feed(buf, 0, 20);
    let prev = -1;
    for (let i = 20; i < 40; i++) {
      const s = T0 + i * IV;
      if (i !== 25 && i !== 26) buf.push(s, stateAt(s), s + 10); // two in a row lost
      for (let dt = 0; dt < IV; dt += 10) {
        const [e] = buf.sample(s + 10 + dt);
        expect(e.x).toBeGreaterThan(prev);
        expect(e.extrapolated).toBe(false);
        expect(e.x).toBeCloseTo((s + dt - 150 - T0) / 10, 6);
        prev = e.x;
      }
    }
    expect(buf.starvedFrames).toBe(0);
  });

  it('accepts reordered snapshots in place and rejects duplicates', () => {
    const buf = new InterpolationBuffer(cfg);
    feed(buf, 0, 10);
    const s10 = T0 + 10 * IV;
    const s11 = T0 + 11 * IV;
    expect(buf.push(s11, stateAt(s11), s11 + 10)).toBe(true);
    expect(buf.push(s10, stateAt(s10), s11 + 12)).toBe(true);
    expect(buf.push(s10, stateAt(s10), s11 + 13)).toBe(false);
    const [e] = buf.sample(s11 + 20);
    // The late arrival raised the jitter estimate, so the delay grew a little: render time is
    // local time minus the fastest transit (10) minus the current delay.
    expect(buf.delayMs).toBeGreaterThan(150);
    expect(e.x).toBeCloseTo((s11 + 20 - 10 - buf.delayMs - T0) / 10, 6);
  });

  it('ignores duplicated snapshots entirely (no effect on loss or jitter)', () => {
    const buf = new InterpolationBuffer(cfg);
    feed(buf, 0, 10, { drop: (i) => i === 5 });
    const loss = buf.lossRate;
    const jitter = buf.jitterMs;
    expect(loss).toBeGreaterThan(0);
    const s4 = T0 + 4 * IV;
    for (let k = 0; k < 5; k++) expect(buf.push(s4, stateAt(s4), s4 + 300)).toBe(false);
    expect(buf.lossRate).toBe(loss);
    expect(buf.jitterMs).toBe(jitter);
  });

  it('extrapolates at most one interval past the newest snapshot, then holds', () => {
    const buf = new InterpolationBuffer(cfg);
    feed(buf, 0, 20);
    const newest = T0 + 19 * IV;
    const newestX = stateAt(newest)[0].x;
    const [at] = buf.sample(newest + 160);
    expect(at.x).toBeCloseTo(newestX, 6);
    const [half] = buf.sample(newest + 160 + 25);
    expect(half.extrapolated).toBe(true);
    expect(half.x).toBeCloseTo(newestX + 2.5, 6);
    const [late] = buf.sample(newest + 160 + 500);
    expect(late.x).toBeCloseTo(newestX + 5, 6);
    expect(buf.starvedFrames).toBeGreaterThan(0);
  });

  it('snaps on a teleport instead of gliding through the arena', () => {
    const buf = new InterpolationBuffer(cfg);
    const e = (x: number): EntityState[] => [{ id: 7, x, y: 100, angle: 0 }];
    buf.push(T0, e(100), T0 + 10);
    buf.push(T0 + 50, e(400), T0 + 60);
    buf.push(T0 + 100, e(400), T0 + 110);
    for (const r of [T0 + 10, T0 + 20, T0 + 30, T0 + 40]) {
      const [s] = buf.sample(r + 160);
      expect([100, 400]).toContain(s.x);
    }
  });

  it('handles entities entering and leaving', () => {
    const buf = new InterpolationBuffer(cfg);
    const snaps: Array<[number, EntityState[]]> = [
      [0, [{ id: 1, x: 10, y: 10, angle: 0 }]],
      [1, [{ id: 1, x: 15, y: 10, angle: 0 }, { id: 2, x: 300, y: 300, angle: 1 }]],
      [2, [{ id: 2, x: 305, y: 300, angle: 1 }]],
      [3, [{ id: 2, x: 310, y: 300, angle: 1 }]],
    ];
    for (const [i, ents] of snaps) buf.push(T0 + i * IV, ents, T0 + i * IV + 10);
    const ids = (r: number) => buf.sample(r + 160).map((e) => e.id).sort();
    expect(ids(T0 + 25)).toEqual([1, 2]);
    expect(ids(T0 + 75)).toEqual([2]);
  });

  it('follows the u32 server clock through its wrap', () => {
    const buf = new InterpolationBuffer(cfg);
    const base = 2 ** 32 - 500;
    let prev = -Infinity;
    for (let i = 0; i < 30; i++) {
      const unwrapped = base + i * IV;
      const raw = unwrapped % 2 ** 32;
      buf.push(raw, [{ id: 1, x: i * 5, y: 0, angle: 0 }], 1_000 + i * IV + 10);
      const [e] = buf.sample(1_000 + i * IV + 10);
      expect(e.x).toBeGreaterThanOrEqual(prev);
      prev = e.x;
    }
    expect(prev).toBeCloseTo((29 * IV - 150) / 10, 6);
  });

  it('starts over when the server timeline jumps (another server)', () => {
    const buf = new InterpolationBuffer(cfg);
    feed(buf, 0, 10);
    buf.push(5_000, [{ id: 9, x: 1, y: 1, angle: 0 }], T0 + 10 * IV + 10);
    expect(buf.size).toBe(1);
    expect(buf.sample(T0 + 10 * IV + 20).map((e) => e.id)).toEqual([9]);
  });

  it('ignores non-finite times and coordinates', () => {
    const buf = new InterpolationBuffer(cfg);
    expect(buf.push(Number.NaN, [], 0)).toBe(false);
    buf.push(T0, [{ id: 1, x: Number.NaN, y: 0, angle: 0 }, { id: 2, x: 1, y: 2, angle: 0 }], T0 + 10);
    expect(buf.sample(T0 + 10).map((e) => e.id)).toEqual([2]);
  });
});

describe('InterpolationBuffer adapts', () => {
  it('grows with loss, and shrinks back slowly once it clears', () => {
    const buf = new InterpolationBuffer(cfg);
    const drop = (i: number) => i % 20 === 7; // 5 % loss
    let i = 0;
    const step = (lossy: boolean) => {
      const s = T0 + i * IV;
      if (!(lossy && drop(i))) buf.push(s, stateAt(s), s + 10);
      buf.sample(s + 10);
      i++;
    };
    for (let k = 0; k < 400; k++) step(true);
    expect(buf.lossRate).toBeGreaterThan(0.035);
    expect(buf.lossRate).toBeLessThan(0.065);
    expect(buf.targetDelayMs).toBe(200);
    expect(buf.delayMs).toBeCloseTo(200, 6);
    // Loss clears: the target drops back to three intervals, the delay follows slowly.
    const delays: number[] = [];
    for (let k = 0; k < 200; k++) {
      step(false);
      delays.push(buf.delayMs);
    }
    expect(buf.targetDelayMs).toBe(150);
    for (let k = 1; k < delays.length; k++) {
      expect(delays[k]).toBeLessThanOrEqual(delays[k - 1] + 1e-9);
      expect(delays[k - 1] - delays[k]).toBeLessThanOrEqual(0.02 * IV + 1e-9);
    }
    expect(delays[delays.length - 1]).toBeCloseTo(150, 6);
  });

  it('grows with jitter and keeps rendering between snapshots under it', () => {
    const buf = new InterpolationBuffer(cfg);
    const transit = (i: number) => (i % 2 === 0 ? 10 : 40);
    for (let i = 0; i < 200; i++) {
      const s = T0 + i * IV;
      buf.push(s, stateAt(s), s + transit(i));
      for (const dt of [0, 20, 40]) buf.sample(s + transit(i) + dt);
    }
    expect(buf.jitterMs).toBeGreaterThan(25);
    expect(buf.targetDelayMs).toBeGreaterThan(200);
    expect(buf.delayMs).toBeCloseTo(buf.targetDelayMs, 0);
    const starvedBefore = buf.starvedFrames;
    for (let i = 200; i < 260; i++) {
      const s = T0 + i * IV;
      buf.push(s, stateAt(s), s + transit(i));
      for (const dt of [0, 20, 40]) expect(buf.sample(s + transit(i) + dt)[0].extrapolated).toBe(false);
    }
    expect(buf.starvedFrames).toBe(starvedBefore);
  });

  it('never exceeds the configured maximum delay', () => {
    const buf = new InterpolationBuffer({ ...cfg, maxDelayMs: 300 });
    feed(buf, 0, 300, { drop: (i) => i % 3 === 0, transit: (i) => (i % 2 ? 0 : 200) });
    expect(buf.targetDelayMs).toBe(300);
  });
});

describe('InterpolationBuffer delay rule per snapshot path (DELAY_RULES)', () => {
  /** Snapshots 0..n with every `lossEvery`-th one dropped, then the delay the buffer steers to. */
  function settle(path: SnapshotPath | null, lossEvery = 0, config: Partial<InterpolationConfig> = {}): InterpolationBuffer {
    const buf = new InterpolationBuffer({ ...cfg, ...config });
    if (path) buf.usePath(path);
    feed(buf, 0, 400, { drop: (i) => lossEvery > 0 && i % lossEvery === 0 });
    return buf;
  }

  it('starts with the ordered rule: three intervals on a clean link', () => {
    const buf = settle(null);
    expect(buf.path).toBe('ordered');
    expect(buf.targetDelayMs).toBe(150);
  });

  it('datagrams: two intervals on a clean link, where an ordered path keeps three', () => {
    expect(settle('datagram').targetDelayMs).toBe(100);
    expect(settle('ordered').targetDelayMs).toBe(150);
  });

  it('datagrams at 5 % loss: still two intervals, where an ordered path that lost as much would wait four', () => {
    const d = settle('datagram', 20);
    expect(d.lossRate).toBeGreaterThan(0.04);
    expect(d.targetDelayMs).toBe(100);
    expect(settle('ordered', 20).targetDelayMs).toBe(200);
  });

  it('datagrams at 15 % loss still buy extra intervals for the longer runs of losses', () => {
    const d = settle('datagram', 7);
    expect(d.lossRate).toBeGreaterThan(0.12);
    expect(d.targetDelayMs).toBe(150);
  });

  it('values given in the config win over the path\'s rule (the harness compares rules so)', () => {
    expect(settle('datagram', 0, { baseIntervals: 3, lossResidual: LOSS_RESIDUAL }).targetDelayMs).toBe(150);
  });

  it('a path that changes under a running buffer moves the delay at the usual rates, without a jump', () => {
    const buf = settle('ordered');
    const s = T0 + 400 * IV;
    buf.sample(s + 10);
    expect(buf.delayMs).toBeCloseTo(150, 6);
    buf.usePath('datagram');
    expect(buf.targetDelayMs).toBe(100);
    buf.sample(s + 10 + 100);
    // 100 ms at the shrink rate (0.02 ms per ms): 2 ms shorter, not 50.
    expect(buf.delayMs).toBeCloseTo(148, 6);
  });
});
