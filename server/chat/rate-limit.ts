/**
 * Token bucket (RFC 2697's single-rate idea): `capacity` lines may be sent in a burst, then one
 * every `1 / refillPerSecond` seconds. Time is passed in, so tests step it.
 */
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

  /** True when the bucket is back at capacity at `nowMs` (as if it had never been used). */
  isFull(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= this.capacity;
  }

  /** Takes one token; when none is left says how long until one is. */
  take(nowMs: number): { ok: true } | { ok: false; retryAfterMs: number } {
    this.refill(nowMs);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - this.tokens) / this.refillPerSecond) * 1000) };
  }
}

/**
 * Token buckets by key (an address, say), all with the same capacity and rate. At most
 * `maxKeys` buckets are kept: when a new key finds the map full, buckets that have refilled
 * completely (they hold no information) are dropped first, then the oldest. An evicted key
 * starts over with a full bucket, so the bound costs at most one extra burst per eviction.
 */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    readonly capacity: number,
    readonly refillPerSecond: number,
    readonly maxKeys: number,
  ) {}

  /** Number of keys held (for tests and the bound). */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token from `key`'s bucket; when none is left says how long until one is. */
  take(key: string, nowMs: number): { ok: true } | { ok: false; retryAfterMs: number } {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.evict(nowMs);
      bucket = new TokenBucket(this.capacity, this.refillPerSecond, nowMs);
      this.buckets.set(key, bucket);
    }
    return bucket.take(nowMs);
  }

  private evict(nowMs: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.isFull(nowMs)) this.buckets.delete(key);
    }
    while (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
  }
}
