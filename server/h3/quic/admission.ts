/**
 * Who may start a QUIC handshake with the server, and when a stateless Retry comes first
 * (RFC 9000 §8.1.2). I/O-free: the endpoint asks `decide()` for every Initial that would create a
 * connection and reports `opened` / `released` for each handshake in flight.
 *
 * Handshakes are accounted per address, never per port (an attacker on one host has 64k ports):
 * an IPv4 address, or the /64 of an IPv6 address (ADDRESS_PREFIX_BITS_V6), with IPv4-mapped IPv6
 * addresses counted as the IPv4 address they are.
 */
import { isIPv4 } from 'node:net';
import {
  ADDRESS_PREFIX_BITS_V6,
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
  | 'address_handshake_limit';

export interface AdmissionOptions {
  retry?: RetryMode;
  /** Handshakes in flight at once over all addresses (default MAX_HANDSHAKING_CONNECTIONS). */
  maxHandshakes?: number;
  /** Handshakes in flight at once from one address (default MAX_HANDSHAKES_PER_ADDRESS). */
  maxHandshakesPerAddress?: number;
}

/** Parses the eight 16-bit groups of an IPv6 literal (zone index ignored); null when malformed. */
function ipv6Groups(host: string): number[] | null {
  const addr = host.split('%')[0];
  const halves = addr.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i];
      if (i === pieces.length - 1 && isIPv4(p)) {
        const [a, b, c, d] = p.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/**
 * The accounting key of a peer address: the IPv4 address itself, or the IPv6 /64 prefix written
 * as its first four groups plus "::/64". An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a
 * dual-stack socket reports) is its IPv4 address. Anything unparseable is its own key.
 */
export function addressKey(host: string): string {
  if (isIPv4(host)) return host;
  const g = ipv6Groups(host);
  if (!g) return host;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `${g[6] >> 8}.${g[6] & 0xff}.${g[7] >> 8}.${g[7] & 0xff}`;
  }
  const groups = ADDRESS_PREFIX_BITS_V6 / 16;
  return `${g.slice(0, groups).map((x) => x.toString(16)).join(':')}::/${ADDRESS_PREFIX_BITS_V6}`;
}

/** Handshakes in flight, per address and in total, and the admission rule over them. */
export class HandshakeAdmission {
  readonly retry: RetryMode;
  readonly maxHandshakes: number;
  readonly maxPerAddress: number;
  /** 'under-load' sends Retry from this many handshakes in flight on (scaled to maxHandshakes). */
  private readonly retryAbove: number;
  /** ... and to an address with this many of its own in flight. */
  private readonly retryAbovePerAddress: number;
  /** Handshakes in flight by address key; an entry exists only while its count is above 0. */
  private readonly byAddress = new Map<string, number>();
  private total = 0;

  constructor(options: AdmissionOptions = {}) {
    this.retry = options.retry ?? 'under-load';
    this.maxHandshakes = options.maxHandshakes ?? MAX_HANDSHAKING_CONNECTIONS;
    this.maxPerAddress = options.maxHandshakesPerAddress ?? MAX_HANDSHAKES_PER_ADDRESS;
    if (!RETRY_MODES.includes(this.retry)) throw new RangeError(`retry must be one of ${RETRY_MODES.join(', ')}`);
    if (!(this.maxHandshakes >= 1) || !(this.maxPerAddress >= 1)) throw new RangeError('handshake limits must be at least 1');
    // The thresholds keep their proportion to the caps when the caps are set by option, so Retry
    // always starts before the cap is reached.
    this.retryAbove = Math.max(1, Math.min(this.maxHandshakes, Math.floor(this.maxHandshakes * RETRY_ABOVE_HANDSHAKES / MAX_HANDSHAKING_CONNECTIONS)));
    this.retryAbovePerAddress = Math.min(this.maxPerAddress, RETRY_ABOVE_HANDSHAKES_PER_ADDRESS);
  }

  /** Handshakes in flight over all addresses. */
  get inFlight(): number {
    return this.total;
  }

  /** Handshakes in flight from the address with key `key`. */
  inFlightFrom(key: string): number {
    return this.byAddress.get(key) ?? 0;
  }

  /** Addresses with a handshake in flight (bounded by `inFlight`). */
  get addresses(): number {
    return this.byAddress.size;
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
      if (this.retry === 'under-load' && (this.total >= this.retryAbove || mine >= this.retryAbovePerAddress)) return 'retry';
    }
    if (this.total >= this.maxHandshakes) return 'handshake_limit';
    if (mine >= this.maxPerAddress) return 'address_handshake_limit';
    return 'accept';
  }

  /** A handshake from `key` started. */
  opened(key: string): void {
    this.byAddress.set(key, this.inFlightFrom(key) + 1);
    this.total++;
  }

  /** A handshake from `key` ended (completed, timed out or failed). Call once per `opened`. */
  released(key: string): void {
    const n = this.inFlightFrom(key);
    if (n <= 0) return;
    if (n === 1) this.byAddress.delete(key);
    else this.byAddress.set(key, n - 1);
    this.total--;
  }
}
