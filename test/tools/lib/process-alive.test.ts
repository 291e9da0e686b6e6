/** tools/lib/process-alive.ts against real processes: this one, a child before and after it ends. */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { processAlive, waitProcessGone } from '../../../tools/lib/process-alive.js';

describe('processAlive / waitProcessGone', () => {
  it('a running child is alive; once killed and reaped it is gone, and the wait says so', async () => {
    expect(processAlive(process.pid)).toBe(true);
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid!;
    expect(processAlive(pid)).toBe(true);
    // Still there: the wait gives up after its bound and says so.
    const t0 = Date.now();
    expect(await waitProcessGone(pid, 150)).toBe(false);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    expect(await waitProcessGone(pid, 10_000)).toBe(true);
    await exited;
    expect(processAlive(pid)).toBe(false);
  });
});
