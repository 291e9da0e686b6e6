/**
 * One interface for link conditions (delay, jitter, loss, TCP congestion control) on the
 * harness's veth pair, whatever the kernel offers:
 *
 * - netem (sch_netem) where the kernel has it: `tc qdisc replace dev <veth> root netem ...` on
 *   both ends (egress, so each end shapes its own sending direction).
 * - otherwise the NFQUEUE delay stage (stage.ts) in each namespace for delay and jitter, and the
 *   existing nftables ingress drop (../impair.ts) for loss. Loss acts first (netdev ingress runs
 *   before IP PREROUTING), so a dropped packet never reaches the stage.
 *
 * netem's jitter reorders packets; the order-keeping jitter model (the default, see params.ts)
 * exists only in the stage, so it is used for that even where netem exists. What ran, and why,
 * is part of the result, for the report.
 */
import type { CleanupStack } from '../../tools/lib/cleanup.js';
import { LinkImpairer, detectNetem, type DirectionCounters } from '../impair.js';
import { EnvironmentError, type Topology } from '../netns.js';
import { mustRun } from '../shell.js';
import {
  ConditionError,
  DEFAULT_QUEUE,
  DEFAULT_STAGE_RT_PRIORITY,
  directionSeed,
  resolveConditions,
  type LinkConditions,
  type ResolvedConditions,
} from './params.js';
import { DelayStage, type StageStats } from './stage.js';
import { setTcpCongestion, type TcpCongestionResult } from './tcp-cc.js';

export type DelayMechanism = 'netem' | 'nfqueue';
/** `auto`: netem where the kernel has it and the jitter model allows, else the stage. */
export type MechanismChoice = 'auto' | DelayMechanism;
/** Direction named by who sends (as in impair.ts). */
export type Direction = DirectionCounters['direction'];

/** The mechanisms chosen for one set of conditions. */
export interface MechanismPlan {
  /** What adds delay and jitter ('none' when there is neither). */
  delay: DelayMechanism | 'none';
  /** What drops packets ('none' at 0 % loss). */
  loss: 'netem' | 'nftables' | 'none';
  /** One sentence for the report. */
  reason: string;
}

/**
 * Pick the mechanisms for `c`. Pure, so the rules are tested without root. Throws when a
 * forced mechanism cannot do what is asked.
 */
export function planMechanism(c: ResolvedConditions, netemAvailable: boolean, choice: MechanismChoice = 'auto'): MechanismPlan {
  const wantsDelay = c.oneWayMs > 0 || c.jitterMs > 0;
  const wantsLoss = c.lossPct > 0;
  const orderJitter = c.jitterMs > 0 && c.jitterMode === 'order';
  if (choice === 'netem') {
    if (!netemAvailable) throw new EnvironmentError('mechanism netem was asked for, but this kernel has no sch_netem');
    if (orderJitter) {
      throw new ConditionError("netem's jitter reorders packets: use jitterMode 'reorder' with netem, or the nfqueue mechanism for order-keeping jitter");
    }
  }
  const useNetem = choice === 'netem' || (choice === 'auto' && netemAvailable && !orderJitter);
  if (useNetem) {
    return { delay: wantsDelay ? 'netem' : 'none', loss: wantsLoss ? 'netem' : 'none', reason: 'the kernel has sch_netem' };
  }
  const reason =
    choice === 'nfqueue'
      ? 'the nfqueue mechanism was asked for'
      : netemAvailable
        ? 'order-keeping jitter exists only in the NFQUEUE stage (netem jitter reorders)'
        : 'the kernel has no sch_netem';
  return { delay: wantsDelay ? 'nfqueue' : 'none', loss: wantsLoss ? 'nftables' : 'none', reason };
}

/** The conditions in force and how they are realised; the report prints this. */
export interface AppliedLink {
  conditions: ResolvedConditions;
  mechanism: MechanismPlan;
  netemAvailable: boolean;
  /**
   * TCP congestion control as the kernel reads it back in each namespace, and the one host-wide
   * change it may need (see tcp-cc.ts): null when the host's allowed list already had it.
   */
  tcpCongestion: { server: string; client: string; hostAllowedChanged: TcpCongestionResult['hostAllowedChanged'] };
  /** The stages running (nfqueue only): which direction each delays, its pid and seed. */
  stages: Array<{ direction: Direction; ns: string; pid: number | undefined; seed: string | null }>;
}

