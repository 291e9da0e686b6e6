/**
 * The tools' child processes, seen from the harness that starts them (bench/, experiments/):
 * a TypeScript entry script run through tsx (optionally inside a network namespace, under nice
 * or SCHED_FIFO), or any plain command (npm, the Colyseus peer's orchestrator).
 *
 * Protocol (child-entry.ts is the other end): the child prints events as JSON lines on stdout
 * (`{"event": "ready", ...}`), the harness sends commands as JSON lines on stdin
 * (`{"cmd": "start", ...}`). Lines on stdout that are not JSON objects, and all of stderr, are
 * output: kept as a short tail for error messages, appended to a log file and/or echoed to our
 * stderr with the child's label. A child whose stdin closes (the harness died) exits by itself.
 *
 * Every child leads its own process group, so `stop()` by its PID also stops what it started
 * (the peer forks a server and clients). With a `CleanupStack` a child is registered until it
 * exits, so it is stopped on failure, SIGINT or SIGTERM too.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import type { CleanupStack } from './cleanup.js';
import { parseJsonLine, writeJsonLine } from './json-lines.js';

/** The repository root: children run from it and resolve `tsx` and their script there. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** One event line from a child. */
export type ChildEvent = { event: string } & Record<string, unknown>;
/** One command line to a child. */
export type ChildCommand = { cmd: string } & Record<string, unknown>;

/** Events received and not yet taken by `waitFor`; children print a handful, bounded anyway. */
const EVENT_BACKLOG_LIMIT = 64;
/** Output lines kept in memory for error messages (the log file, if any, has everything). */
const OUTPUT_TAIL_LINES = 64;
/** `chrt -p` changes one task's policy: milliseconds; this bounds a hung one. */
const CHRT_TIMEOUT_MS = 5000;
/** How long a child gets after SIGTERM before SIGKILL (a busy server writing its CPU profile needs a few seconds). */
export const STOP_GRACE_MS = 5000;

export interface ChildOptions {
  /** Used in messages and as the echo prefix, e.g. `server wt P=64 #1`. */
  label: string;
  /** Working folder (default: the repository root). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** File that receives the child's output lines (appended). */
  logFile?: string;
  /** Print the child's output lines to our stderr as `[label] line` (default false). */
  echo?: boolean;
  /** Registers the child for teardown until it exits. */
  cleanup?: CleanupStack;
  /**
   * CPUs to run on, a taskset(1) list such as "1" or "0-1", set before exec (taskset execs the
   * command, so the PID stays the command's) and inherited by every thread and process the child
   * starts.
   */
  cpus?: string;
}

