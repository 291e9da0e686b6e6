/**
 * One delay stage: the nfq-delay program running inside one network namespace, fed by an
 * iptables rule that queues every IPv4 packet arriving on that namespace's veth end. A stage
 * delays one direction (the traffic *into* its namespace); a link needs one per namespace.
 *
 * Lifecycle, in this order so the rule never points at a queue nobody reads:
 *   start: spawn the program (it binds the queue and prints "ready"), then add the rule;
 *   stop:  delete the rule, then SIGTERM: held packets still get their full delay, then it exits
 *          with final stats; if it does not within the longest delay plus slack, SIGKILL.
 * The rule has no --queue-bypass on purpose: if the program dies mid-run, the link stops
 * carrying traffic (and `failure` says why) instead of silently losing its delay.
 *
 * The program runs in its own process group (`detached`, i.e. setsid), so a terminal's Ctrl-C
 * reaches the harness, which removes the rule first; every kill targets the whole group. If the
 * harness itself is killed outright, the program gets SIGTERM from the kernel
 * (PR_SET_PDEATHSIG) and the namespace guard (guard.ts) removes the namespaces.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CleanupStack } from '../../tools/lib/cleanup.js';
import { ToolChild } from '../../tools/lib/child.js';
import { runCommand, runCommandSync } from '../shell.js';
import { ensureDelayStage } from './build.js';
import { checkStageParams, stageArgv, type StageParams } from './params.js';

/** What the program prints on SIGUSR1 and at exit (see print_stats in nfq-delay.c). */
export interface StageStats {
  final: boolean;
  queue: number;
  /** Packets the queue handed us. */
  received: number;
  /** Packets let through after their delay. */
  released: number;
  /** Packets dropped because `maxHeld` were already held. */
  droppedCap: number;
  /** Held right now, and the most held at once. */
  held: number;
  heldMax: number;
  /** Packets that left after a packet that arrived later (0 in `order` mode). */
  reordered: number;
  /** Netlink receive-buffer overflows (each lost some queue messages; the kernel dropped those packets). */
  enobufs: number;
  verdictErrors: number;
  /** The kernel's per-queue drop counters (-1 when unreadable). */
  kernelQueueDropped: number;
  kernelUserDropped: number;
  /** The delay applied (due time minus arrival), per packet. */
  delayMs: { mean: number; sd: number; min: number; max: number };
  /** How late verdicts were given after their due time (1 us resolution). */
  latenessMs: { p50: number; p99: number; max: number };
  /** Times the program's poll loop woke up (about two per packet: arrival and release). */
  wakeups: number;
  /** CPU time the program used, and its lifetime: cpuSeconds / wallSeconds is its share of a core. */
  cpuSeconds: number;
  wallSeconds: number;
  /** The seed used (given, or drawn and reported so a run can be repeated). */
  seed: string;
}

export interface StageReady {
  pid: number;
  queue: number;
  delayMs: number;
  jitterMs: number;
  jitterMode: string;
  jitterDist: string;
  maxHeld: number;
  rtPriority: number;
  seed: string;
}

export interface StageStartOptions {
  /** Compiled program; default: built (and its packages installed) on first use. */
  binary?: string;
  /** Registers the stage's teardown here (sync and async), removed again on `stop`. */
  cleanup?: CleanupStack;
  /** The program's stderr goes here too. */
  logFile?: string;
}

/** Binding the queue is instant; this only catches a program that hangs at start. */
const READY_TIMEOUT_MS = 10_000;
/** How long `stats()` waits for the answer to SIGUSR1. */
const STATS_TIMEOUT_MS = 5_000;
/** Added to the longest possible delay when waiting for a graceful stop. */
const STOP_SLACK_MS = 3_000;
/** How long, after the exit, the final stats line may still be on its way through the pipe. */
const FINAL_LINE_WAIT_MS = 1_000;
const FINAL_LINE_POLL_MS = 20;

/** The iptables arguments (after `-A` or `-D`) of a stage's rule. */
function ruleSpec(ifname: string, queue: number): string[] {
  return ['PREROUTING', '-i', ifname, '-j', 'NFQUEUE', '--queue-num', String(queue)];
}

function iptablesArgs(ns: string, op: '-A' | '-D', ifname: string, queue: number): string[] {
  // -w: wait for the xtables lock instead of failing when another iptables runs at that moment.
  return ['netns', 'exec', ns, 'iptables', '-w', '5', '-t', 'raw', op, ...ruleSpec(ifname, queue)];
}

/** NFQUEUE rules in a namespace's raw PREROUTING chain (`iptables -S` lines); [] if none or no namespace. */
export async function nfqueueRules(ns: string): Promise<string[]> {
  const r = await runCommand('ip', ['netns', 'exec', ns, 'iptables', '-w', '5', '-t', 'raw', '-S', 'PREROUTING']);
  if (r.code !== 0) return [];
  return r.stdout.split('\n').filter((l) => l.includes('NFQUEUE'));
}

