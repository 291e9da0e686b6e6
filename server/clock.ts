/**
 * Injected time. Game code never calls `Date.now()` or `setTimeout` directly: it takes a
 * `Scheduler`, so tests step time exactly (`ManualScheduler.advance`) instead of sleeping.
 */

/** A pending callback; `cancel()` is idempotent. */
export interface Timer {
  cancel(): void;
}

export interface Scheduler {
  /** Milliseconds; epoch-based so clients and servers on one machine share the clock. */
  now(): number;
  /** Run `fn` once after `delayMs` (clamped to >= 0). */
  after(delayMs: number, fn: () => void): Timer;
}

/**
 * `performance.timeOrigin`, read once: it is fixed for the life of the process, and on Node 20
 * the getter goes into the runtime on every read (the session's input path reads the clock once
 * per message; issue 12's profile put the getter at about 1 % of the WebSocket server's CPU).
 */
const TIME_ORIGIN = performance.timeOrigin;

/**
 * The real clock: `performance.timeOrigin + performance.now()` is monotonic within a process
 * (a wall-clock step from NTP must not make the tick loop run hundreds of catch-up steps) and
 * still epoch-based, so it compares with `Date.now()` on the same machine to within a few ms.
 */
/**
 * The delay `systemScheduler` hands to `setTimeout`: whole milliseconds, rounded up. Node keys
 * its timer lists by duration, so a fractional delay (the tick loop's, a new one at every wake)
 * makes and drops a list per call; and it fires at the next whole millisecond of libuv's clock
 * either way. Up, never down: a timer that fired before its deadline would find nothing due and
 * cost a second wake (test/server/rooms/tick-loop.test.ts counts the wakes).
 */
export function timerDelayMs(delayMs: number): number {
  return Math.ceil(Math.max(0, delayMs));
}

export const systemScheduler: Scheduler = {
  now: () => TIME_ORIGIN + performance.now(),
  after(delayMs, fn) {
    const handle = setTimeout(fn, timerDelayMs(delayMs));
    return { cancel: () => clearTimeout(handle) };
  },
};

interface ManualEntry {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A scheduler for tests: time moves only when `advance` is called, and due timers fire in
 * deadline order (ties in creation order), including timers scheduled by other timers.
 */
export class ManualScheduler implements Scheduler {
  private time: number;
  private seq = 0;
  private entries: ManualEntry[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  after(delayMs: number, fn: () => void): Timer {
    const entry: ManualEntry = { at: this.time + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.entries.push(entry);
    return { cancel: () => { entry.cancelled = true; } };
  }

  /** Number of timers still pending (cancelled ones excluded). */
  get pending(): number {
    return this.entries.filter((e) => !e.cancelled).length;
  }

  /** Move time forward without firing timers: what a blocking pause (GC, busy CPU) looks like. */
  jump(ms: number): void {
    this.time += ms;
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      this.entries = this.entries.filter((e) => !e.cancelled);
      let next: ManualEntry | undefined;
      for (const e of this.entries) {
        if (e.at <= target && (!next || e.at < next.at || (e.at === next.at && e.seq < next.seq))) next = e;
      }
      if (!next) break;
      this.time = Math.max(this.time, next.at);
      next.cancelled = true;
      next.fn();
    }
    this.time = Math.max(this.time, target);
  }
}
