/**
 * A TypeScript entry script run as a child process inside a network namespace
 * (`ip netns exec <ns> node --import tsx <script>`). `ip netns exec` execs the command, so the
 * child's pid is the node process itself and signals reach it directly.
 *
 * Children talk to the harness in JSON lines on stdout (`{"event": "...", ...}`) and take
 * commands as lines on stdin; stderr goes to a log file for post-mortems.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

/** The repository root, from which children resolve `tsx` and their script. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** One JSON event line from a child. */
export type ChildEvent = { event: string } & Record<string, unknown>;

/** Events kept for `waitFor` and post-mortems; children print a handful, bounded anyway. */
const EVENT_BACKLOG_LIMIT = 10_000;
/** Last stderr lines kept in memory for error messages (the full text goes to the log file). */
const STDERR_TAIL_LINES = 40;

export interface ChildOptions {
  /** Label used in messages, e.g. `server` or `bots`. */
  label: string;
  /** File that receives the child's stderr (and non-JSON stdout lines). */
  logFile?: string;
  /**
   * Nice value for the child (-20..19; default: inherit). Set through `nice(1)` before exec, so
   * every thread the child starts inherits it (Linux nice values are per thread).
   */
  nice?: number;
  /**
   * Run the child under SCHED_FIFO with this priority (1..99) through `chrt(1)`, inherited by all
   * its threads. For measuring processes on a loaded machine: they then never wait behind
   * ordinary processes for a CPU. The kernel's RT throttling (sched_rt_runtime_us) still leaves
   * others 5 % even if a child spun.
   */
  realtime?: number;
}

export class NsChild {
  readonly events: ChildEvent[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly proc: ChildProcess;
  private readonly waiters = new Set<() => void>();
  private readonly stderrTail: string[] = [];
  private readonly log: WriteStream | null;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;

  private constructor(
    readonly label: string,
    ns: string | null,
    script: string,
    args: readonly string[],
    logFile?: string,
    nice?: number,
    realtime?: number,
  ) {
    const node = [process.execPath, '--import', 'tsx', resolve(REPO_ROOT, script), ...args];
    let cmd = ns ? ['ip', 'netns', 'exec', ns, ...node] : node;
    if (nice !== undefined && nice !== 0) cmd = ['nice', '-n', String(nice), ...cmd];
    if (realtime !== undefined && realtime > 0) cmd = ['chrt', '-f', String(realtime), ...cmd];
    const [file, ...argv] = cmd;
    this.proc = spawn(file, argv, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.log = logFile ? createWriteStream(logFile, { flags: 'a' }) : null;
    this.exited = new Promise((res) => {
      this.proc.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        this.wake();
        res(this.exitInfo);
      });
      this.proc.once('error', (err) => {
        this.stderrTail.push(`spawn error: ${err.message}`);
        this.exitInfo = { code: 127, signal: null };
        this.wake();
        res(this.exitInfo);
      });
    });
    this.proc.stdin?.on('error', () => {
      // The child may exit before reading its commands; that is reported through `exited`.
    });
    createInterface({ input: this.proc.stdout! }).on('line', (line) => this.onStdout(line));
    createInterface({ input: this.proc.stderr! }).on('line', (line) => this.onStderr(line));
  }

  /** Start `script` (relative to the repo root) inside namespace `ns` (null: in this namespace). */
  static start(ns: string | null, script: string, args: readonly string[], opts: ChildOptions): NsChild {
    return new NsChild(opts.label, ns, script, args, opts.logFile, opts.nice, opts.realtime);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== null;
  }

  private onStdout(line: string): void {
    if (line.startsWith('{')) {
      try {
        const ev = JSON.parse(line) as ChildEvent;
        if (typeof ev.event === 'string') {
          if (this.events.length < EVENT_BACKLOG_LIMIT) this.events.push(ev);
          this.wake();
          return;
        }
      } catch {
        // Not one of our events: log it like any other output.
      }
    }
    this.log?.write(`[stdout] ${line}\n`);
  }

  private onStderr(line: string): void {
    this.stderrTail.push(line);
    if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
    this.log?.write(`${line}\n`);
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** The last stderr lines, for error messages. */
  stderrSummary(): string {
    return this.stderrTail.join('\n');
  }

  /**
   * Resolve with the first event named `name` (already received or still to come); reject when
   * the child exits first or `timeoutMs` passes.
   */
  waitFor(name: string, timeoutMs: number): Promise<ChildEvent> {
    return new Promise((res, rej) => {
      const check = (): boolean => {
        const found = this.events.find((e) => e.event === name);
        if (found) {
          done();
          res(found);
          return true;
        }
        const failed = this.events.find((e) => e.event === 'fatal');
        if (failed || this.exitInfo) {
          done();
          const why = failed ? String(failed.message) : `exited with ${this.exitInfo?.code ?? this.exitInfo?.signal}`;
          rej(new Error(`${this.label} ${why} before "${name}"\n${this.stderrSummary()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        rej(new Error(`${this.label}: no "${name}" within ${timeoutMs} ms\n${this.stderrSummary()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = () => void check();
      if (!check()) this.waiters.add(waiter);
    });
  }

  /** Send one command line to the child's stdin. */
  send(line: string): void {
    if (!this.exitInfo) this.proc.stdin?.write(`${line}\n`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exitInfo) {
      this.log?.end();
      return;
    }
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
    this.log?.end();
  }

  /** Synchronous last resort for the process `exit` event. */
  killSync(): void {
    if (!this.exitInfo) this.proc.kill('SIGKILL');
  }
}

/** Print one event line for the harness (used by the entry scripts). */
export function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
}

/**
 * Read `--name value` options from argv into a map (entry scripts are internal, so this stays
 * minimal: every option takes exactly one value).
 */
export function parseArgs(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--') && i + 1 < argv.length) {
      out.set(a.slice(2), argv[i + 1]);
      i++;
    }
  }
  return out;
}