export interface ScriptOptions extends ChildOptions {
  /** Network namespace to run in (`ip netns exec`, which execs: the PID is node's). */
  ns?: string | null;
  /**
   * Nice value (-20..19), set through `nice(1)` before exec so every thread the child starts
   * inherits it (Linux nice values are per thread).
   */
  nice?: number;
  /**
   * SCHED_FIFO priority (1..99) for the child's main thread (the event loop: its sockets, timers
   * and ticks), set with `chrt -p` once the child has printed its first event (it has started):
   * a measuring process on a loaded machine then never waits behind ordinary processes for a
   * CPU. Only that thread, and only after startup: with the whole tree under one SCHED_FIFO
   * priority (`chrt -f` before exec, inherited by every thread and child), threads of equal
   * priority on one CPU are never time-sliced, and a thread that spins until another runs
   * stalls both. Starting that way, node's threads and tsx's esbuild service (a Go program whose
   * scheduler spins) stalled a server for 47 s and once 409 s before its first line, and
   * experiment bots got no welcome (docs/experiments/README.md, "Scheduling"). Helper threads
   * started before (V8's, tsx's loader, the QUIC binding's tokio workers) and esbuild stay at
   * normal priority, and so does any thread or process started later (SCHED_RESET_ON_FORK).
   * A failed `chrt` is reported as a `fatal` event instead of the child's first event.
   */
  realtime?: number;
  /** Extra node flags (e.g. `--cpu-prof`). */
  nodeFlags?: readonly string[];
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class ToolChild {
  readonly exited: Promise<ExitInfo>;
  private readonly events: ChildEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private readonly tail: string[] = [];
  private readonly log: WriteStream | null;
  private exitInfo: ExitInfo | null = null;
  /** SCHED_FIFO priority still to give the main thread at the first event (ScriptOptions.realtime). */
  private pendingRealtime = 0;

  private constructor(readonly label: string, private readonly proc: ChildProcess, private readonly opts: ChildOptions) {
    this.log = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : null;
    const untrack = opts.cleanup?.push({ label: `child ${label}`, run: () => this.stop(), runSync: () => this.killNow() });
    this.exited = new Promise((res) => {
      const done = (info: ExitInfo) => {
        if (this.exitInfo) return;
        this.exitInfo = info;
        untrack?.();
        this.wake();
        res(info);
      };
      proc.once('exit', (code, signal) => done({ code, signal }));
      proc.once('error', (err) => {
        this.output(`spawn error: ${err.message}`);
        done({ code: 127, signal: null });
      });
    });
    // The child may exit before reading its commands; that is reported through `exited`.
    proc.stdin?.on('error', () => {});
    // The log closes once both output streams have ended, so no late line is written after it.
    let open = 2;
    const closed = () => {
      if (--open === 0) this.log?.end();
    };
    createInterface({ input: proc.stdout! }).on('line', (line) => this.onStdout(line)).once('close', closed);
    createInterface({ input: proc.stderr! }).on('line', (line) => this.output(line)).once('close', closed);
  }

  /**
   * Start a TypeScript entry script (path relative to the repository root, or absolute) with
   * node and tsx, inside `ns` when given.
   */
  static script(script: string, args: readonly string[], opts: ScriptOptions): ToolChild {
    const node = [process.execPath, '--import', 'tsx', ...(opts.nodeFlags ?? []), resolve(REPO_ROOT, script), ...args];
    let cmd = opts.ns ? ['ip', 'netns', 'exec', opts.ns, ...node] : node;
    if (opts.nice !== undefined && opts.nice !== 0) cmd = ['nice', '-n', String(opts.nice), ...cmd];
    const [file, ...argv] = cmd;
    const child = ToolChild.command(file, argv, opts);
    // No `chrt -f` before exec: see ScriptOptions.realtime (set on the main thread at the first event).
    if (opts.realtime !== undefined && opts.realtime > 0) child.pendingRealtime = opts.realtime;
    return child;
  }

  /** Start any command. */
  static command(file: string, args: readonly string[], opts: ChildOptions): ToolChild {
    const argv = opts.cpus ? ['-c', opts.cpus, file, ...args] : [...args];
    const proc = spawn(opts.cpus ? 'taskset' : file, argv, {
      cwd: opts.cwd ?? REPO_ROOT,
      // Undefined inherits this process's environment.
      env: opts.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    return new ToolChild(opts.label, proc, opts);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== null;
  }

  /** The last output lines (for error messages). */
  recentOutput(lines = 15): string {
    return this.tail.slice(-lines).join('\n');
  }

  /** Send one command line to the child's stdin (ignored once it has exited). */
  send(command: ChildCommand): void {
    if (this.exitInfo || !this.proc.stdin?.writable) return;
    writeJsonLine(command, this.proc.stdin);
  }

  /**
   * Resolves with the first event named `name` not yet taken (received already or still to
   * come) and takes it; rejects when the child reports `fatal`, exits first, or `timeoutMs`
   * passes. `T` only narrows the type for the caller; the fields are as the child printed them.
   */
  waitFor<T extends ChildEvent = ChildEvent>(name: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((res, rej) => {
      const check = (): boolean => {
        const i = this.events.findIndex((e) => e.event === name);
        if (i >= 0) {
          const [found] = this.events.splice(i, 1);
          finish();
          res(found as T);
          return true;
        }
        const fatal = this.events.find((e) => e.event === 'fatal');
        if (fatal || this.exitInfo) {
          finish();
          const why = fatal
            ? `reported: ${String(fatal.message)}`
            : `exited (code ${this.exitInfo?.code}, signal ${this.exitInfo?.signal})`;
          rej(new Error(`${this.label} ${why} before '${name}'\n${this.recentOutput()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        rej(new Error(`${this.label}: no '${name}' within ${timeoutMs} ms\n${this.recentOutput()}`));
      }, timeoutMs);
      const waiter = () => void check();
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      if (!check()) this.waiters.add(waiter);
    });
  }

  /**
   * Takes every event named `name` received so far (oldest first) without waiting: for events a
   * child prints all along (a soak's probes), read at the harness's own pace. Events beyond
   * EVENT_BACKLOG_LIMIT that were never taken are lost, so take them often.
   */
  take<T extends ChildEvent = ChildEvent>(name: string): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.events.length;) {
      if (this.events[i].event === name) out.push(this.events.splice(i, 1)[0] as T);
      else i++;
    }
    return out;
  }

  /** Waits for the child to exit by itself; rejects after `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<ExitInfo> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${this.label}: still running after ${timeoutMs} ms\n${this.recentOutput()}`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops the child and its process group by PID: SIGTERM (entry scripts close cleanly on it),
   * then SIGKILL after `graceMs`. The group is signalled even when the leader is gone, since
   * grandchildren (the peer's server and clients) may live on. Idempotent.
   */
  async stop(graceMs: number = STOP_GRACE_MS): Promise<void> {
    const pid = this.proc.pid;
    if (!this.exitInfo && pid) {
      killGroup(pid, 'SIGTERM');
      const exited = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!exited) {
        killGroup(pid, 'SIGKILL');
        await Promise.race([this.exited, sleep(graceMs)]);
      }
    }
    if (pid) killGroup(pid, 'SIGKILL');
  }

  /** Synchronous last resort for process exit handlers. */
  killNow(): void {
    const pid = this.proc.pid;
    if (pid) killGroup(pid, 'SIGKILL');
  }

  private onStdout(line: string): void {
    const ev = parseJsonLine(line);
    if (ev && typeof ev.event === 'string') {
      // A child that cannot be raised reports fatal instead of its event: no run at the wrong priority.
      if (this.pendingRealtime > 0 && !this.raiseMainThread()) {
        this.wake();
        return;
      }
      this.events.push(ev as ChildEvent);
      if (this.events.length > EVENT_BACKLOG_LIMIT) this.events.shift();
      this.wake();
      return;
    }
    this.output(line);
  }

  /**
   * SCHED_FIFO for the main thread only (`chrt -p` without `-a` changes the one task whose id is
   * the PID: node's main thread, since nice, ip netns exec and taskset exec; `--reset-on-fork`
   * keeps what it starts later at normal scheduling). Synchronous, so the event that follows is
   * seen only once it is in force.
   */
  private raiseMainThread(): boolean {
    const prio = this.pendingRealtime;
    this.pendingRealtime = 0;
    const pid = this.proc.pid;
    if (!pid || this.exitInfo) return true;
    const r = spawnSync('chrt', ['--reset-on-fork', '-f', '-p', String(prio), String(pid)], { encoding: 'utf8', timeout: CHRT_TIMEOUT_MS });
    if (r.status !== 0) {
      const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim();
      this.output(`chrt --reset-on-fork -f -p ${prio} ${pid} failed: ${why}`);
      this.events.push({ event: 'fatal', message: `could not give the main thread SCHED_FIFO priority ${prio}: ${why}` });
      return false;
    }
    return true;
  }

  private output(line: string): void {
    this.tail.push(line);
    if (this.tail.length > OUTPUT_TAIL_LINES) this.tail.shift();
    this.log?.write(`${line}\n`);
    if (this.opts.echo) process.stderr.write(`[${this.label}] ${line}\n`);
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Signal a process group we created (negative pid); ESRCH (already gone) is fine. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Gone already.
  }
}
