/**
 * The link conditions an experiment asks for, their checks and their translation into the
 * delay stage's arguments. Pure: no I/O, so every rule here is tested without root.
 *
 * Conditions are stated the way people talk about paths: a round-trip time, jitter per
 * direction, loss per direction. Both directions get half the RTT.
 */

/** How jitter is applied; see nfq-delay.c's header for the two models. */
export type JitterMode = 'order' | 'reorder';
/** Distribution of one jitter sample: uniform on [-J, J], or normal with standard deviation J. */
export type JitterDist = 'uniform' | 'normal';
/** TCP congestion control set in both namespaces. */
export type TcpCongestion = 'cubic' | 'bbr';

export const JITTER_MODES: readonly JitterMode[] = ['order', 'reorder'];
export const JITTER_DISTS: readonly JitterDist[] = ['uniform', 'normal'];
export const TCP_CONGESTION: readonly TcpCongestion[] = ['cubic', 'bbr'];

/**
 * Default jitter model: `order`. Jitter on real paths comes from queues at bottlenecks, which
 * are FIFO, so packets keep their order; reordering would also make QUIC and TCP declare
 * spurious losses (RFC 9002 section 6.1.1's packet threshold of 3, TCP's three duplicate ACKs)
 * and blur the loss study. `reorder` (netem's behaviour) stays available to compare with netem.
 */
export const DEFAULT_JITTER_MODE: JitterMode = 'order';
/** netem's default distribution. */
export const DEFAULT_JITTER_DIST: JitterDist = 'uniform';
/** What typical clients run (BBR is this kernel's default, so it must be set explicitly). */
export const DEFAULT_TCP_CONGESTION: TcpCongestion = 'cubic';

/**
 * Largest one-way delay or jitter in ms. The same bound is MAX_DELAY_MS in nfq-delay.c, which
 * checks its own command line; keep the two in step.
 */
export const MAX_ONE_WAY_MS = 10_000;
/** Largest --max-held (MAX_HELD_LIMIT in nfq-delay.c). */
export const MAX_HELD_LIMIT = 1_000_000;
/** Largest seed (the harness's --seed range); each direction derives seed * 2 + d from it. */
export const MAX_SEED = 2 ** 31 - 1;
/** NFQUEUE numbers are 16 bits. */
export const MAX_QUEUE = 65_535;

export interface LinkConditions {
  /** Added round-trip time in ms; each direction gets half. */
  rttMs: number;
  /** Jitter per direction in ms (0 = none); at most the one-way delay. */
  jitterMs?: number;
  jitterMode?: JitterMode;
  jitterDist?: JitterDist;
  /** Loss per direction in percent, 0..100. */
  lossPct?: number;
  /** Seed for the jitter of both directions (each derives its own); absent = random, reported. */
  seed?: number;
  /** TCP congestion control in both namespaces (default `cubic`). */
  tcpCongestion?: TcpCongestion;
  /** Cap on packets one stage holds (default: the stage's MAX_HELD_DEFAULT). */
  maxHeld?: number;
}

/** Conditions with every default filled in. */
export interface ResolvedConditions {
  rttMs: number;
  oneWayMs: number;
  jitterMs: number;
  jitterMode: JitterMode;
  jitterDist: JitterDist;
  lossPct: number;
  seed: number | null;
  tcpCongestion: TcpCongestion;
  maxHeld: number | null;
}

/** Raised for conditions that make no sense; the message names the field and the rule. */
export class ConditionError extends Error {}

function checkNumber(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConditionError(`${name} must be a number, got ${JSON.stringify(v)}`);
  if (v < min || v > max) throw new ConditionError(`${name} must be within ${min}..${max}, got ${v}`);
  return v;
}

function checkInteger(name: string, v: unknown, min: number, max: number): number {
  const n = checkNumber(name, v, min, max);
  if (!Number.isInteger(n)) throw new ConditionError(`${name} must be an integer, got ${n}`);
  return n;
}

