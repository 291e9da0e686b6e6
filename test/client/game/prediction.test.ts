import { describe, expect, it } from 'vitest';
import { MAX_INPUT_HISTORY, Predictor } from '../../../client/game/prediction.js';
import { shortDelta } from '../../../client/game/wrap.js';
import { inputVelocity, wrapCoord } from '../../../shared/scene.js';

const W = 1000;
const SPEED = 100; // units/s, the standard scene
const cfg = { speed: SPEED, worldW: W, worldH: W };

/** A tiny authoritative server with a one-way delay, applying held inputs continuously or at 60 Hz ticks. */
class FakeWorld {
  inputs: Array<{ seq: number; dx: number; dy: number; t: number }> = [];
  constructor(private readonly start: { x: number; y: number }, private readonly owd: number, private readonly tickMs = 0) {}
  /** Server state at server time T: inputs applied from their arrival (t + owd). */
  at(T: number): { x: number; y: number; lastSeq: number } {
    const tq = this.tickMs > 0 ? Math.floor(T / this.tickMs) * this.tickMs : T;
    let x = this.start.x;
    let y = this.start.y;
    let lastSeq = 0;
    for (let i = 0; i < this.inputs.length; i++) {
      const inp = this.inputs[i];
      const arrive = this.tickMs > 0 ? Math.ceil((inp.t + this.owd) / this.tickMs) * this.tickMs : inp.t + this.owd;
      const nextArr = i + 1 < this.inputs.length ? this.inputs[i + 1].t + this.owd : Infinity;
      const next = this.tickMs > 0 && nextArr !== Infinity ? Math.ceil(nextArr / this.tickMs) * this.tickMs : nextArr;
      if (arrive > tq) break;
      lastSeq = inp.seq;
      const v = inputVelocity(inp.dx, inp.dy);
      const dur = Math.min(tq, next) - arrive;
      x += (v.x * SPEED * dur) / 1000;
      y += (v.y * SPEED * dur) / 1000;
    }
    return { x: wrapCoord(x, W), y: wrapCoord(y, W), lastSeq };
  }
}

function dirFor(seq: number): [number, number] {
  const dirs: Array<[number, number]> = [[1, 0], [1, 1], [0, 1], [-1, 0], [0, 0], [0, -1], [1, -0.5]];
  return dirs[Math.floor(seq / 7) % dirs.length];
}

