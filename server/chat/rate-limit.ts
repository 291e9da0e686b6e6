/**
 * Token bucket (RFC 2697's single-rate idea): `capacity` lines may be sent in a burst, then one
 * every `1 / refillPerSecond` seconds. Time is passed in, so tests step it.
 */
/** What a successful take returns: one shared object (a bucket is asked once per datagram). */
const TAKEN = Object.freeze({ ok: true as const });

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly capacity: number,
    readonly refillPerSecond: number,
    nowMs: number,
  ) {
    this.tokens = capacity;
    this.updatedAt = nowMs;
  }

  private refill(nowMs: number): void {
    const elapsed = Math.max(0, nowMs - this.updatedAt) / 1000;
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.refillPerSecond);
    this.updatedAt = Math.max(this.updatedAt, nowMs);
  }

  /** Takes one token; when none is left says how long until one is. */
  take(nowMs: number): { ok: true } | { ok: false; retryAfterMs: number } {
    this.refill(nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return TAKEN;
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - this.tokens) / this.refillPerSecond) * 1000) };
  }
}