export interface ShaperOptions {
  mechanism?: MechanismChoice;
  /** Stages register their teardown here (for Ctrl-C and `process.exit`). */
  cleanup?: CleanupStack;
  /** Stage output goes here too. */
  logFile?: string;
  /** SCHED_FIFO priority of the stages (default DEFAULT_STAGE_RT_PRIORITY; 0 = normal). */
  rtPriority?: number;
  /** NFQUEUE number the stages use (default DEFAULT_QUEUE). */
  queue?: number;
  /** Skip netem detection when the caller already knows. */
  netemAvailable?: boolean;
  /** A compiled stage; default: built on first use. */
  binary?: string;
}

/** Packets netem may hold per direction (its default is 1000), in step with the stage's cap. */
const NETEM_LIMIT_DEFAULT = 10_000;

/** Final counters of the stages stopped by `clear`, per direction. */
export type StageFinals = Array<{ direction: Direction; stats: StageStats | null; failure: string | null }>;

/** Applies, changes and clears link conditions on one topology. */
export class LinkShaper {
  private stages: Array<{ direction: Direction; stage: DelayStage }> = [];
  private lossImpairer: LinkImpairer | null = null;
  private netemActive = false;
  /** What `apply` last put in place (null after `clear`). */
  current: AppliedLink | null = null;

  private constructor(
    readonly topo: Topology,
    readonly netemAvailable: boolean,
    private readonly opts: ShaperOptions,
  ) {}

  /** Detect netem (once) and return a shaper with nothing applied yet. */
  static async open(topo: Topology, opts: ShaperOptions = {}): Promise<LinkShaper> {
    const netem = opts.netemAvailable ?? (await detectNetem(topo.prefix));
    return new LinkShaper(topo, netem, opts);
  }

  /** Each namespace's veth end, the direction of traffic arriving there, and the seed index. */
  private ends() {
    return [
      { end: this.topo.server, direction: 'client->server' as const, index: 0 as const },
      { end: this.topo.client, direction: 'server->client' as const, index: 1 as const },
    ];
  }

  /** Replace whatever is in force with `c`. On failure nothing of the new conditions stays. */
  async apply(c: LinkConditions): Promise<AppliedLink> {
    const cond = resolveConditions(c);
    const plan = planMechanism(cond, this.netemAvailable, this.opts.mechanism ?? 'auto');
    await this.clear();
    try {
      const srvCc = await setTcpCongestion(this.topo.server.ns, cond.tcpCongestion);
      const cliCc = await setTcpCongestion(this.topo.client.ns, cond.tcpCongestion);
      const tcp = {
        server: srvCc.algorithm,
        client: cliCc.algorithm,
        hostAllowedChanged: srvCc.hostAllowedChanged ?? cliCc.hostAllowedChanged,
      };
      if (plan.delay === 'netem' || plan.loss === 'netem') await this.applyNetem(cond);
      if (plan.loss === 'nftables') {
        this.lossImpairer = new LinkImpairer(this.topo, 'nftables');
        await this.lossImpairer.apply({ lossPct: cond.lossPct });
      }
      if (plan.delay === 'nfqueue') {
        for (const { end, direction, index } of this.ends()) {
          const stage = await DelayStage.start(
            end.ns,
            end.ifname,
            {
              queue: this.opts.queue ?? DEFAULT_QUEUE,
              delayMs: cond.oneWayMs,
              jitterMs: cond.jitterMs,
              jitterMode: cond.jitterMode,
              jitterDist: cond.jitterDist,
              seed: directionSeed(cond.seed, index),
              maxHeld: cond.maxHeld,
              rtPriority: this.opts.rtPriority ?? DEFAULT_STAGE_RT_PRIORITY,
            },
            { binary: this.opts.binary, cleanup: this.opts.cleanup, logFile: this.opts.logFile },
          );
          this.stages.push({ direction, stage });
        }
      }
      this.current = {
        conditions: cond,
        mechanism: plan,
        netemAvailable: this.netemAvailable,
        tcpCongestion: tcp,
        stages: this.stages.map(({ direction, stage }) => ({ direction, ns: stage.ns, pid: stage.pid, seed: stage.ready?.seed ?? null })),
      };
      return this.current;
    } catch (err) {
      await this.clear();
      throw err;
    }
  }

