/**
 * Admission of connections waiting for their hello: a global budget, and a share of it per
 * address (server/address.ts: IPv4 address, IPv6 /64), so that one address holding sockets open
 * without a hello cannot lock everyone else out. Both transports count against the same shares.
 */

/** Connections allowed to wait for their hello at once; more are refused (SERVER_BUSY). */
export const MAX_PENDING_CONNECTIONS = 1_000;
/**
 * Connections one address may have waiting for their hello at once. An honest client sends its
 * hello one round trip after the transport opens, so even many players behind one NAT rarely
 * have more than a few waiting; a flood of silent sockets from one address stops here.
 */
export const MAX_PENDING_PER_ADDRESS = 32;
/**
 * `retryAfterMs` of a refusal for lack of a pending slot. Slots free up as hellos arrive (a round
 * trip) or time out (the hello timeout), so a second is a fair wait for an honest client that
 * was unlucky enough to share an address with a flood.
 */
export const PENDING_BUSY_RETRY_AFTER_MS = 1_000;

export type PendingRefusal = 'pending_per_address' | 'pending_global';

/** Counts of pending connections, in total and per address key. */
export class PendingShares {
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(
    readonly maxTotal = MAX_PENDING_CONNECTIONS,
    readonly maxPerAddress = MAX_PENDING_PER_ADDRESS,
  ) {}

  get size(): number {
    return this.total;
  }

  /** Pending connections of one address key. */
  of(key: string): number {
    return this.byAddress.get(key) ?? 0;
  }

  /**
   * Takes a slot for `key`, or says which limit refused it. An empty key (a connection whose
   * transport knows no address: an embedder's own) has no share to keep apart from the others,
   * and only the global budget applies to it.
   */
  take(key: string): PendingRefusal | null {
    const mine = this.byAddress.get(key) ?? 0;
    if (key === '') {
      if (this.total >= this.maxTotal) return 'pending_global';
      this.byAddress.set(key, mine + 1);
      this.total++;
      return null;
    }
    // The per-address share first: a flood from one address is named as such even when it has
    // also filled the global budget.
    if (mine >= this.maxPerAddress) return 'pending_per_address';
    if (this.total >= this.maxTotal) return 'pending_global';
    this.byAddress.set(key, mine + 1);
    this.total++;
    return null;
  }

  /** Returns a slot taken for `key`. */
  give(key: string): void {
    const mine = this.byAddress.get(key) ?? 0;
    if (mine <= 0) return;
    if (mine === 1) this.byAddress.delete(key);
    else this.byAddress.set(key, mine - 1);
    this.total--;
  }
}
