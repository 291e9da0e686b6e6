/**
 * The timing rule of room leases (docs/cluster.md, "Lease and fencing"), I/O-free.
 *
 * Redis starts a lease's TTL when it executes the SET / PEXPIRE, which is after the owner sent
 * it. So a lease renewed by a request sent at local time `sentAt` lives in Redis until at least
 * `sentAt + ttl` as Redis counts time. The owner's clock may run slower than Redis's by up to
 * `driftBound` (a rate), so the owner treats the lease as valid only until
 *
 *     sentAt + ttl * (1 - driftBound) - marginMs
 *
 * and stops simulating the room at that local deadline: strictly before any other node can
 * acquire the lease. `marginMs` covers what the rate bound does not: the tick that checked
 * `valid()` just before the deadline still runs to completion (and a GC pause inside it).
 */

/** Default lease lifetime in Redis. Longer rides out longer Redis outages; shorter recovers crashes sooner. */
export const LEASE_TTL_MS = 10_000;
/** Renew this fraction of the TTL after the last successful renewal was sent. */
export const LEASE_RENEW_FRACTION = 1 / 3;
/** After a failed renewal (Redis away), try again this soon while the lease is still valid. */
export const LEASE_RENEW_RETRY_MS = 250;
/**
 * Assumed worst rate difference between a node's clock and Redis's (1%, as Redlock's drift
 * factor); NTP keeps real clocks within parts per million, so this is generous. A wall-clock
 * *step* on the Redis host is not covered: run Redis with a slewing, not stepping, clock.
 */
export const CLOCK_DRIFT_BOUND = 0.01;
/** Extra safety before the deadline: longer than one tick plus a long GC pause. */
export const LEASE_SAFETY_MARGIN_MS = 100;

export interface LeaseTiming {
  ttlMs: number;
  /** Time between renewals (default ttl * LEASE_RENEW_FRACTION). */
  renewEveryMs: number;
  retryMs: number;
  driftBound: number;
  marginMs: number;
}

export function leaseTiming(overrides: Partial<LeaseTiming> = {}): LeaseTiming {
  const ttlMs = overrides.ttlMs ?? LEASE_TTL_MS;
  const timing: LeaseTiming = {
    ttlMs,
    renewEveryMs: overrides.renewEveryMs ?? Math.round(ttlMs * LEASE_RENEW_FRACTION),
    retryMs: overrides.retryMs ?? LEASE_RENEW_RETRY_MS,
    driftBound: overrides.driftBound ?? CLOCK_DRIFT_BOUND,
    marginMs: overrides.marginMs ?? LEASE_SAFETY_MARGIN_MS,
  };
  const valid = validFor(timing);
  if (!(timing.driftBound >= 0 && timing.driftBound < 0.5)) throw new RangeError('driftBound must be in [0, 0.5)');
  if (!(timing.renewEveryMs > 0 && timing.retryMs > 0 && timing.marginMs >= 0)) throw new RangeError('lease timings must be positive');
  // At least one retry must fit between the planned renewal and the deadline, or a single slow
  // reply would cost the room.
  if (!(timing.renewEveryMs + timing.retryMs < valid)) {
    throw new RangeError(`lease ttl ${ttlMs} ms too short: renew (${timing.renewEveryMs}) + retry (${timing.retryMs}) must stay under ${valid} ms`);
  }
  return timing;
}

/** How long after a renewal's send time the owner may still act: ttl * (1 - drift) - margin. */
export function validFor(timing: Pick<LeaseTiming, 'ttlMs' | 'driftBound' | 'marginMs'>): number {
  return timing.ttlMs * (1 - timing.driftBound) - timing.marginMs;
}

/** Local deadline of a lease last renewed (or acquired) by a request sent at `sentAt`. */
export function leaseDeadline(sentAt: number, timing: Pick<LeaseTiming, 'ttlMs' | 'driftBound' | 'marginMs'>): number {
  return sentAt + validFor(timing);
}

/**
 * Longest Redis outage a room rides out without stopping, in the worst case (the outage starts
 * just before a renewal was due): validFor - renewEvery. In the best case (it starts right after
 * a renewal) it is validFor.
 */
export function outageToleranceMs(timing: LeaseTiming): { worst: number; best: number } {
  const best = validFor(timing);
  return { worst: best - timing.renewEveryMs, best };
}
