/**
 * Address-validation tokens for stateless Retry (RFC 9000 §8.1.2, §17.2.5): the server answers a
 * tokenless Initial with a Retry carrying a token; a client that really is at its source address
 * receives it and repeats its Initial with the token, which proves the address without the
 * server keeping any state in between.
 *
 * Format (all ours: §8.1.4 leaves it to the server that both mints and checks it):
 *
 *   0      tag 0x54 (this format; anything else is not one of our Retry tokens)
 *   1..6   issue time, milliseconds (48-bit big-endian, the endpoint's clock)
 *   7      length of the original destination connection id (8..20)
 *   8..    the original destination connection id (ODCID): what quiche must echo in the
 *          original_destination_connection_id transport parameter (§7.3)
 *   last 16 MAC: HMAC-SHA-256 truncated to 128 bits, keyed with a random per-endpoint key, over
 *          everything above plus the connection id the Retry told the client to use next (the
 *          DCID of the Initial that carries the token) and the client's IP address
 *
 * The token is authenticated, not encrypted: it holds nothing the client did not choose itself.
 * It is bound to the client's IP address but not its port, so a NAT that rebinds the port between
 * the Retry and the answer does not lock a client out; per-address accounting (admission.ts) is by
 * IP as well, so a port buys an attacker nothing there. It is valid for RETRY_TOKEN_LIFETIME_MS
 * (§8.1.4: Retry tokens are returned at once, so accept them only briefly). Binding the next DCID
 * means a captured token opens at most the one connection it was minted for.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { RETRY_TOKEN_LIFETIME_MS } from './limits.js';

/** First byte of our Retry tokens. */
const TOKEN_TAG = 0x54;
const TIME_BYTES = 6;
const MAC_BYTES = 16;
/** Connection id lengths a client's first DCID may have (RFC 9000 §7.2, §17.2). */
const MIN_ODCID = 8;
const MAX_ODCID = 20;
/** A token issued this far in the future (clock step) is still accepted. */
const CLOCK_SKEW_MS = 1_000;

/** What a received token is worth. */
export type RetryTokenCheck =
  /** Minted by this endpoint for this address and connection id, and fresh: the address is validated. */
  | { kind: 'valid'; odcid: Uint8Array }
  /** Our format, but forged, for another address or id, or expired: drop the Initial and count it. */
  | { kind: 'invalid' }
  /** Not our format (e.g. a NEW_TOKEN token of another server): treat the Initial as tokenless (§8.1.3). */
  | { kind: 'foreign' };

export interface RetryTokenOptions {
  /** MAC key; random per endpoint by default (tokens live seconds, so no restart needs them). */
  key?: Uint8Array;
  /** Clock in milliseconds; Date.now by default. */
  now?: () => number;
  lifetimeMs?: number;
}

export class RetryTokens {
  private readonly key: Uint8Array;
  private readonly now: () => number;
  private readonly lifetimeMs: number;

  constructor(options: RetryTokenOptions = {}) {
    this.key = options.key ?? randomBytes(32);
    this.now = options.now ?? Date.now;
    this.lifetimeMs = options.lifetimeMs ?? RETRY_TOKEN_LIFETIME_MS;
  }

  /**
   * A token for a Retry answering an Initial to `odcid` from `ip`, which tells the client to use
   * `retryScid` as its next destination connection id.
   */
  mint(odcid: Uint8Array, retryScid: Uint8Array, ip: string): Uint8Array {
    const body = Buffer.alloc(2 + TIME_BYTES + odcid.length);
    body[0] = TOKEN_TAG;
    body.writeUIntBE(Math.max(0, Math.floor(this.now())) % 2 ** 48, 1, TIME_BYTES);
    body[1 + TIME_BYTES] = odcid.length;
    body.set(odcid, 2 + TIME_BYTES);
    return Buffer.concat([body, this.mac(body, retryScid, ip)]);
  }

  /** Checks a token found in an Initial sent to `dcid` from `ip`. Never throws. */
  check(token: Uint8Array, dcid: Uint8Array, ip: string): RetryTokenCheck {
    if (token.length === 0 || token[0] !== TOKEN_TAG) return { kind: 'foreign' };
    const odcidLen = token.length > 1 + TIME_BYTES ? token[1 + TIME_BYTES] : -1;
    if (odcidLen < MIN_ODCID || odcidLen > MAX_ODCID || token.length !== 2 + TIME_BYTES + odcidLen + MAC_BYTES) return { kind: 'invalid' };
    const body = token.subarray(0, token.length - MAC_BYTES);
    const expected = this.mac(body, dcid, ip);
    if (!timingSafeEqual(expected, token.subarray(token.length - MAC_BYTES))) return { kind: 'invalid' };
    const issued = Buffer.from(body.buffer, body.byteOffset, body.byteLength).readUIntBE(1, TIME_BYTES);
    const age = this.now() - issued;
    if (age > this.lifetimeMs || age < -CLOCK_SKEW_MS) return { kind: 'invalid' };
    return { kind: 'valid', odcid: new Uint8Array(body.subarray(2 + TIME_BYTES)) };
  }

  private mac(body: Uint8Array, retryScid: Uint8Array, ip: string): Buffer {
    const h = createHmac('sha256', this.key);
    h.update(body);
    h.update(Uint8Array.of(retryScid.length));
    h.update(retryScid);
    h.update(ip, 'latin1');
    return h.digest().subarray(0, MAC_BYTES);
  }
}
