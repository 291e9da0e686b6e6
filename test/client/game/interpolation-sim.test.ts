/**
 * The interpolation buffer over a simulated lossy, jittery link (bench/interpolation.ts, seeded):
 * the offline counterpart of the browser loss test.
 */
import { describe, expect, it } from 'vitest';
import { simulate } from '../../../bench/interpolation.js';
import { DELAY_RULES } from '../../../client/game/interpolation.js';

describe('interpolation over a simulated lossy link', () => {
  it.each([
    [0.05, 10],
    [0.05, 30],
    [0.1, 10],
    [0.15, 30],
  ])('at %f loss and %i ms jitter: no stall over two snapshot intervals', (loss, jitterMs) => {
    const r = simulate({ loss, jitterMs, seconds: 60, seed: 7 });
    expect(r.snapshotsLost).toBeGreaterThan(0);
    expect(r.longestStallMs).toBeLessThanOrEqual(100);
    expect(r.extrapolatedShare).toBeLessThan(0.01);
    // The drawn position is where the player really was at the rendered time, to within a
    // unit (interpolating across a lost snapshot cuts the corner of a turn).
    expect(r.errorP99).toBeLessThan(2);
    expect(r.delayP95Ms).toBeLessThanOrEqual(500);
  });

  it('a fixed one-interval delay stalls under the same conditions (the measure can fail)', () => {
    const fixed = { baseIntervals: 1, jitterFactor: 0, minDelayMs: 50, maxDelayMs: 50 };
    const r = simulate({ loss: 0.15, jitterMs: 30, seconds: 60, seed: 7, buffer: fixed });
    // Standing still for more than a snapshot interval, where the adaptive buffer never does.
    expect(r.longestStallMs).toBeGreaterThan(50);
    expect(r.extrapolatedShare).toBeGreaterThan(0.05);
  });

  it.each([
    [0.05, 10],
    [0.1, 10],
    [0.15, 30],
  ])('the datagram rule (DELAY_RULES.datagram) at %f loss and %i ms jitter: no stall over two intervals, under 1 percent of frames extrapolated, well under the ordered rule\'s delay', (loss, jitterMs) => {
    const r = simulate({ loss, jitterMs, seconds: 60, seed: 7, buffer: DELAY_RULES.datagram });
    const ordered = simulate({ loss, jitterMs, seconds: 60, seed: 7, buffer: DELAY_RULES.ordered });
    expect(r.snapshotsLost).toBeGreaterThan(0);
    expect(r.longestStallMs).toBeLessThanOrEqual(100);
    expect(r.extrapolatedShare).toBeLessThan(0.01);
    expect(r.delayP50Ms).toBeLessThanOrEqual(ordered.delayP50Ms - 30);
  });

  it('keeps the delay at three intervals on a clean link', () => {
    const r = simulate({ loss: 0, jitterMs: 0, seconds: 20, seed: 7 });
    expect(r.delayP50Ms).toBe(150);
    expect(r.longestStallMs).toBe(0);
  });
});
