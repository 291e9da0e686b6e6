/**
 * Stateless reset (RFC 9000 §10.3): when a short-header packet arrives for a connection id this
 * endpoint no longer knows (it restarted, or dropped the connection), it answers with a packet
 * that ends in the stateless reset token of that connection id; the peer, which got the token in
 * the handshake, ends the connection at once instead of waiting for its idle timeout.
 *
 * Tokens are derived, never stored (§10.3.2): HMAC-SHA-256 of the connection id under a static
 * key, truncated to 16 bytes. With the same key (option `statelessResetKey`), a restarted server
 * resets the connections of the process before it; without one, the key is random per endpoint
 * and resets only help with connections this endpoint forgot.
 *
 * Only the server role issues tokens: quiche puts the server's in its transport parameters for
 * the connection id chosen in the handshake (§18.2 stateless_reset_token), and we never issue
 * further ids (no NEW_CONNECTION_ID), so that one id and token are all a client ever holds.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { MAX_STATELESS_RESET_BYTES, MIN_STATELESS_RESET_BYTES, STATELESS_RESETS_PER_SECOND } from './limits.js';

const TOKEN_BYTES = 16;
/** Smallest static key accepted: the token must be hard to guess (§10.3.2). */
export const MIN_STATELESS_RESET_KEY_BYTES = 16;

/** Why no reset was sent. */
export type StatelessResetRefusal = 'too_small' | 'rate_limited';

export interface StatelessResetOptions {
  /** Static key (at least 16 bytes); random per instance when absent. */
  key?: Uint8Array;
  /** Clock in milliseconds for the rate limit; performance.now by default. */
  now?: () => number;
  /** Token-bucket rate (and depth) of resets per second. */
  perSecond?: number;
}

export class StatelessResets {
  private readonly key: Uint8Array;
  private readonly now: () => number;
  private readonly perSecond: number;
  private tokens: number;
  private lastRefill: number;

  constructor(options: StatelessResetOptions = {}) {
    if (options.key && options.key.length < MIN_STATELESS_RESET_KEY_BYTES) {
      throw new RangeError(`statelessResetKey must have at least ${MIN_STATELESS_RESET_KEY_BYTES} bytes`);
    }
    this.key = options.key ?? randomBytes(32);
    this.now = options.now ?? (() => performance.now());
    this.perSecond = options.perSecond ?? STATELESS_RESETS_PER_SECOND;
    this.tokens = this.perSecond;
    this.lastRefill = this.now();
  }

  /** The 16-byte stateless reset token of connection id `cid`. */
  token(cid: Uint8Array): Buffer {
    return createHmac('sha256', this.key).update(cid).digest().subarray(0, TOKEN_BYTES);
  }

  /** The token as the unsigned 128-bit integer quiche's `Config.setStatelessResetToken` takes. */
  tokenValue(cid: Uint8Array): bigint {
    // quiche writes the u128 big-endian into the transport parameter (to_be_bytes).
    return BigInt(`0x${this.token(cid).toString('hex')}`);
  }

  /**
   * The stateless reset answering `trigger`, a short-header packet whose destination connection
   * id `cid` no connection owns; or why none may be sent:
   * - 'too_small': the answer must be smaller than the trigger (§10.3.3, so two endpoints that
   *   both lost state cannot loop) and at least MIN_STATELESS_RESET_BYTES (§10.3);
   * - 'rate_limited': past STATELESS_RESETS_PER_SECOND.
   */
  answer(trigger: Uint8Array, cid: Uint8Array): Uint8Array | StatelessResetRefusal {
    // §10.3: one byte shorter than a trigger of up to 43 bytes; beyond, any size below it.
    const size = Math.min(trigger.length - 1, MAX_STATELESS_RESET_BYTES);
    if (size < MIN_STATELESS_RESET_BYTES) return 'too_small';
    if (!this.take()) return 'rate_limited';
    const out = randomBytes(size);
    // Short header form (§17.3): header form 0, fixed bit 1; the other six bits stay random.
    out[0] = (out[0] & 0x3f) | 0x40;
    out.set(this.token(cid), size - TOKEN_BYTES);
    return out;
  }

  private take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.lastRefill) * this.perSecond) / 1000);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

