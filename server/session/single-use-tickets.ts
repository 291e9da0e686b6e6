/**
 * Which single-use tickets (`once` claim: dev tickets) have started a session. A used ticket is
 * remembered until it expires, since after that verifyTicket refuses it anyway.
 */

/**
 * Used single-use tickets remembered at once. Each entry is a signature string and an expiry
 * (about 150 bytes), so this is about 15 MB at worst; dev-ticket minting is rate-limited per
 * address long before. When it is full (entries only leave when they expire), new single-use
 * joins are refused with SERVER_BUSY until the oldest entry expires.
 */
export const MAX_REMEMBERED_SINGLE_USE_TICKETS = 100_000;

export type TicketUse = { ok: true } | { ok: false; reason: 'used' } | { ok: false; reason: 'full'; retryAfterMs: number };

/** The registry: `take` marks a ticket used, `giveBack` undoes it when the join did not happen. */
export class SingleUseTickets {
  /** Ticket key -> expiry (ms); insertion order, so with one TTL the head expires first. */
  private readonly used = new Map<string, number>();

  constructor(private readonly limit = MAX_REMEMBERED_SINGLE_USE_TICKETS) {}

  get size(): number {
    return this.used.size;
  }

  /** Marks `key` (a ticket's signature) used until `expiresAt`; refused when it already was. */
  take(key: string, expiresAt: number, now: number): TicketUse {
    this.sweep(now);
    if (this.used.has(key)) return { ok: false, reason: 'used' };
    if (this.used.size >= this.limit) {
      const oldest = this.used.values().next().value!;
      return { ok: false, reason: 'full', retryAfterMs: Math.max(1, Math.ceil(oldest - now)) };
    }
    this.used.set(key, expiresAt);
    return { ok: true };
  }

  /** The join that took `key` did not happen (room full, server busy): the ticket is usable again. */
  giveBack(key: string): void {
    this.used.delete(key);
  }

  /** Forgets expired entries from the head (tickets of one TTL expire in insertion order). */
  private sweep(now: number): void {
    for (const [key, exp] of this.used) {
      if (exp > now) break;
      this.used.delete(key);
    }
  }
}