function checkChoice<T extends string>(name: string, v: unknown, choices: readonly T[]): T {
  if (!choices.includes(v as T)) throw new ConditionError(`${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** Check `c` and fill in the defaults; throws `ConditionError` with a precise message. */
export function resolveConditions(c: LinkConditions): ResolvedConditions {
  const rttMs = checkNumber('rttMs', c.rttMs, 0, 2 * MAX_ONE_WAY_MS);
  const oneWayMs = rttMs / 2;
  const jitterMs = checkNumber('jitterMs', c.jitterMs ?? 0, 0, MAX_ONE_WAY_MS);
  if (jitterMs > oneWayMs) {
    throw new ConditionError(
      `jitterMs (${jitterMs}) must not exceed the one-way delay (rttMs / 2 = ${oneWayMs}): a packet cannot leave before it arrived`,
    );
  }
  return {
    rttMs,
    oneWayMs,
    jitterMs,
    jitterMode: checkChoice('jitterMode', c.jitterMode ?? DEFAULT_JITTER_MODE, JITTER_MODES),
    jitterDist: checkChoice('jitterDist', c.jitterDist ?? DEFAULT_JITTER_DIST, JITTER_DISTS),
    lossPct: checkNumber('lossPct', c.lossPct ?? 0, 0, 100),
    seed: c.seed === undefined ? null : checkInteger('seed', c.seed, 0, MAX_SEED),
    tcpCongestion: checkChoice('tcpCongestion', c.tcpCongestion ?? DEFAULT_TCP_CONGESTION, TCP_CONGESTION),
    maxHeld: c.maxHeld === undefined ? null : checkInteger('maxHeld', c.maxHeld, 1, MAX_HELD_LIMIT),
  };
}

/** What one delay stage (one direction) is asked to do. */
export interface StageParams {
  /** NFQUEUE number; queues are per network namespace, so every stage can use the default. */
  queue: number;
  delayMs: number;
  jitterMs: number;
  jitterMode: JitterMode;
  jitterDist: JitterDist;
  seed: number | null;
  maxHeld: number | null;
  /** SCHED_FIFO priority for the stage (0 = normal scheduling). */
  rtPriority: number;
}

/** The queue number stages use unless told otherwise. */
export const DEFAULT_QUEUE = 7;
/**
 * The stage runs under SCHED_FIFO by default, above the harness's measured processes (their
 * `--rt` is typically 10): a packet's verdict must not wait behind the load it is measuring.
 * It needs well under 1 % of a core at game rates, so others lose nothing noticeable.
 */
export const DEFAULT_STAGE_RT_PRIORITY = 20;

/** Check one stage's parameters (the public entry for callers that start stages directly). */
export function checkStageParams(p: StageParams): StageParams {
  checkInteger('queue', p.queue, 0, MAX_QUEUE);
  checkNumber('delayMs', p.delayMs, 0, MAX_ONE_WAY_MS);
  checkNumber('jitterMs', p.jitterMs, 0, MAX_ONE_WAY_MS);
  if (p.jitterMs > p.delayMs) throw new ConditionError(`jitterMs (${p.jitterMs}) must not exceed delayMs (${p.delayMs})`);
  checkChoice('jitterMode', p.jitterMode, JITTER_MODES);
  checkChoice('jitterDist', p.jitterDist, JITTER_DISTS);
  if (p.seed !== null) checkInteger('seed', p.seed, 0, 2 * MAX_SEED + 1);
  if (p.maxHeld !== null) checkInteger('maxHeld', p.maxHeld, 1, MAX_HELD_LIMIT);
  checkInteger('rtPriority', p.rtPriority, 0, 99);
  return p;
}

/** Command-line arguments for nfq-delay. */
export function stageArgv(p: StageParams): string[] {
  checkStageParams(p);
  const a = [
    '--queue', String(p.queue),
    '--delay-ms', String(p.delayMs),
    '--jitter-ms', String(p.jitterMs),
    '--jitter-mode', p.jitterMode,
    '--jitter-dist', p.jitterDist,
    '--rt-priority', String(p.rtPriority),
  ];
  if (p.seed !== null) a.push('--seed', String(p.seed));
  if (p.maxHeld !== null) a.push('--max-held', String(p.maxHeld));
  return a;
}

/** Per-direction seeds from one seed, so the two directions differ yet repeat. */
export function directionSeed(seed: number | null, direction: 0 | 1): number | null {
  return seed === null ? null : seed * 2 + direction;
}