export class DelayStage {
  private ruleAdded = false;
  private stopping = false;
  private untrack: (() => void) | null = null;
  private finalStats: StageStats | null = null;
  /** Set when the program ended without being asked to: the link is broken (packets dropped). */
  failure: string | null = null;
  /** The program's "ready" line: its pid and the parameters it runs with. */
  ready: StageReady | null = null;

  private constructor(
    readonly ns: string,
    readonly ifname: string,
    readonly params: StageParams,
    private readonly child: ToolChild,
  ) {
    void child.exited.then((info) => {
      if (!this.stopping) {
        this.failure = `delay stage in ${ns} exited unexpectedly (${info.code ?? info.signal}): ${child.recentOutput(5).replace(/\n/g, ' | ')}`;
      }
    });
  }

  /**
   * Start a stage in `ns` delaying packets that arrive on `ifname`. Resolves once the program
   * holds the queue and the rule is in place; on any failure nothing is left behind.
   */
  static async start(ns: string, ifname: string, params: StageParams, opts: StageStartOptions = {}): Promise<DelayStage> {
    checkStageParams(params);
    const binary = opts.binary ?? (await ensureDelayStage());
    // `ip netns exec` execs the program (no fork), so the pid is the stage itself, which leads
    // its own process group (ToolChild starts every child detached).
    const child = ToolChild.command('ip', ['netns', 'exec', ns, binary, ...stageArgv(params), '--parent-pid', String(process.pid)], {
      label: `delay stage ${ns}`,
      logFile: opts.logFile,
    });
    const stage = new DelayStage(ns, ifname, params, child);
    if (opts.cleanup) {
      stage.untrack = opts.cleanup.push({
        label: `delay stage in ${ns}`,
        run: async () => {
          await stage.stop();
        },
        runSync: () => stage.killSync(),
      });
    }
    try {
      stage.ready = (await child.waitFor('ready', READY_TIMEOUT_MS)) as unknown as StageReady;
      const r = await runCommand('ip', iptablesArgs(ns, '-A', ifname, params.queue));
      if (r.code !== 0) throw new Error(`adding the NFQUEUE rule in ${ns} failed (exit ${r.code}): ${r.stderr.trim()}`);
      stage.ruleAdded = true;
    } catch (err) {
      await stage.stop();
      throw err;
    }
    return stage;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** True while the program runs. */
  get running(): boolean {
    return !this.child.hasExited;
  }

  /** Counters so far (the program answers SIGUSR1 with a stats line). */
  async stats(): Promise<StageStats> {
    const pid = this.child.pid;
    if (pid !== undefined && !this.child.hasExited) process.kill(pid, 'SIGUSR1');
    return (await this.child.waitFor('stats', STATS_TIMEOUT_MS)) as unknown as StageStats;
  }

  /** Longest a packet can be held, so the graceful stop knows how long to wait. */
  private longestHoldMs(): number {
    return this.params.delayMs + 4 * this.params.jitterMs;
  }

  /**
   * Remove the rule, then stop the program gracefully (held packets still get their delay).
   * Returns the final stats, or null if the program had died. Idempotent.
   */
  async stop(): Promise<StageStats | null> {
    this.stopping = true;
    if (this.ruleAdded) {
      // Fails harmlessly when the namespace is already gone (its rules went with it).
      await runCommand('ip', iptablesArgs(this.ns, '-D', this.ifname, this.params.queue));
      this.ruleAdded = false;
    }
    const wasRunning = !this.child.hasExited;
    await this.child.stop(this.longestHoldMs() + STOP_SLACK_MS);
    this.untrack?.();
    this.untrack = null;
    if (wasRunning && !this.finalStats) this.finalStats = await this.finalLine();
    return this.finalStats;
  }

  /**
   * The stats line the program printed as it exited. Node may report the exit before it has
   * read the last lines of the pipe, so look a few times before concluding there is none (a
   * program killed by SIGKILL prints none).
   */
  private async finalLine(): Promise<StageStats | null> {
    for (let waited = 0; waited <= FINAL_LINE_WAIT_MS; waited += FINAL_LINE_POLL_MS) {
      try {
        return (await this.child.waitFor('stats', 0)) as unknown as StageStats;
      } catch {
        await sleep(FINAL_LINE_POLL_MS);
      }
    }
    return null;
  }

  /** Synchronous last resort for the process `exit` event: kill the group, drop the rule. */
  killSync(): void {
    this.stopping = true;
    this.child.killNow();
    if (this.ruleAdded) runCommandSync('ip', iptablesArgs(this.ns, '-D', this.ifname, this.params.queue));
    this.ruleAdded = false;
  }
}
