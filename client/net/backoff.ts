/**
 * Reconnect delays: exponential backoff with "full jitter" (AWS Architecture Blog, "Exponential
 * Backoff And Jitter", 2015): delay = random() * min(maxMs, baseMs * 2^attempt). Full jitter
 * spreads a crowd of clients that lost the same server over the whole window instead of
 * letting them return in synchronized waves.
 */
export interface ReconnectPolicy {
  /** Upper bound of the first delay (attempt 0), ms. */
  baseMs: number;
  /** Cap of the exponential window, ms. */
  maxMs: number;
  /** Attempts after which the client gives up and emits `close`. Infinity = never. */
  maxAttempts: number;
}

export const DEFAULT_RECONNECT_POLICY: Readonly<ReconnectPolicy> = Object.freeze({
  baseMs: 250,
  maxMs: 10_000,
  maxAttempts: 20,
});

/** Merges a partial policy over the defaults and rejects nonsense values. */
export function resolveReconnectPolicy(partial: Partial<ReconnectPolicy> | undefined): ReconnectPolicy {
  const policy = { ...DEFAULT_RECONNECT_POLICY, ...(partial ?? {}) };
  if (!(policy.baseMs >= 0) || !(policy.maxMs >= policy.baseMs) || !(policy.maxAttempts >= 0)) {
    throw new RangeError(`invalid reconnect policy ${JSON.stringify(policy)}`);
  }
  return policy;
}

/** The exponential window (before jitter) for a zero-based attempt number. */
export function backoffWindowMs(policy: ReconnectPolicy, attempt: number): number {
  // 2^attempt overflows to Infinity for large attempts; min() then yields maxMs, as intended.
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt));
}

/** Full-jitter delay for a zero-based attempt; `random` returns [0, 1). */
export function backoffDelayMs(policy: ReconnectPolicy, attempt: number, random: () => number): number {
  const r = random();
  const clamped = r >= 0 && r < 1 ? r : 0; // a broken random source must not yield NaN timers
  return Math.floor(clamped * backoffWindowMs(policy, attempt));
}
