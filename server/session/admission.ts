/**
 * Admission by address (server/address.ts: IPv4 address, IPv6 /64), both transports counting
 * against the same shares:
 * - connections waiting for their hello: a global budget, and a share of it per address, so that
 *   one address holding sockets open without a hello cannot lock everyone else out;
 * - live sessions: a share per address (MAX_SESSIONS_PER_ADDRESS), so that one address cannot
 *   fill rooms and memory with sessions (dev tickets are free to mint).
 */
import { AddressCounts } from '../address.js';


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

/**
 * Live sessions one address may hold at once: active ones and suspended ones still inside their
 * resume window, since a suspended session keeps what an active one costs (its entity in the
 * room, its seat, chat position and snapshot state) until the window ends; counting only active
 * ones would let an address drop and rejoin its way to any number of seats. Counted against the
 * address that started the session (a resume from elsewhere neither moves nor frees it, else two
 * addresses could pass sessions back and forth past the share), and a resume is never refused by
 * it. A household or office behind one NAT plays with a few sessions, a school or a carrier-grade
 * NAT with a few dozen; 64 leaves them room (the QUIC endpoint's MAX_CONNECTIONS_PER_ADDRESS is
 * the same), while one address can no longer fill a 1,024-player room. Load generators on one
 * host lift it (`admission.maxSessionsPerAddress`; tools/lib/dev-server.ts).
 */
export const MAX_SESSIONS_PER_ADDRESS = 64;
/**
 * `retryAfterMs` of a TOO_MANY_SESSIONS refusal. A slot comes back when a session of the address
 * ends: a leave, or a suspended session's resume window (30 s) running out. 10 s spares the
 * server a tight retry loop and the player a long wait once a tab is closed.
 */
export const SESSIONS_PER_ADDRESS_RETRY_AFTER_MS = 10_000;

export type PendingRefusal = 'pending_per_address' | 'pending_global';

/** Counts of pending connections, in total and per address key. */
export class PendingShares {
  private readonly counts = new AddressCounts();

  constructor(
    readonly maxTotal = MAX_PENDING_CONNECTIONS,
    readonly maxPerAddress = MAX_PENDING_PER_ADDRESS,
  ) {}

  get size(): number {
    return this.counts.total;
  }

  /** Pending connections of one address key. */
  of(key: string): number {
    return this.counts.of(key);
  }

  /**
   * Takes a slot for `key`, or says which limit refused it. An empty key (a connection whose
   * transport knows no address: an embedder's own) has no share to keep apart from the others,
   * and only the global budget applies to it.
   */
  take(key: string): PendingRefusal | null {
    // The per-address share first (an empty key has none): a flood from one address is named
    // as such even when it has also filled the global budget.
    if (key !== '' && this.counts.of(key) >= this.maxPerAddress) return 'pending_per_address';
    if (this.counts.total >= this.maxTotal) return 'pending_global';
    this.counts.add(key);
    return null;
  }

  /** Returns a slot taken for `key`. */
  give(key: string): void {
    this.counts.remove(key);
  }
}

/**
 * Live sessions per address key (MAX_SESSIONS_PER_ADDRESS). A slot is taken when a hello that
 * would start a session is admitted, before the room lookup (so joins in flight count too), and
 * given back when the join fails or the session is gone. An empty key (an embedder's transport
 * that knows no address) has no share.
 */
export class SessionShares {
  private readonly counts = new AddressCounts();

  constructor(readonly maxPerAddress = MAX_SESSIONS_PER_ADDRESS) {
    if (!(maxPerAddress >= 1)) throw new RangeError('maxSessionsPerAddress must be at least 1');
  }

  /** Sessions (and joins in flight) of one address key. */
  of(key: string): number {
    return this.counts.of(key);
  }

  /**
   * Takes a slot for `key`; false when the address holds its share already. `freed` slots of
   * the address are about to come back (the session a join replaces): they do not count.
   */
  take(key: string, freed = 0): boolean {
    if (key !== '' && this.counts.of(key) - freed >= this.maxPerAddress) return false;
    this.counts.add(key);
    return true;
  }

  /** Returns a slot taken for `key`. */
  give(key: string): void {
    this.counts.remove(key);
  }
}
