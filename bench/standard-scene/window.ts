/**
 * The measured window of a benchmark child (server, observer, load), over the tools' protocol
 * (tools/lib/child-entry.ts): the command `start` takes the child's baselines and answers
 * `started`; `stop` ends the window and answers `stopped` with the child's report. The window's
 * wall time and the process's own CPU and event-loop load come from tools/lib/process-load.ts.
 */
import { emit, serveCommands } from '../../tools/lib/child-entry.js';
import { ProcessLoad, type ProcessLoadReport } from '../../tools/lib/process-load.js';

export interface MeasuredWindow<B> {
  /** Baselines at the window's start (counters to subtract at the end). */
  begin(): B | Promise<B>;
  /** The report for the window, from the baselines and this process's load over it. */
  end(baseline: B, load: ProcessLoadReport): object | Promise<object>;
  /** Runs when the harness stops the child (see serveCommands). */
  onStop?: () => unknown;
  /**
   * Event-loop delay sampling resolution of the window's ProcessLoad, ms (default
   * DEFAULT_LOOP_RESOLUTION_MS). The sampler is a native timer: it wakes the process at this
   * period for the whole window, and each wake costs real CPU (docs/profiling.md, "The room's
   * fixed cost").
   */
  loopResolutionMs?: number;
}

/**
 * The loop-delay resolution of the server's window: the Colyseus peer's server.mjs samples its
 * event loop at this resolution over its window, so both servers under comparison pay the same
 * instrumentation (100 wakes a second). At 5 ms ours paid 100 more than the peer's, about
 * 6 ms/s of CPU on this kind of machine, charged to tickwire. test/bench/window.test.ts reads
 * the peer's source to keep the two in step.
 */
export const SERVER_LOOP_RESOLUTION_MS = 10;

export function serveWindow<B>(w: MeasuredWindow<B>): void {
  let open: { baseline: B; load: ProcessLoad } | null = null;
  serveCommands(async (c) => {
    if (c.cmd === 'start') {
      const baseline = await w.begin();
      open = { baseline, load: new ProcessLoad(w.loopResolutionMs) };
      emit('started');
    } else if (c.cmd === 'stop') {
      const o = open;
      if (!o) throw new Error('stop before start');
      open = null;
      emit('stopped', { report: await w.end(o.baseline, o.load.stop()) });
    }
  }, { onStop: w.onStop });
}
