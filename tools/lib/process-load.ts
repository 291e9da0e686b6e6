/**
 * A process's own load over a measurement window: CPU seconds per wall second (user + system),
 * event-loop delay p99 and event-loop utilisation. Every tool that measures reports these beside
 * its figures, because a saturated measuring process (the server, the bots, the load generator)
 * makes the network or the server look worse, or better, than it is.
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';

export interface ProcessLoadReport {
  /** Wall time of the window, ms. */
  wallMs: number;
  /** CPU seconds (user + system) per wall second. */
  cpuPerSec: number;
  /** Event-loop delay p99, ms (to the sampling resolution). */
  loopDelayP99Ms: number;
  /** Share of the window the event loop was busy, 0..1. */
  eventLoopUtilization: number;
}

/** Event-loop delay sampling resolution by default: fine enough to see a 5 ms stall. */
export const DEFAULT_LOOP_RESOLUTION_MS = 5;

/** Starts measuring at construction; `read()` reports the window so far, `stop()` ends it. */
export class ProcessLoad {
  private readonly t0 = performance.now();
  private readonly cpu0 = process.cpuUsage();
  private readonly elu0 = performance.eventLoopUtilization();
  private readonly loop: IntervalHistogram;
  private stopped = false;

  constructor(loopResolutionMs: number = DEFAULT_LOOP_RESOLUTION_MS) {
    this.loop = monitorEventLoopDelay({ resolution: loopResolutionMs });
    this.loop.enable();
  }

  read(): ProcessLoadReport {
    const wallMs = Math.max(1e-3, performance.now() - this.t0);
    const cpu = process.cpuUsage(this.cpu0);
    return {
      wallMs,
      cpuPerSec: (cpu.user + cpu.system) / 1e3 / wallMs,
      loopDelayP99Ms: this.loop.percentile(99) / 1e6,
      eventLoopUtilization: performance.eventLoopUtilization(this.elu0).utilization,
    };
  }

  /** The window's report; the delay monitor is released. Idempotent for the monitor. */
  stop(): ProcessLoadReport {
    const r = this.read();
    if (!this.stopped) {
      this.stopped = true;
      this.loop.disable();
    }
    return r;
  }
}
