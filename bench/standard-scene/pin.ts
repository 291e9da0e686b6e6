/**
 * `--pin`: the server on some cores, the clients (observer, load, and the peer's clients) on
 * others, with taskset (util-linux), so that the load generator never takes the server's core
 * and the server's CPU per client is measured on a core of its own. Linux only.
 *
 * Every child starts under `taskset -c` (tools/lib/child.ts `cpus`), so all its threads (libuv's
 * pool, V8's helpers) and processes inherit the CPUs. The peer's orchestrator starts on the
 * clients' cores, and its server process, found among its descendants by the script name, is
 * moved to the server's cores (`taskset -a -p`) as soon as it appears.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface PinPlan {
  /** taskset CPU list of the server process, e.g. "0". */
  server: string;
  /** taskset CPU list of the observer and load processes (and the peer's clients), e.g. "1". */
  clients: string;
}

const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** `SERVER:CLIENTS` as taskset CPU lists ("0:1", "0-1:2-3"); null on bad input. Pure. */
export function parsePin(raw: string): PinPlan | null {
  const [server, clients, ...rest] = raw.split(':');
  if (rest.length || !server || !clients || !CPU_LIST.test(server) || !CPU_LIST.test(clients)) return null;
  return { server, clients };
}

/** Pins every thread of `pid` to `cpus`; throws with taskset's message when it cannot. */
export function pinProcess(pid: number, cpus: string): void {
  const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
  if (r.error) throw new Error(`taskset unavailable: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`taskset -a -p -c ${cpus} ${pid} failed: ${r.stderr.trim()}`);
}

/** The direct children of `pid` (Linux /proc/<pid>/task/<tid>/children); [] once it is gone. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    // Node forks from its main thread, whose task id is the process id.
    const raw = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (raw) for (const c of raw.split(/\s+/)) out.push(Number(c));
  } catch {
    // Exited in between.
  }
  return out;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Descendants of `root` (any depth) whose command line contains `needle`. */
export function findDescendants(root: number, needle: string): number[] {
  const found: number[] = [];
  const queue = [root];
  // A process tree of a handful of processes; the bound only guards against a /proc surprise.
  for (let seen = 0; queue.length && seen < 1000; seen++) {
    const pid = queue.shift()!;
    for (const c of childrenOf(pid)) {
      if (cmdline(c).includes(needle)) found.push(c);
      queue.push(c);
    }
  }
  return found;
}

/** How often the peer's process tree is searched for its server while it starts. */
const PEER_POLL_MS = 50;

/**
 * Watches `root`'s descendants and pins each new one whose command line contains `needle` to
 * `cpus`. Returns a function that stops watching.
 */
export function pinDescendantsWhenSeen(root: number, needle: string, cpus: string, log: (s: string) => void): () => void {
  const done = new Set<number>();
  const timer = setInterval(() => {
    for (const pid of findDescendants(root, needle)) {
      if (done.has(pid)) continue;
      done.add(pid);
      try {
        pinProcess(pid, cpus);
      } catch (err) {
        log(`[pin] ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }, PEER_POLL_MS);
  return () => clearInterval(timer);
}