describe('Predictor', () => {
  it('has no position before the first snapshot', () => {
    const p = new Predictor(cfg);
    p.recordInput(1, 1, 0, 0);
    expect(p.ready).toBe(false);
    expect(p.position(100)).toBeNull();
  });

  it.each([
    ['loopback', 1],
    ['100 ms RTT', 50],
    ['300 ms RTT', 150],
  ])('matches an exact server with no correction (%s)', (_label, owd) => {
    const start = { x: 500, y: 500 };
    const world = new FakeWorld(start, owd);
    const p = new Predictor(cfg);
    let seq = 0;
    // Inputs every 50 ms, snapshots every 50 ms (offset by 20 ms), over 5 s.
    for (let t = 0; t <= 5000; t += 10) {
      if (t % 50 === 0) {
        seq++;
        const [dx, dy] = dirFor(seq);
        p.recordInput(seq, dx, dy, t);
        world.inputs.push({ seq, dx, dy, t });
      }
      if (t % 50 === 20 && t >= 2 * owd) {
        const s = world.at(t - owd);
        p.reconcile(s, s.lastSeq, t, 2 * owd);
        expect(p.lastCorrectionDistance).toBeLessThan(1e-6);
      }
      if (p.ready) {
        // Our own motion shows at once: the local integral of our inputs.
        const truth = world.at(t + owd);
        const got = p.position(t)!;
        expect(Math.abs(shortDelta(got.x, truth.x, W))).toBeLessThan(1e-6);
        expect(Math.abs(shortDelta(got.y, truth.y, W))).toBeLessThan(1e-6);
      }
    }
  });

  it('stays within one tick of movement against a 60 Hz server', () => {
    const owd = 20;
    const world = new FakeWorld({ x: 100, y: 900 }, owd, 1000 / 60);
    const p = new Predictor(cfg);
    let seq = 0;
    let worst = 0;
    for (let t = 0; t <= 4000; t += 5) {
      if (t % 50 === 0) {
        seq++;
        const [dx, dy] = dirFor(seq);
        p.recordInput(seq, dx, dy, t);
        world.inputs.push({ seq, dx, dy, t });
      }
      if (t % 50 === 25 && t > 100) {
        const s = world.at(t - owd);
        p.reconcile(s, s.lastSeq, t, 2 * owd);
        worst = Math.max(worst, p.lastCorrectionDistance);
      }
    }
    // One 60 Hz tick at 100 units/s is 1.67 units; tick rounding on both ends at most doubles it.
    expect(worst).toBeLessThan(2 * (SPEED / 60) + 1e-6);
  });

  it('replays inputs the server has not processed yet', () => {
    const p = new Predictor(cfg);
    p.recordInput(1, 1, 0, 0);
    p.reconcile({ x: 100, y: 100 }, 0, 0, 0);
    p.recordInput(2, 0, 1, 100);
    p.recordInput(3, 0, 1, 200);
    // The server processed seq 1 only: it moved 10 units right by then (100 ms at 100 u/s).
    p.reconcile({ x: 110, y: 100 }, 1, 300, 200);
    expect(p.pendingInputs).toBe(2);
    const at = p.predicted(300)!;
    expect(at.x).toBeCloseTo(110, 9);
    expect(at.y).toBeCloseTo(120, 9);
  });

  it('wraps the prediction across the edges', () => {
    const p = new Predictor(cfg);
    p.recordInput(1, 1, -1, 0);
    p.reconcile({ x: 995, y: 3 }, 1, 0, 0);
    const q = p.predicted(1000)!;
    expect(q.x).toBeCloseTo(wrapCoord(995 + 100 * Math.SQRT1_2, W), 9);
    expect(q.y).toBeCloseTo(wrapCoord(3 - 100 * Math.SQRT1_2, W), 9);
  });

  it('smooths a small correction instead of jumping', () => {
    const p = new Predictor(cfg);
    p.recordInput(1, 0, 0, 0);
    p.reconcile({ x: 500, y: 500 }, 1, 0, 0);
    expect(p.position(100)).toEqual({ x: 500, y: 500 });
    p.reconcile({ x: 510, y: 500 }, 1, 100, 0);
    expect(p.lastCorrectionDistance).toBeCloseTo(10, 9);
    expect(p.position(100)!.x).toBeCloseTo(500, 9); // no visible jump at the moment of correction
    const later = p.position(200)!.x;
    expect(later).toBeGreaterThan(500);
    expect(later).toBeLessThan(510);
    expect(p.position(1000)!.x).toBeCloseTo(510, 2);
  });

  it('smooths a correction across the edge the short way', () => {
    const p = new Predictor(cfg);
    p.recordInput(1, 0, 0, 0);
    p.reconcile({ x: 998, y: 500 }, 1, 0, 0);
    p.reconcile({ x: 4, y: 500 }, 1, 100, 0);
    const mid = p.position(150)!.x;
    expect(mid > 998 || mid < 4).toBe(true);
  });

  it('snaps on a large correction (teleport, resume)', () => {
    const p = new Predictor(cfg);
    p.recordInput(1, 0, 0, 0);
    p.reconcile({ x: 100, y: 100 }, 1, 0, 0);
    p.reconcile({ x: 600, y: 100 }, 1, 100, 0);
    expect(p.position(100)).toEqual({ x: 600, y: 100 });
  });

  it('keeps a bounded input history without losing motion', () => {
    const p = new Predictor(cfg);
    p.recordInput(1, 1, 0, 0);
    p.reconcile({ x: 0, y: 0 }, 1, 0, 0);
    for (let seq = 2; seq < 2000; seq++) p.recordInput(seq, 1, 0, (seq - 1) * 50);
    expect(p.pendingInputs).toBeLessThanOrEqual(MAX_INPUT_HISTORY);
    const t = 1999 * 50;
    expect(p.predicted(t)!.x).toBeCloseTo(wrapCoord((t / 1000) * SPEED, W), 6);
  });

  it('ignores out-of-order input records and non-finite server positions', () => {
    const p = new Predictor(cfg);
    p.recordInput(5, 1, 0, 100);
    p.recordInput(4, -1, 0, 150);
    p.reconcile({ x: Number.NaN, y: 0 }, 5, 200, 0);
    expect(p.ready).toBe(false);
    p.reconcile({ x: 10, y: 10 }, 5, 200, 0);
    expect(p.predicted(300)!.x).toBeCloseTo(20, 9);
  });
});
