/**
 * Whether a process (by PID) still exists, and a bounded wait for it to be gone: what a test of
 * a tool checks after stopping it (its children, grandchildren and helpers must not outlive it).
 */

/** Whether a process with this PID exists (signal 0 only checks; a zombie still counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How often `waitProcessGone` looks. */
export const PROCESS_GONE_POLL_MS = 50;

/**
 * Resolves true once no process has `pid` any more, false if one still does after `timeoutMs`
 * (a process reaped by init after its parent died goes a moment after the signal).
 */
export async function waitProcessGone(pid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (processAlive(pid)) {
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, PROCESS_GONE_POLL_MS));
  }
  return true;
}
