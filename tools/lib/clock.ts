/**
 * Time helpers of the tools. `epochNow` is the clock the server stamps snapshots with
 * (server/clock.ts's `systemScheduler`), re-exported rather than rewritten, so a tool on the same
 * machine compares its receipt times with the server's stamps without any clock sync.
 */
import { systemScheduler } from '../../server/clock.js';

/** Epoch milliseconds, monotonic within a process: the server's own clock. */
export const epochNow: () => number = systemScheduler.now;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with `p`, or rejects after `ms` with `what` in the message. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]);
}
