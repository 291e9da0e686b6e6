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
}

export function serveWindow<B>(w: MeasuredWindow<B>): void {
  let open: { baseline: B; load: ProcessLoad } | null = null;
  serveCommands(async (c) => {
    if (c.cmd === 'start') {
      const baseline = await w.begin();
      open = { baseline, load: new ProcessLoad() };
      emit('started');
    } else if (c.cmd === 'stop') {
      const o = open;
      if (!o) throw new Error('stop before start');
      open = null;
      emit('stopped', { report: await w.end(o.baseline, o.load.stop()) });
    }
  }, { onStop: w.onStop });
}
