/**
 * Admission control for reconnect storms (docs/cluster.md, "Admission"): a per-node token bucket
 * on hellos and on connect-info requests. I/O-free; the caller passes the time.
 *
 * Over the limit, the caller is refused with a retry time (the game layer closes the hello with
 * SERVER_BUSY and `retryAfterMs`; HTTP answers 503 with Retry-After). The retry times are spread
 * on purpose: each refusal is handed the next free slot of a virtual queue, one token interval
 * after the previous one, so 300 clients refused in the same millisecond are told 300 different
 * times instead of all coming back together (and the client adds its own jitter on top).
 */
import { TokenBucket } from '../chat/rate-limit.js';

/** Hellos (new and resumed sessions) a node accepts per second, sustained. */
export const ADMISSION_HELLO_RATE = 200;
/** Hellos accepted at once before the rate applies. */
export const ADMISSION_HELLO_BURST = 100;
/** connect-info answers per second, sustained (cheap, but each may place a room). */
export const ADMISSION_CONNECT_INFO_RATE = 500;
export const ADMISSION_CONNECT_INFO_BURST = 200;
/**
 * Longest retry time handed out; a storm bigger than this many seconds of capacity gets this
 * and spreads by the client's jitter (the virtual queue never reaches further).
 */
export const ADMISSION_MAX_RETRY_AFTER_MS = 10_000;

export type AdmissionKind = 'hello' | 'connectInfo';

export interface AdmissionLimit {
  ratePerSecond: number;
  burst: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

export interface AdmissionOptions {
  hello?: Partial<AdmissionLimit>;
  connectInfo?: Partial<AdmissionLimit>;
  maxRetryAfterMs?: number;
}

export interface AdmissionStats {
  admitted: number;
  refused: number;
}

class Gate {
  readonly stats: AdmissionStats = { admitted: 0, refused: 0 };
  private readonly bucket: TokenBucket;
  private readonly intervalMs: number;
  /** Next retry time to hand out (ms, caller's clock). */
  private horizon = -Infinity;

  constructor(readonly limit: AdmissionLimit, private readonly maxRetryAfterMs: number, nowMs: number) {
    if (!(limit.ratePerSecond > 0 && limit.burst >= 1)) throw new RangeError('admission rate must be > 0 and burst >= 1');
    this.bucket = new TokenBucket(limit.burst, limit.ratePerSecond, nowMs);
    this.intervalMs = 1000 / limit.ratePerSecond;
  }

  admit(nowMs: number): Admission {
    const taken = this.bucket.take(nowMs);
    if (taken.ok) {
      this.stats.admitted++;
      return taken;
    }
    this.stats.refused++;
    const slot = Math.max(this.horizon, nowMs + taken.retryAfterMs);
    this.horizon = Math.min(slot + this.intervalMs, nowMs + this.maxRetryAfterMs);
    return { ok: false, retryAfterMs: Math.max(1, Math.ceil(Math.min(slot - nowMs, this.maxRetryAfterMs))) };
  }
}

/** One node's admission limits. */
export class AdmissionControl {
  private readonly gates: Record<AdmissionKind, Gate>;

  constructor(options: AdmissionOptions = {}, nowMs = 0) {
    const max = options.maxRetryAfterMs ?? ADMISSION_MAX_RETRY_AFTER_MS;
    this.gates = {
      hello: new Gate({ ratePerSecond: ADMISSION_HELLO_RATE, burst: ADMISSION_HELLO_BURST, ...options.hello }, max, nowMs),
      connectInfo: new Gate({ ratePerSecond: ADMISSION_CONNECT_INFO_RATE, burst: ADMISSION_CONNECT_INFO_BURST, ...options.connectInfo }, max, nowMs),
    };
  }

  /** Admit one request of `kind` now, or say when to try again. */
  admit(kind: AdmissionKind, nowMs: number): Admission {
    return this.gates[kind].admit(nowMs);
  }

  limit(kind: AdmissionKind): AdmissionLimit {
    return { ...this.gates[kind].limit };
  }

  stats(kind: AdmissionKind): AdmissionStats {
    return { ...this.gates[kind].stats };
  }
}

/** HTTP Retry-After value (RFC 9110 §10.2.3: whole seconds, at least 1) for a retry time in ms. */
export function retryAfterSeconds(retryAfterMs: number): string {
  return String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
}
