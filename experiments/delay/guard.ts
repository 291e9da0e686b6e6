/**
 * A watchdog for the namespaces of a run. The harness removes its namespaces itself on return,
 * error, Ctrl-C and SIGTERM (cleanup.ts); a parent killed outright (SIGKILL, the OOM killer)
 * runs no code at all. The guard covers that case: a small detached process that holds the
 * read end of a pipe from the parent. When the pipe closes, which the kernel does however the
 * parent ends, the guard removes every topology still registered (killing what runs inside,
 * then deleting the namespaces, which takes their veth pair, nftables tables and iptables rules
 * with them) and exits. A parent that cleaned up first unregisters its topologies, so the guard
 * then has nothing to do.
 *
 * Delay stages need nothing from the guard: they stop on their own when the parent dies
 * (PR_SET_PDEATHSIG), and `ip netns pids` finds them too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { REPO_ROOT } from '../../tools/lib/child.js';
import type { Topology } from '../netns.js';

/** Guard-side commands, one per line: `watch <topology JSON>` and `forget <prefix>`. */
export type GuardCommand = { op: 'watch'; topology: Topology } | { op: 'forget'; prefix: string };

/** Encode one command as the line the guard reads. */
export function guardLine(cmd: GuardCommand): string {
  return cmd.op === 'watch' ? `watch ${JSON.stringify(cmd.topology)}\n` : `forget ${cmd.prefix}\n`;
}

/** Decode one line; null for anything else (ignored by the guard). */
export function parseGuardLine(line: string): GuardCommand | null {
  const sp = line.indexOf(' ');
  if (sp < 0) return null;
  const op = line.slice(0, sp);
  const rest = line.slice(sp + 1).trim();
  if (op === 'forget' && rest) return { op, prefix: rest };
  if (op !== 'watch') return null;
  try {
    const t = JSON.parse(rest) as Topology;
    if (typeof t?.prefix === 'string' && typeof t.server?.ns === 'string' && typeof t.client?.ns === 'string') return { op, topology: t };
  } catch {
    // Not JSON: ignored.
  }
  return null;
}

export class NamespaceGuard {
  private constructor(private readonly proc: ChildProcess) {}

  /** Start the guard (a detached node process with its own session; it outlives its parent). */
  static start(): NamespaceGuard {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'experiments/delay/guard-entry.ts'], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    // The guard must not keep this process alive, nor die with it.
    proc.unref();
    proc.stdin?.on('error', () => {
      // Guard gone early (it reports on stderr); the orderly cleanup path still runs.
    });
    return new NamespaceGuard(proc);
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Remove `topo`'s namespaces if this process dies before calling `forget`. */
  watch(topo: Topology): void {
    this.proc.stdin?.write(guardLine({ op: 'watch', topology: topo }));
  }

  /** `topo` was torn down in order; the guard no longer needs to. */
  forget(topo: Topology): void {
    this.proc.stdin?.write(guardLine({ op: 'forget', prefix: topo.prefix }));
  }

  /** Close the pipe: the guard removes whatever is still registered and exits. */
  async close(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((res) => this.proc.once('exit', () => res()));
    // Waiting needs the handle counted again (start() unref'd it), or node would exit first.
    this.proc.ref();
    this.proc.stdin?.end();
    await exited;
  }
}
