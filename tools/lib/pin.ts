/**
 * `--pin SERVER:CLIENTS` of the benches (bench:scene, bench:datagram): the server on some cores,
 * the clients (load generators, observers) on others, with taskset (util-linux), so that the
 * load generator never takes the server's core and the server's CPU is measured on a core of its
 * own. Linux only.
 *
 * Every child starts under `taskset -c` (tools/lib/child.ts `cpus`), so all its threads (libuv's
 * pool, V8's helpers) and processes inherit the CPUs. A process already running (a bench that
 * is itself the server, the standard scene's peer server) is moved with `taskset -a -p`: every
 * existing thread, and threads created later inherit their creator's CPUs.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { UsageError } from './args.js';

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
  if (rest.length || !server || !clients || !cpuList(server) || !cpuList(clients)) return null;
  return { server, clients };
}

/** `--pin`'s value as a plan; throws UsageError on a bad string. Pure. */
export function pinFlag(raw: string): PinPlan {
  const plan = parsePin(raw);
  if (!plan) throw new UsageError(`--pin needs SERVER:CLIENTS taskset CPU lists such as 0:1, got ${JSON.stringify(raw)}`);
  return plan;
}

/** A taskset CPU list ("0-2,5") as CPU numbers, ascending; null if malformed or a range runs backwards. Pure. */
export function cpuList(list: string): number[] | null {
  if (!CPU_LIST.test(list)) return null;
  const out = new Set<number>();
  for (const part of list.split(',')) {
    const [a, b = a] = part.split('-').map(Number);
    if (b < a) return null;
    // CPU_LIST bounds the digits, not the span: a typo like 0-99999 must not build a huge set.
    if (b - a > MAX_CPU_SPAN) return null;
    for (let c = a; c <= b; c++) out.add(c);
  }
  return [...out].sort((x, y) => x - y);
}

/** Longest range one CPU list may name (Linux's own limit, CONFIG_NR_CPUS, is at most 8192). */
const MAX_CPU_SPAN = 8192;

/**
 * The plan's CPUs this process may not use (absent from `available`), e.g. CPU 2 on a 2-core
 * machine; [] when every CPU is there. Pure.
 */
export function missingCpus(plan: PinPlan, available: readonly number[]): number[] {
  const have = new Set(available);
  const want = [...(cpuList(plan.server) ?? []), ...(cpuList(plan.clients) ?? [])];
  return [...new Set(want.filter((c) => !have.has(c)))].sort((x, y) => x - y);
}

/** CPUs `pid` may run on, as the kernel reports them (/proc/<pid>/status Cpus_allowed_list). */
export function allowedCpus(pid: number | 'self'): string {
  const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no Cpus_allowed_list in /proc/${pid}/status`);
  return m[1];
}

/** The distinct CPU lists of every thread of `pid` (/proc/<pid>/task/<tid>/status); one entry once all agree. */
export function threadCpus(pid: number | 'self'): string[] {
  const lists = new Set<string>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const m = /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
      if (m) lists.add(m[1]);
    } catch {
      // The thread exited in between.
    }
  }
  return [...lists].sort();
}

/**
 * Throws a UsageError naming the CPUs when the plan names one this process may not use (the
 * machine lacks it), before anything starts.
 */
export function checkPinCpus(plan: PinPlan): void {
  const available = cpuList(allowedCpus('self')) ?? [];
  const missing = missingCpus(plan, available);
  if (missing.length) throw new UsageError(`--pin ${plan.server}:${plan.clients}: CPU ${missing.join(', ')} not available here (this machine gives CPUs ${allowedCpus('self')})`);
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
