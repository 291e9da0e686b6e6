/**
 * The heartbeat both ends run over the unreliable channel (docs/protocol.md, `ping` / `pong`):
 * each side pings the other now and then, answers the other's pings at once, and turns the
 * pongs to its own pings into a smoothed round-trip time. This module is the ping table and the
 * RTT estimator, once for the server's sessions (server/session/player-session.ts) and the
 * client (client/net/game-client.ts). When to ping and when silence means a dead peer are each
 * side's policy and stay there.
 *
 * I/O-free: the clock is injected, nothing here sends; the caller encodes the ping body this
 * returns and hands the pongs it decodes back.
 */
import { U32_MAX } from './limits.js';

/** RFC 6298 §2.3 gains: srtt moves by 1/8 of the error, rttvar by 1/4. */
export const RTT_SRTT_GAIN = 1 / 8;
export const RTT_VAR_GAIN = 1 / 4;

/**
 * Round-trip time estimator with the smoothing of RFC 6298 §2 (as RFC 9002 §5.3 uses it): the
 * first sample sets srtt to it and rttvar to half of it; each later sample R moves
 * rttvar to (1 - 1/4) rttvar + 1/4 |srtt - R|, then srtt to (1 - 1/8) srtt + 1/8 R. One late
 * datagram therefore does not swing the figure. Also keeps the minimum and the latest sample.
 */
export class RttEstimator {
  private srtt: number | null = null;
  private rttvar = 0;
  private min = Number.POSITIVE_INFINITY;
  private latest: number | null = null;

  /**
   * Adds one sample in ms. A negative or non-finite one (a clock that went backwards, a bug)
   * says nothing about the path and is ignored: returns false.
   */
  addSample(rttMs: number): boolean {
    if (!Number.isFinite(rttMs) || rttMs < 0) return false;
    this.latest = rttMs;
    if (rttMs < this.min) this.min = rttMs;
    if (this.srtt === null) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
      return true;
    }
    this.rttvar = (1 - RTT_VAR_GAIN) * this.rttvar + RTT_VAR_GAIN * Math.abs(this.srtt - rttMs);
    this.srtt = (1 - RTT_SRTT_GAIN) * this.srtt + RTT_SRTT_GAIN * rttMs;
    return true;
  }

  /** Smoothed RTT in ms (srtt), or null before the first sample. */
  get smoothedMs(): number | null {
    return this.srtt;
  }

  /** RTT variation in ms (rttvar); 0 before the first sample. */
  get variationMs(): number {
    return this.rttvar;
  }

  /** Smallest sample so far, or null before the first. */
  get minMs(): number | null {
    return Number.isFinite(this.min) ? this.min : null;
  }

  /** The newest sample, or null before the first. */
  get latestMs(): number | null {
    return this.latest;
  }
}

/** A ping's body as `encodeMessage('ping', ...)` takes it (shared/messages.ts). */
export interface PingFields {
  id: number;
  t: number;
}

export interface HeartbeatOptions {
  /** The clock pings are timed with, in ms (the caller's injected clock). */
  now: () => number;
  /**
   * Pings awaiting their pong; past this the oldest is forgotten (a lost pong is normal on
   * datagrams, and a forgotten ping's late pong then counts as unknown). Each side names its
   * own limit from its ping rate.
   */
  maxOutstanding: number;
}

/**
 * The ping table: hands out ping bodies (ids 1, 2, ... wrapping to 1 after 2^32 - 1, as the
 * `id` field is a u32; `t` the clock in whole ms), remembers when each left, and turns a pong
 * into an RTT sample for `rtt`. Holds at most `maxOutstanding` pings.
 */
export class Heartbeat {
  readonly rtt = new RttEstimator();
  private readonly now: () => number;
  private readonly maxOutstanding: number;
  /** Ping id -> send time; insertion order is age order. Bounded by maxOutstanding. */
  private readonly pending = new Map<number, number>();
  private lastId = 0;

  constructor(options: HeartbeatOptions) {
    if (!Number.isInteger(options.maxOutstanding) || options.maxOutstanding < 1) {
      throw new RangeError('maxOutstanding must be a positive integer');
    }
    this.now = options.now;
    this.maxOutstanding = options.maxOutstanding;
  }

  /** The body of the next ping to send; it is now awaited. */
  nextPing(): PingFields {
    const now = this.now();
    this.lastId = this.lastId >= U32_MAX ? 1 : this.lastId + 1;
    this.pending.delete(this.lastId); // an id 2^32 pings old, should one still be held
    this.pending.set(this.lastId, now);
    if (this.pending.size > this.maxOutstanding) this.pending.delete(this.pending.keys().next().value!);
    return { id: this.lastId, t: Math.floor(now) };
  }

  /**
   * A pong arrived. Returns the RTT sample it gave in ms (already fed to `rtt`); 'unknown' when
   * no ping with its id is awaited (never sent, a duplicate, or forgotten), which the caller
   * counts; 'ignored' when the ping was awaited but the clock gave an unusable sample (it went
   * backwards), which consumes the ping and changes nothing.
   */
  onPong(pong: { id: number }): number | 'unknown' | 'ignored' {
    const sentAt = this.pending.get(pong.id);
    if (sentAt === undefined) return 'unknown';
    this.pending.delete(pong.id);
    const sample = this.now() - sentAt;
    return this.rtt.addSample(sample) ? sample : 'ignored';
  }

  /** Forgets the awaited pings (a new connection: the old one's pongs will not come). Keeps the RTT. */
  forgetPending(): void {
    this.pending.clear();
  }

  /** Pings awaiting their pong. */
  get outstanding(): number {
    return this.pending.size;
  }
}
