import type { Scheduler, Timer } from '../clock.js';

/**
 * Most simulation steps run in one wake-up when the loop has fallen behind (a GC pause, a busy
 * core). Past this the loop drops the backlog instead of trying to catch up: catching up costs
 * more time, which puts it further behind (the "spiral of death"). Skipped steps are counted.
 */
export const MAX_CATCH_UP_STEPS = 5;

export const DEFAULT_TICK_HZ = 60;
/** Fraction of a step treated as rounding noise when counting owed steps. */
const STEP_EPSILON = 1e-4;
/** Smallest timer delay the loop asks for. */
const MIN_TIMER_DELAY_MS = 0.01;
export const DEFAULT_SNAPSHOT_HZ = 20;

export interface TickLoopOptions {
  scheduler: Scheduler;
  /** Simulation steps per second (default 60). */
  tickHz?: number;
  /** Snapshots per second (default 20); must divide `tickHz`. */
  snapshotHz?: number;
  maxCatchUpSteps?: number;
  /** One fixed simulation step; `dtSeconds` is always `1 / tickHz`. */
  onStep(tick: number, dtSeconds: number): void;
  /**
   * Called after the steps of a wake-up when at least one snapshot boundary was crossed, with
   * the newest tick. At most once per wake-up: a snapshot of state that is already stale by the
   * end of the same wake-up would be wasted bandwidth.
   */
  onSnapshot(tick: number): void;
  /**
   * Asked before every step and before every snapshot: false stops the loop at once, before it
   * simulates or sends anything more, and `onHalted` runs. A cluster room passes its lease's
   * `valid()` here (docs/cluster.md, "Lease and fencing"): a room whose lease may have passed to
   * another node must not take one more step.
   */
  canStep?: () => boolean;
  /** The loop stopped itself because `canStep` said no. */
  onHalted?: () => void;
}

/**
 * Fixed-step loop (Gaffer on Games, "Fix Your Timestep"): simulation time advances in exact
 * steps of 1/tickHz no matter how late the timer fires; the step count owed is computed from the
 * start time, so timer jitter never accumulates into drift.
 */
export class FixedStepLoop {
  readonly tickHz: number;
  readonly snapshotHz: number;
  readonly stepMs: number;
  private readonly ticksPerSnapshot: number;
  private readonly maxCatchUp: number;
  private startedAt = 0;
  /** Steps accounted for since start: simulated plus skipped. */
  private accounted = 0;
  private currentTick = 0;
  private skipped = 0;
  private timer: Timer | null = null;
  private running = false;

  constructor(private readonly options: TickLoopOptions) {
    this.tickHz = options.tickHz ?? DEFAULT_TICK_HZ;
    this.snapshotHz = options.snapshotHz ?? DEFAULT_SNAPSHOT_HZ;
    if (!(this.tickHz > 0) || !(this.snapshotHz > 0) || this.tickHz % this.snapshotHz !== 0) {
      throw new RangeError(`snapshotHz (${this.snapshotHz}) must be positive and divide tickHz (${this.tickHz})`);
    }
    this.stepMs = 1000 / this.tickHz;
    this.ticksPerSnapshot = this.tickHz / this.snapshotHz;
    this.maxCatchUp = Math.max(1, options.maxCatchUpSteps ?? MAX_CATCH_UP_STEPS);
  }

  /** Number of the last simulated step (0 before the first). */
  get tick(): number {
    return this.currentTick;
  }

  /** Steps dropped because the loop fell more than `maxCatchUpSteps` behind. */
  get skippedSteps(): number {
    return this.skipped;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Starts stepping. `fromTick`: the number of the last step already simulated (a room restored
   * from a checkpoint continues its tick count).
   */
  start(fromTick?: number): void {
    if (this.running) return;
    this.running = true;
    if (fromTick !== undefined && Number.isSafeInteger(fromTick) && fromTick >= 0) this.currentTick = fromTick;
    this.startedAt = this.options.scheduler.now();
    this.accounted = 0;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
  }

  private schedule(): void {
    const nextAt = this.startedAt + (this.accounted + 1) * this.stepMs;
    // Never a zero delay: a wake that finds no step owed must not spin.
    const delay = Math.max(MIN_TIMER_DELAY_MS, nextAt - this.options.scheduler.now());
    this.timer = this.options.scheduler.after(delay, () => this.wake());
  }

  private wake(): void {
    this.timer = null;
    if (!this.running) return;
    // STEP_EPSILON absorbs float rounding of epoch-sized millisecond values (their spacing is
    // ~0.25 us): a timer that fires "exactly" on a step boundary must count that step.
    const owed = Math.floor((this.options.scheduler.now() - this.startedAt) / this.stepMs + STEP_EPSILON) - this.accounted;
    let toRun = owed;
    if (owed > this.maxCatchUp) {
      this.skipped += owed - this.maxCatchUp;
      this.accounted += owed - this.maxCatchUp;
      toRun = this.maxCatchUp;
    }
    let snapshotDue = false;
    const dt = 1 / this.tickHz;
    for (let i = 0; i < toRun && this.running; i++) {
      if (!this.allowed()) return;
      this.accounted++;
      this.currentTick++;
      this.options.onStep(this.currentTick, dt);
      if (this.currentTick % this.ticksPerSnapshot === 0) snapshotDue = true;
    }
    if (snapshotDue && this.running) {
      if (!this.allowed()) return;
      this.options.onSnapshot(this.currentTick);
    }
    if (this.running) this.schedule();
  }

  /** The `canStep` gate; stops the loop (and says so) when it is closed. */
  private allowed(): boolean {
    if (!this.options.canStep || this.options.canStep()) return true;
    this.stop();
    this.options.onHalted?.();
    return false;
  }
}
