/**
 * Teardown that runs however a harness ends: normal return, thrown error, Ctrl-C (SIGINT),
 * SIGTERM, or `process.exit`. Each resource (a child process, a network namespace) registers an
 * async `run` for the orderly path and a sync `runSync` for the `exit` event, where the event
 * loop no longer turns.
 */

export interface CleanupAction {
  label: string;
  run(): Promise<void>;
  runSync(): void;
}

/** Last-in first-out list of teardown actions (children are stopped before their namespace goes). */
export class CleanupStack {
  private readonly actions: CleanupAction[] = [];
  private signalsInstalled = false;
  private running: Promise<void> | null = null;

  /** Register an action; returns a function that unregisters it (when torn down by hand). */
  push(action: CleanupAction): () => void {
    this.actions.push(action);
    return () => {
      const i = this.actions.indexOf(action);
      if (i >= 0) this.actions.splice(i, 1);
    };
  }

  get size(): number {
    return this.actions.length;
  }

  /** Run every registered action, newest first; errors are reported and do not stop the rest. */
  runAll(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      while (this.actions.length > 0) {
        const a = this.actions.pop()!;
        try {
          await a.run();
        } catch (err) {
          process.stderr.write(`cleanup ${a.label} failed: ${(err as Error).message}\n`);
        }
      }
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Synchronous best effort for the `exit` event. */
  runAllSync(): void {
    while (this.actions.length > 0) {
      const a = this.actions.pop()!;
      try {
        a.runSync();
      } catch {
        // Nothing more can be done while the process exits; the orderly path reports errors.
      }
    }
  }

  /**
   * Make SIGINT/SIGTERM tear everything down and then exit (130 / 143, the shell convention), and
   * make any other exit run the sync teardown. Only CLIs call this; tests use try/finally so a
   * test runner's own signal handling stays intact. `announce` is the line printed on a signal.
   */
  installProcessHandlers(announce: (signal: NodeJS.Signals) => string = (s) => `${s}: stopping children`): void {
    if (this.signalsInstalled) return;
    this.signalsInstalled = true;
    const onSignal = (signal: NodeJS.Signals, exitCode: number) => {
      process.stderr.write(`${announce(signal)}\n`);
      void this.runAll().finally(() => process.exit(exitCode));
    };
    process.once('SIGINT', () => onSignal('SIGINT', 130));
    process.once('SIGTERM', () => onSignal('SIGTERM', 143));
    process.once('exit', () => this.runAllSync());
  }
}
