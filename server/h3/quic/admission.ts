/**
 * Who may start a QUIC handshake with the server, and when a stateless Retry comes first
 * (RFC 9000 §8.1.2). I/O-free: the endpoint asks `decide()` for every Initial that would create a
 * connection, reports `opened` / `released` for each handshake in flight, and
 * `connectionOpened` / `connectionClosed` for each connection alive (handshaking or established).
 *
 * Handshakes are accounted per address, never per port (an attacker on one host has 64k ports):
 * an IPv4 address, or the /64 of an IPv6 address, with IPv4-mapped IPv6 addresses counted as the
 * IPv4 address they are. The key is `addressKey` of server/address.ts, the one rule every
 * per-address share of the server uses (pending hellos, HTTP connections, dev tickets, feeds).
 */
import { AddressCounts } from '../../address.js';
import {
  MAX_CONNECTIONS_PER_ADDRESS,
  MAX_HANDSHAKES_PER_ADDRESS,
  MAX_HANDSHAKING_CONNECTIONS,
  RETRY_ABOVE_HANDSHAKES,
  RETRY_ABOVE_HANDSHAKES_PER_ADDRESS,
} from './limits.js';

/**
 * When the server answers a tokenless Initial with a Retry (RFC 9000 §8.1.2):
 * - 'always': every new connection validates its address first (one extra round trip each);
 * - 'under-load' (default): only once RETRY_ABOVE_HANDSHAKES handshakes are in flight, or for an
 *   address with RETRY_ABOVE_HANDSHAKES_PER_ADDRESS of its own in flight;
 * - 'never': no Retry; the handshake caps alone bound a flood.
 */
export type RetryMode = 'always' | 'under-load' | 'never';

export const RETRY_MODES: readonly RetryMode[] = ['always', 'under-load', 'never'];

/** What to do with an Initial that would start a connection. */
export type AdmissionDecision =
  | 'accept'
  /** Answer with a stateless Retry; keep no state. */
  | 'retry'
  /** MAX_HANDSHAKING_CONNECTIONS (or its option) reached: drop and count. */
  | 'handshake_limit'
  /** This address holds MAX_HANDSHAKES_PER_ADDRESS (or its option) already: drop and count. */
  | 'address_handshake_limit'
  /** This address holds MAX_CONNECTIONS_PER_ADDRESS (or its option) live connections already: drop and count. */
  | 'address_connection_limit';

export interface AdmissionOptions {
  retry?: RetryMode;
  /** Handshakes in flight at once over all addresses (default MAX_HANDSHAKING_CONNECTIONS). */
  maxHandshakes?: number;
  /** Handshakes in flight at once from one address (default MAX_HANDSHAKES_PER_ADDRESS). */
  maxHandshakesPerAddress?: number;
  /**
   * Connections alive at once from one address, handshaking or established (default
   * MAX_CONNECTIONS_PER_ADDRESS).
   */
  maxConnectionsPerAddress?: number;
}

/**
 * Handshakes in flight and connections alive, per address (and handshakes in total), and the
 * admission rule over them.
 */
export class HandshakeAdmission {
  readonly retry: RetryMode;
  readonly maxHandshakes: number;
  readonly maxPerAddress: number;
  readonly maxConnectionsPerAddress: number;
  /** 'under-load' sends Retry from this many handshakes in flight on (scaled to maxHandshakes). */
  private readonly retryAbove: number;
  /** ... and to an address with this many of its own in flight. */
  private readonly retryAbovePerAddress: number;
  /** Handshakes in flight by address key. */
  private readonly handshakes = new AddressCounts();
  /** Connections alive (handshaking or established) by address key. */
  private readonly connections = new AddressCounts();

  constructor(options: AdmissionOptions = {}) {
    this.retry = options.retry ?? 'under-load';
    this.maxHandshakes = options.maxHandshakes ?? MAX_HANDSHAKING_CONNECTIONS;
    this.maxPerAddress = options.maxHandshakesPerAddress ?? MAX_HANDSHAKES_PER_ADDRESS;
    this.maxConnectionsPerAddress = options.maxConnectionsPerAddress ?? MAX_CONNECTIONS_PER_ADDRESS;
    if (!RETRY_MODES.includes(this.retry)) throw new RangeError(`retry must be one of ${RETRY_MODES.join(', ')}`);
    if (!(this.maxHandshakes >= 1) || !(this.maxPerAddress >= 1)) throw new RangeError('handshake limits must be at least 1');
    if (!(this.maxConnectionsPerAddress >= 1)) throw new RangeError('maxConnectionsPerAddress must be at least 1');
    // The thresholds keep their proportion to the caps when the caps are set by option, so Retry
    // always starts before the cap is reached.
    this.retryAbove = Math.max(1, Math.min(this.maxHandshakes, Math.floor(this.maxHandshakes * RETRY_ABOVE_HANDSHAKES / MAX_HANDSHAKING_CONNECTIONS)));
    this.retryAbovePerAddress = Math.min(this.maxPerAddress, RETRY_ABOVE_HANDSHAKES_PER_ADDRESS);
  }

  /** Handshakes in flight over all addresses. */
  get inFlight(): number {
    return this.handshakes.total;
  }

  /** Handshakes in flight from the address with key `key`. */
  inFlightFrom(key: string): number {
    return this.handshakes.of(key);
  }

  /** Addresses with a handshake in flight (bounded by `inFlight`). */
  get addresses(): number {
    return this.handshakes.keys;
  }

  /** Connections alive (handshaking or established) from the address with key `key`. */
  connectionsFrom(key: string): number {
    return this.connections.of(key);
  }

  /**
   * The rule for one Initial from address `key`. `validated` is true when it carries a valid Retry
   * token: such a client already proved its address and never gets a second Retry (a client
   * follows one Retry per attempt, §17.2.5.2), only the caps.
   */
  decide(key: string, validated: boolean): AdmissionDecision {
    const mine = this.inFlightFrom(key);
    if (!validated) {
      if (this.retry === 'always') return 'retry';
      if (this.retry === 'under-load' && (this.handshakes.total >= this.retryAbove || mine >= this.retryAbovePerAddress)) return 'retry';
    }
    if (this.handshakes.total >= this.maxHandshakes) return 'handshake_limit';
    if (mine >= this.maxPerAddress) return 'address_handshake_limit';
    if (this.connections.of(key) >= this.maxConnectionsPerAddress) return 'address_connection_limit';
    return 'accept';
  }

  /** A handshake from `key` started. */
  opened(key: string): void {
    this.handshakes.add(key);
  }

  /** A handshake from `key` ended (completed, timed out or failed). Call once per `opened`. */
  released(key: string): void {
    this.handshakes.remove(key);
  }

  /** A connection from `key` was created (its handshake starts): it holds a connection slot. */
  connectionOpened(key: string): void {
    this.connections.add(key);
  }

  /** A connection from `key` ended, whatever the way. Call once per `connectionOpened`. */
  connectionClosed(key: string): void {
    this.connections.remove(key);
  }
}
