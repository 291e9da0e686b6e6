/**
 * The child's end of the protocol in child.ts, for entry scripts a harness starts: events out as
 * JSON lines on stdout, commands in as JSON lines on stdin. Progress and diagnostics go to
 * stderr, so stdout stays machine-readable.
 */
import { createInterface } from 'node:readline';
import { parseJsonLine, writeJsonLine } from './json-lines.js';
import type { ChildCommand } from './child.js';

/** Print one event line for the harness. */
export function emit(event: string, fields: Record<string, unknown> = {}): void {
  writeJsonLine({ event, ...fields });
}

/** After `fatal`, the moment given to stdout before the process exits. */
const FATAL_EXIT_DELAY_MS = 100;

/** Report a failure the harness waits on (`waitFor` rejects with `message`) and exit. */
export function fail(message: string, exitCode = 1): void {
  emit('fatal', { message });
  setTimeout(() => process.exit(exitCode), FATAL_EXIT_DELAY_MS);
}

export interface CommandLoopOptions {
  /**
   * Runs when the harness stops the child (SIGTERM) or goes away (stdin closes); the process
   * exits when it settles (code 0) or fails (code 1). Default: exit at once.
   */
  onStop?: () => unknown;
}

/**
 * Serve the harness: every command line on stdin goes to `handle` (a handler that throws or
 * rejects reports `fatal` and ends the child), and the child ends cleanly when told to stop or
 * when the harness is gone, so a crashed harness never leaves a server or 500 clients behind.
 */
export function serveCommands(handle: (command: ChildCommand) => void | Promise<void>, opts: CommandLoopOptions = {}): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    Promise.resolve()
      .then(() => opts.onStop?.())
      .then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', stop);
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      const c = parseJsonLine(line);
      if (!c || typeof c.cmd !== 'string') return;
      const command = c as ChildCommand;
      Promise.resolve()
        .then(() => handle(command))
        .catch((err: unknown) => fail(`command ${command.cmd} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
    })
    .once('close', stop);
}

/** For children that take no commands: still end cleanly on SIGTERM and when the harness is gone. */
export function endWithHarness(onStop?: () => unknown): void {
  serveCommands(() => {}, { onStop });
}
