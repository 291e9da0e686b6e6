/**
 * The tools' child-process runner against a real child (fixtures/child-fixture.ts run through
 * tsx): events and commands as JSON lines, failures reported with the child's output, stop by
 * SIGTERM to the whole process group, registration for teardown, and a child that ends by
 * itself when its harness goes away.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, ToolChild } from '../../../tools/lib/child.js';
import { CleanupStack } from '../../../tools/lib/cleanup.js';
import { processAlive, waitProcessGone } from '../../../tools/lib/process-alive.js';

const FIXTURE = 'test/tools/lib/fixtures/child-fixture.ts';
/** A tsx child starts in well under this on a busy box. */
const START_MS = 20_000;

const dirs: string[] = [];
const children: ToolChild[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tw-child-'));
  dirs.push(d);
  return d;
}
function start(mode: string, extra: string[] = [], opts: { cleanup?: CleanupStack; logFile?: string; cpus?: string } = {}): ToolChild {
  const c = ToolChild.script(FIXTURE, ['--mode', mode, ...extra], { label: `fixture ${mode}`, ...opts });
  children.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.stop(1000)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('ToolChild', () => {
  it('takes events, answers commands, and keeps plain output apart (tail and log file)', async () => {
    const log = join(tempDir(), 'child.log');
    const c = start('serve', [], { logFile: log });
    const ready = await c.waitFor<{ event: 'ready'; pid: number }>('ready', START_MS);
    expect(ready.pid).toBe(c.pid);
    c.send({ cmd: 'echo', value: { n: 1, s: 'x' } });
    c.send({ cmd: 'echo', value: 2 });
    expect((await c.waitFor('echoed', 5000)).value).toEqual({ n: 1, s: 'x' });
    // Events are taken once: the next wait gets the next one.
    expect((await c.waitFor('echoed', 5000)).value).toBe(2);
    // take() hands over what arrived, without waiting, and only once.
    c.send({ cmd: 'echo', value: 3 });
    c.send({ cmd: 'echo', value: 4 });
    await new Promise((r) => setTimeout(r, 300));
    expect(c.take('echoed').map((e) => e.value)).toEqual([3, 4]);
    expect(c.take('echoed')).toEqual([]);
    expect(c.recentOutput()).toContain('plain text on stdout');
    expect(c.recentOutput()).toContain('a line on stderr');
    await c.stop();
    await new Promise((r) => setTimeout(r, 100));
    const text = readFileSync(log, 'utf8');
    expect(text).toContain('plain text on stdout');
    expect(text).not.toContain('"event"');
  }, 30_000);

  it('rejects a wait when the child reports fatal, exits first, or stays silent', async () => {
    const c = start('serve');
    await c.waitFor('ready', START_MS);
    c.send({ cmd: 'boom' });
    await expect(c.waitFor('never', 5000)).rejects.toThrow(/fixture serve reported: command boom failed: Error: boom on purpose/);

    const quitter = start('exit');
    await expect(quitter.waitFor('ready', START_MS)).rejects.toThrow(/fixture exit exited \(code 3, signal null\) before 'ready'/);
    expect(quitter.hasExited).toBe(true);

    const quiet = start('serve');
    await quiet.waitFor('ready', START_MS);
    await expect(quiet.waitFor('never', 200)).rejects.toThrow(/fixture serve: no 'never' within 200 ms\n[^]*a line on stderr/);
  }, 40_000);

  it('stop() ends the child cleanly by SIGTERM and takes its process group with it', async () => {
    const marker = join(tempDir(), 'stopped');
    const c = start('grandchild', ['--marker', marker]);
    const g = await c.waitFor<{ event: 'grandchild'; pid: number }>('grandchild', START_MS);
    await c.waitFor('ready', 5000);
    expect(processAlive(g.pid)).toBe(true);
    await c.stop(3000);
    expect(c.hasExited).toBe(true);
    expect(readFileSync(marker, 'utf8')).toBe('stopped cleanly');
    expect((await c.exited).code).toBe(0);
    // The grandchild shares the group: gone too (reaped by init shortly after the signal).
    expect(await waitProcessGone(g.pid, 5000)).toBe(true);
  }, 30_000);

  it('runs on the CPUs given (taskset before exec: same PID, every thread inherits them)', async () => {
    const c = start('serve', [], { cpus: '1' });
    const ready = await c.waitFor<{ event: 'ready'; pid: number }>('ready', START_MS);
    expect(ready.pid).toBe(c.pid);
    const tasks = readdirSync(`/proc/${ready.pid}/task`);
    expect(tasks.length).toBeGreaterThan(1);
    for (const t of tasks) expect(/Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${ready.pid}/task/${t}/status`, 'utf8'))?.[1]).toBe('1');
  });

  it('is registered for teardown while it runs', async () => {
    const cleanup = new CleanupStack();
    const c = start('serve', [], { cleanup });
    await c.waitFor('ready', START_MS);
    expect(cleanup.size).toBe(1);
    await cleanup.runAll();
    expect(c.hasExited).toBe(true);
    expect(cleanup.size).toBe(0);

    const quitter = start('exit', [], { cleanup });
    await quitter.exited;
    expect(cleanup.size).toBe(0);
  }, 30_000);
});

describe('child-entry', () => {
  it('ends the child cleanly when its harness goes away (stdin closes)', async () => {
    const marker = join(tempDir(), 'stopped');
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, FIXTURE), '--mode', 'serve', '--marker', marker], {
      cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'ignore'],
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await new Promise<void>((r) => child.stdout.on('data', (d: Buffer) => d.toString().includes('"ready"') && r()));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    expect(await exited).toBe(0);
    clearTimeout(timer);
    expect(existsSync(marker)).toBe(true);
  }, 30_000);
});
