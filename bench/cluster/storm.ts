/**
 * The reconnect storm of `npm run bench:cluster` (docs/cluster.md, "Admission"): what each
 * client went through between the storm's start and its welcome, summed up. Pure.
 *
 * The node's admission limit answers an over-limit hello with SERVER_BUSY and `retryAfterMs`, and
 * an over-limit connect-info with HTTP 503 and Retry-After; the client waits that long plus its
 * jittered backoff and tries again. The summary says how many got in at once, how many were
 * refused, with which codes and retry times, whether every refused client got in in the end, and
 * the accepts per second against the limit (rate + burst is the most a bucket can give in a second).
 */
import { errorInfo } from '../../shared/errors.js';
import { percentile } from '../../tools/lib/stats.js';

/** One client of the storm. */
export interface StormClient {
  /** Epoch ms of its welcome after the storm began; null when it never got in. */
  welcomeAt: number | null;
  /** Whether that welcome resumed its session (same player, same entity). */
  resumed: boolean;
  /** Hellos refused by the game layer: the `error` message's code and retryAfterMs. */
  helloRefusals: ReadonlyArray<{ code: number; retryAfterMs: number | null }>;
  /** connect-info answers that were not 200: status and Retry-After (seconds) when sent. */
  httpRefusals: ReadonlyArray<{ status: number; retryAfterSeconds: number | null }>;
}

export interface AdmissionLimitView {
  ratePerSecond: number;
  burst: number;
}

export interface StormSummary {
  clients: number;
  /** Got in without a single refusal. */
  admittedFirstTry: number;
  /** Refused at least once (hello or connect-info). */
  refusedClients: number;
  /** Of the refused, how many got in in the end. */
  refusedThenIn: number;
  allIn: boolean;
  allResumed: boolean;
  /** From the storm's start to the last welcome. */
  lastInMs: number | null;
  hello: { refusals: number; byCode: Record<string, number>; retryAfterMs: { min: number; p50: number; max: number } | null };
  connectInfo: { refusals: number; byStatus: Record<string, number>; retryAfterSeconds: { min: number; max: number } | null };
  /** Tries per client until its welcome: refusals + 1. */
  attemptsPerClient: { mean: number; max: number };
  /** Welcomes in each second since the storm's start. */
  acceptsPerSecond: number[];
  maxAcceptsPerSecond: number;
  /** The most the limit lets through in any one second (a full bucket plus a second's refill). */
  limitPerSecond: number;
}

const codeName = (code: number) => `${code} ${errorInfo(code)?.name ?? 'unknown'}`;
const count = (into: Record<string, number>, key: string) => { into[key] = (into[key] ?? 0) + 1; };

/** Sums up the storm's clients; `t0` is its start (epoch ms). */
export function summarizeStorm(clients: readonly StormClient[], t0: number, limit: AdmissionLimitView): StormSummary {
  const helloByCode: Record<string, number> = {};
  const httpByStatus: Record<string, number> = {};
  const retryMs: number[] = [];
  const retrySeconds: number[] = [];
  const attempts: number[] = [];
  const perSecond: number[] = [];
  let refusedClients = 0;
  let refusedThenIn = 0;
  let lastIn: number | null = null;
  for (const c of clients) {
    for (const r of c.helloRefusals) {
      count(helloByCode, codeName(r.code));
      if (r.retryAfterMs !== null) retryMs.push(r.retryAfterMs);
    }
    for (const r of c.httpRefusals) {
      count(httpByStatus, String(r.status));
      if (r.retryAfterSeconds !== null) retrySeconds.push(r.retryAfterSeconds);
    }
    const refusals = c.helloRefusals.length + c.httpRefusals.length;
    attempts.push(refusals + 1);
    if (refusals > 0) {
      refusedClients++;
      if (c.welcomeAt !== null) refusedThenIn++;
    }
    if (c.welcomeAt !== null) {
      const s = Math.max(0, Math.floor((c.welcomeAt - t0) / 1000));
      while (perSecond.length <= s) perSecond.push(0);
      perSecond[s]++;
      lastIn = Math.max(lastIn ?? 0, c.welcomeAt - t0);
    }
  }
  const helloRefusals = clients.reduce((n, c) => n + c.helloRefusals.length, 0);
  const httpRefusals = clients.reduce((n, c) => n + c.httpRefusals.length, 0);
  return {
    clients: clients.length,
    admittedFirstTry: clients.length - refusedClients,
    refusedClients,
    refusedThenIn,
    allIn: clients.every((c) => c.welcomeAt !== null),
    allResumed: clients.every((c) => c.welcomeAt !== null && c.resumed),
    lastInMs: lastIn,
    hello: {
      refusals: helloRefusals,
      byCode: helloByCode,
      retryAfterMs: retryMs.length ? { min: Math.min(...retryMs), p50: Math.round(percentile(retryMs, 50)!), max: Math.max(...retryMs) } : null,
    },
    connectInfo: {
      refusals: httpRefusals,
      byStatus: httpByStatus,
      retryAfterSeconds: retrySeconds.length ? { min: Math.min(...retrySeconds), max: Math.max(...retrySeconds) } : null,
    },
    attemptsPerClient: {
      mean: attempts.length ? Math.round((attempts.reduce((a, b) => a + b, 0) / attempts.length) * 100) / 100 : 0,
      max: attempts.length ? Math.max(...attempts) : 0,
    },
    acceptsPerSecond: perSecond,
    maxAcceptsPerSecond: Math.max(0, ...perSecond),
    limitPerSecond: limit.ratePerSecond + limit.burst,
  };
}
