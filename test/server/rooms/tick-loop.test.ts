import { describe, expect, it } from 'vitest';
import { ManualScheduler, timerDelayMs, type Scheduler } from '../../../server/clock.js';
import { FixedStepLoop, MAX_CATCH_UP_STEPS } from '../../../server/rooms/tick-loop.js';

function makeLoop(scheduler: ManualScheduler, maxCatchUpSteps?: number) {
  const steps: number[] = [];
  const snapshots: number[] = [];
  const loop = new FixedStepLoop({
    scheduler, tickHz: 60, snapshotHz: 20, maxCatchUpSteps,
    onStep: (tick, dt) => { expect(dt).toBe(1 / 60); steps.push(tick); },
    onSnapshot: (tick) => snapshots.push(tick),
  });
  return { loop, steps, snapshots };
}

describe('FixedStepLoop', () => {
  it('runs exactly 60 steps and 20 snapshots per simulated second', () => {
    const s = new ManualScheduler();
    const { loop, steps, snapshots } = makeLoop(s);
    loop.start();
    s.advance(1000);
    expect(steps.length).toBe(60);
    expect(steps[59]).toBe(60);
    expect(snapshots).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 3));
    expect(loop.skippedSteps).toBe(0);
  });

  it('wakes once per step: 60 timers a second with the real scheduler\'s whole-ms delays, none finding no step owed', () => {
    const s = new ManualScheduler();
    let timers = 0;
    let idleWakes = 0;
    let stepsThisWake = 0;
    // The delays systemScheduler would hand to setTimeout (16.67 ms becomes 17, then 16, ...).
    const rounded: Scheduler = {
      now: () => s.now(),
      after: (delayMs, fn) => {
        timers++;
        return s.after(timerDelayMs(delayMs), () => {
          stepsThisWake = 0;
          fn();
          // A bound, so a loop that spins on zero delays fails here instead of hanging.
          if (stepsThisWake === 0 && ++idleWakes > 100) throw new Error('the loop keeps waking with no step owed');
        });
      },
    };
    const loop = new FixedStepLoop({
      scheduler: rounded, tickHz: 60, snapshotHz: 20,
      onStep: () => { stepsThisWake++; },
      onSnapshot: () => {},
    });
    loop.start();
    s.advance(10_000);
    expect(loop.tick).toBe(600);
    expect(idleWakes).toBe(0);
    // One timer per step plus the one pending for the next step.
    expect(timers).toBe(601);
  });

  it('catches up late timers without drift', () => {
    const s = new ManualScheduler();
    const { loop, steps } = makeLoop(s);
    loop.start();
    // Advance in odd increments: the step count follows elapsed time, not timer count.
    for (let i = 0; i < 100; i++) s.advance(7);
    expect(steps.length).toBe(Math.floor(700 / (1000 / 60)));
  });

  it('caps catch-up steps after a stall, counts the skipped ones and keeps one snapshot', () => {
    const s = new ManualScheduler();
    const steps: number[] = [];
    const snaps: number[] = [];
    let stall = true;
    const loop = new FixedStepLoop({
      scheduler: s,
      onStep: (tick) => {
        steps.push(tick);
        // Simulate a 1 s blocking pause inside the first step.
        if (stall) { stall = false; s.jump(1000); }
      },
      onSnapshot: (tick) => snaps.push(tick),
    });
    loop.start();
    s.advance(17);
    // First wake ran step 1 (which stalled 1 s). Next wake owes ~60 steps: only MAX run.
    s.advance(1);
    expect(steps.length).toBe(1 + MAX_CATCH_UP_STEPS);
    expect(loop.skippedSteps).toBeGreaterThan(50);
    expect(snaps.length).toBeLessThanOrEqual(2);
  });

  it('stops firing after stop()', () => {
    const s = new ManualScheduler();
    const { loop, steps } = makeLoop(s);
    loop.start();
    s.advance(100);
    const n = steps.length;
    loop.stop();
    s.advance(1000);
    expect(steps.length).toBe(n);
    expect(s.pending).toBe(0);
  });

  it('rejects a snapshot rate that does not divide the tick rate', () => {
    const s = new ManualScheduler();
    expect(() => new FixedStepLoop({ scheduler: s, tickHz: 60, snapshotHz: 25, onStep() {}, onSnapshot() {} })).toThrow(RangeError);
  });
});
