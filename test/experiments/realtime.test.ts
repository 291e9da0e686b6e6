/**
 * `--rt N` (ToolChild's `realtime`): only the measured process's main thread runs at SCHED_FIFO,
 * and only once it has started. Before, `chrt -f` put the whole tree there (every node thread,
 * tsx's loader thread and its esbuild service); threads of one FIFO priority on one CPU are never
 * time-sliced, and a start stalled for 47 s and 409 s, and experiment bots got no welcome
 * (docs/experiments/README.md, "Scheduling"). The stall itself comes and goes with the machine,
 * so this checks the scheduling that rules it out: the real experiment server, started as the
 * harness starts it, has its main thread at the asked priority and every other thread, and every
 * process it started (esbuild), at normal scheduling.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { ToolChild } from '../../tools/lib/child.js';
import { CleanupStack } from '../../tools/lib/cleanup.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
/** linux/sched.h */
const SCHED_OTHER = 0;
const SCHED_FIFO = 1;
const RT = 10;

interface Task {
  pid: number;
  tid: number;
  comm: string;
  policy: number;
  rtPriority: number;
}

/** Every thread of `pid` (proc(5): rt_priority is field 40 of stat, policy field 41). */
function tasks(pid: number): Task[] {
  return readdirSync(`/proc/${pid}/task`).map((t) => {
    const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    return { pid, tid: Number(t), comm: stat.slice(stat.indexOf('(') + 1, close), rtPriority: Number(rest[40 - 3]), policy: Number(rest[41 - 3]) };
  });
}

/** `pid` and every process below it. */
function tree(pid: number): number[] {
  const kids = readdirSync(`/proc/${pid}/task`).flatMap((t) =>
    readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
  return [pid, ...kids.flatMap(tree)];
}

describe.skipIf(!isRoot)('--rt: SCHED_FIFO for the main thread only, after startup', () => {
  it('raises the experiment server\'s main thread and leaves its other threads and esbuild at normal scheduling', async () => {
    const cleanup = new CleanupStack();
    try {
      const server = ToolChild.script('experiments/server-entry.ts', ['--host', '127.0.0.1', '--http-port', '0', '--wt-port', '0'], {
        label: 'server(rt test)', realtime: RT, cleanup,
      });
      await server.waitFor('ready', 60_000);
      const pid = server.pid!;
      const all = tree(pid).flatMap(tasks);
      const main = all.find((t) => t.tid === pid)!;
      expect(main, JSON.stringify(all)).toMatchObject({ policy: SCHED_FIFO, rtPriority: RT });
      const others = all.filter((t) => t.tid !== pid);
      // Node always runs helper threads (V8's platform workers, libuv's signal thread): the check bites.
      expect(others.length).toBeGreaterThan(3);
      expect(others.filter((t) => t.policy !== SCHED_OTHER), JSON.stringify(others)).toEqual([]);
      // Threads and processes it starts from now on get normal scheduling too.
      expect(execFileSync('chrt', ['-p', String(pid)], { encoding: 'utf8' })).toContain('SCHED_RESET_ON_FORK');
      await server.stop(2000);
    } finally {
      await cleanup.runAll();
    }
  }, 90_000);
});
