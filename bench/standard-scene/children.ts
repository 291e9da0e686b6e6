/**
 * Child processes of the benchmark: forked TypeScript entry scripts (server, observer, load) and
 * the Colyseus peer's orchestrator. Each child leads its own process group, so stopping it by
 * its PID (`kill(-pid)`) also stops anything it started (the peer forks its own server and
 * clients). Every child is registered until it exits; `stopAll` is run on the way out, also on
 * failure, SIGINT and SIGTERM.
 *
 * Child stdout and stderr go to our stderr with a label: our stdout carries only JSON lines.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildEvent, Command } from './ipc.js';

/** Events remembered per child so a waiter that subscribes late still sees them. */
const EVENT_BACKLOG_LIMIT = 64;
/** How long a child gets to exit after `exit`/SIGTERM before SIGKILL (a busy server writing its CPU profile needs a few seconds). */
export const STOP_GRACE_MS = 5000;

const live = new Set<BenchChild>();

export interface ChildSpawnOptions {
  label: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Print the child's stdout/stderr lines to our stderr (default true). */
  echo?: boolean;
}

export class BenchChild {
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly events: ChildEvent[] = [];
  private readonly listeners = new Set<(e: ChildEvent) => void>();
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly tail: string[] = [];

  private constructor(readonly label: string, private readonly proc: ChildProcess, echo: boolean) {
    live.add(this);
    this.exited = new Promise((resolve) => {
      const done = (info: { code: number | null; signal: NodeJS.Signals | null }) => {
        if (this.exitInfo) return;
        this.exitInfo = info;
        live.delete(this);
        resolve(info);
      };
      proc.once('exit', (code, signal) => done({ code, signal }));
      proc.once('error', (err) => {
        this.pushTail(`spawn error: ${err.message}`);
        done({ code: 127, signal: null });
      });
    });
    proc.on('message', (m: unknown) => {
      const e = m as ChildEvent;
      if (!e || typeof e !== 'object' || typeof (e as { ev?: unknown }).ev !== 'string') return;
      this.events.push(e);
      if (this.events.length > EVENT_BACKLOG_LIMIT) this.events.shift();
      for (const l of [...this.listeners]) l(e);
    });
    for (const stream of [proc.stdout, proc.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => {
        this.pushTail(line);
        if (echo) process.stderr.write(`[${label}] ${line}\n`);
      });
    }
  }

  /** Fork a TypeScript entry script (run through tsx) with an IPC channel. */
  static forkTs(script: string, args: readonly string[], opts: ChildSpawnOptions & { nodeFlags?: readonly string[] }): BenchChild {
    const proc = fork(script, [...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      execArgv: ['--import', 'tsx', ...(opts.nodeFlags ?? [])],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      detached: true,
    });
    return new BenchChild(opts.label, proc, opts.echo ?? true);
  }

  /** Spawn a plain command (the peer's `node bench.mjs`), in its own process group. */
  static spawn(command: string, args: readonly string[], opts: ChildSpawnOptions): BenchChild {
    const proc = spawn(command, [...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new BenchChild(opts.label, proc, opts.echo ?? true);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== null;
  }

  /** Last lines the child printed (for error messages). */
  recentOutput(lines = 15): string {
    return this.tail.slice(-lines).join('\n');
  }

  send(c: Command): void {
    if (this.exitInfo || !this.proc.connected) return;
    try {
      this.proc.send(c);
    } catch {
      // Exited in between; reported through `exited`.
    }
  }

  /**
   * Resolves with the first event named `ev` (also one already received); rejects on timeout,
   * on a `fatal` event, or when the child exits first.
   */
  waitFor<E extends ChildEvent['ev']>(ev: E, timeoutMs: number): Promise<Extract<ChildEvent, { ev: E }>> {
    type Want = Extract<ChildEvent, { ev: E }>;
    const seen = this.events.find((e) => e.ev === ev);
    if (seen) {
      this.events.splice(this.events.indexOf(seen), 1);
      return Promise.resolve(seen as Want);
    }
    return new Promise<Want>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      const finish = (err: Error | null, value?: Want) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        if (err) reject(err);
        else resolve(value as Want);
      };
      const listener = (e: ChildEvent) => {
        if (e.ev === ev) {
          this.events.splice(this.events.indexOf(e), 1);
          finish(null, e as Want);
        } else if (e.ev === 'fatal') {
          finish(new Error(`${this.label}: ${e.message}`));
        }
      };
      timer = setTimeout(() => finish(new Error(`${this.label}: no '${ev}' within ${timeoutMs} ms\n${this.recentOutput()}`)), timeoutMs);
      this.listeners.add(listener);
      void this.exited.then((info) => finish(new Error(
        `${this.label} exited (code ${info.code}, signal ${info.signal}) before '${ev}'\n${this.recentOutput()}`)));
      const fatal = this.events.find((e) => e.ev === 'fatal');
      if (fatal && fatal.ev === 'fatal') finish(new Error(`${this.label}: ${fatal.message}`));
    });
  }

  /** Waits for the child to exit by itself; rejects after `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
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
   * Stops the child and its process group by PID: `exit` over IPC (or SIGTERM), then SIGKILL
   * after STOP_GRACE_MS. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.exitInfo) return;
    const pid = this.proc.pid;
    if (this.proc.connected) this.send({ cmd: 'exit' });
    else if (pid) killGroup(pid, 'SIGTERM');
    const exited = await Promise.race([this.exited.then(() => true), sleep(STOP_GRACE_MS).then(() => false)]);
    // The leader may be gone while grandchildren (the peer's server and clients) live on.
    if (pid) killGroup(pid, exited ? 'SIGTERM' : 'SIGKILL');
    if (!exited) await Promise.race([this.exited, sleep(STOP_GRACE_MS)]);
    if (pid) killGroup(pid, 'SIGKILL');
  }

  /** Synchronous last resort for process exit handlers. */
  killNow(): void {
    const pid = this.proc.pid;
    if (pid) killGroup(pid, 'SIGKILL');
  }

  private pushTail(line: string): void {
    this.tail.push(line);
    if (this.tail.length > EVENT_BACKLOG_LIMIT) this.tail.shift();
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

/** Stops every child still running (in parallel). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop()));
}

/** Children still registered (not yet seen exiting). */
export function liveChildren(): number {
  return live.size;
}

/**
 * On SIGINT/SIGTERM stop every child, then exit; on a plain process exit (a crash included)
 * SIGKILL whatever is left. Call once from the CLI.
 */
export function installCleanupHandlers(): void {
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`[bench] ${signal}: stopping children\n`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => {
    for (const c of live) c.killNow();
  });
}