  private async applyNetem(c: ResolvedConditions): Promise<void> {
    const lossImpairer = new LinkImpairer(this.topo, 'netem');
    for (const { end } of this.ends()) {
      const args = ['netns', 'exec', end.ns, 'tc', 'qdisc', 'replace', 'dev', end.ifname, 'root', 'netem', 'limit', String(c.maxHeld ?? NETEM_LIMIT_DEFAULT)];
      if (c.oneWayMs > 0 || c.jitterMs > 0) {
        args.push('delay', `${c.oneWayMs}ms`);
        if (c.jitterMs > 0) {
          args.push(`${c.jitterMs}ms`);
          if (c.jitterDist === 'normal') args.push('distribution', 'normal');
        }
      }
      if (c.lossPct > 0) args.push('loss', `${c.lossPct}%`);
      this.netemActive = true;
      await mustRun('ip', args);
    }
    // netem's own counters (drops, packets) are read through the same class as the harness's.
    this.lossImpairer = lossImpairer;
  }

  /**
   * Change only the loss of the conditions in force. Delay stages keep running, so no packet
   * slips through undelayed while the loss changes: the harness runs connection setup and
   * warm-up with the delay but without loss, then switches loss on for the measured window.
   */
  async setLoss(lossPct: number): Promise<AppliedLink> {
    const cur = this.current;
    if (!cur) throw new Error('setLoss needs conditions in force (call apply first)');
    const c = cur.conditions;
    const cond = resolveConditions({
      rttMs: c.rttMs, jitterMs: c.jitterMs, jitterMode: c.jitterMode, jitterDist: c.jitterDist, lossPct,
      seed: c.seed ?? undefined, tcpCongestion: c.tcpCongestion, maxHeld: c.maxHeld ?? undefined,
    });
    const viaNetem = this.netemActive || (cur.mechanism.delay !== 'nfqueue' && planMechanism(cond, this.netemAvailable, this.opts.mechanism ?? 'auto').loss === 'netem');
    if (viaNetem) {
      // `tc qdisc replace` swaps the parameters in place; netem keeps what it holds.
      await this.applyNetem(cond);
    } else {
      if (this.lossImpairer) await this.lossImpairer.clear();
      this.lossImpairer = null;
      if (cond.lossPct > 0) {
        this.lossImpairer = new LinkImpairer(this.topo, 'nftables');
        await this.lossImpairer.apply({ lossPct: cond.lossPct });
      }
    }
    const loss: MechanismPlan['loss'] = cond.lossPct > 0 ? (viaNetem ? 'netem' : 'nftables') : 'none';
    this.current = { ...cur, conditions: cond, mechanism: { ...cur.mechanism, loss } };
    return this.current;
  }

  /** Throw if a stage died while conditions were in force (the link then drops everything). */
  checkHealthy(): void {
    const dead = this.stages.find(({ stage }) => stage.failure);
    if (dead) throw new Error(dead.stage.failure!);
  }

  /** The stages' counters so far (empty when no stage runs). */
  async stageStats(): Promise<Array<{ direction: Direction; stats: StageStats }>> {
    const out: Array<{ direction: Direction; stats: StageStats }> = [];
    for (const { direction, stage } of this.stages) out.push({ direction, stats: await stage.stats() });
    return out;
  }

  /** The kernel's drop counters per direction since `apply` ([] when nothing drops). */
  async lossCounters(): Promise<DirectionCounters[]> {
    return this.lossImpairer ? this.lossImpairer.counters() : [];
  }

  /** Remove every condition (TCP congestion control stays as set). Returns the stages' final counters. */
  async clear(): Promise<StageFinals> {
    const finals: StageFinals = [];
    for (const { direction, stage } of this.stages) {
      const failure = stage.failure;
      finals.push({ direction, stats: await stage.stop(), failure });
    }
    this.stages = [];
    if (this.lossImpairer) await this.lossImpairer.clear();
    else if (this.netemActive) await new LinkImpairer(this.topo, 'netem').clear();
    this.lossImpairer = null;
    this.netemActive = false;
    this.current = null;
    return finals;
  }
}

/**
 * Open a shaper on `topo` and apply `c` in one call: netem where the kernel has it, else the
 * NFQUEUE stage plus nftables loss. The result says which (`shaper.current.mechanism`).
 */
export async function applyLinkConditions(topo: Topology, c: LinkConditions, opts: ShaperOptions = {}): Promise<LinkShaper> {
  const shaper = await LinkShaper.open(topo, opts);
  await shaper.apply(c);
  return shaper;
}
