/**
 * The limits of the read-only feeds (docs/server.md "Read-only feeds") and the admission that
 * applies the two connection caps: every open SSE stream and every waiting long poll holds one
 * slot of its client address and one of the server.
 */

/** Streams and waiting long polls one client address may hold at once; more get 429. */
export const FEED_MAX_STREAMS_PER_ADDRESS = 32;
/** Streams and waiting long polls of the whole server; more get 503. */
export const FEED_MAX_STREAMS = 10_000;
/**
 * Bytes an SSE stream may have waiting in Node for a client that does not read (what the kernel's
 * socket buffer already took is not counted). Past it the client is dropped and counted: it can
 * reconnect with Last-Event-ID and loses nothing, while the server keeps no growing queue. 64 KiB
 * is hundreds of chat lines, far behind any client that is still reading.
 */
export const SSE_SEND_BUFFER_LIMIT_BYTES = 64 * 1024;
/** A stream with nothing written for this long gets a comment line (proxies close idle connections after 30-60 s). */
export const SSE_HEARTBEAT_MS = 15_000;
/** `retry:` sent on every stream: this plus a random share of SSE_RETRY_JITTER_MS, so a server restart does not bring every client back in the same millisecond. */
export const SSE_RETRY_BASE_MS = 1_000;
export const SSE_RETRY_JITTER_MS = 4_000;
/** Longest `wait` a long poll may ask for, in seconds; more is refused with 400. */
export const LONG_POLL_MAX_WAIT_S = 30;
/** The room list's change events go out at most this often (at most four a second), each holding every change since the last. */
export const ROOMS_STREAM_MIN_INTERVAL_MS = 250;
/** The status stream's period. */
export const STATUS_STREAM_INTERVAL_MS = 1_000;
/** Chat lines a reader gets when it names no position (the newest ones), as a joining player does. */
export const CHAT_FEED_INITIAL_LINES = 50;
/** Chat lines one catch-up or one long-poll answer carries at most (the history ring's size). */
export const CHAT_FEED_REPLAY_LIMIT = 200;

export interface FeedLimits {
  maxStreamsPerAddress: number;
  maxStreams: number;
  sendBufferBytes: number;
  heartbeatMs: number;
  retryBaseMs: number;
  retryJitterMs: number;
  longPollMaxWaitS: number;
  roomsMinIntervalMs: number;
  statusIntervalMs: number;
}

export const DEFAULT_FEED_LIMITS: Readonly<FeedLimits> = Object.freeze({
  maxStreamsPerAddress: FEED_MAX_STREAMS_PER_ADDRESS,
  maxStreams: FEED_MAX_STREAMS,
  sendBufferBytes: SSE_SEND_BUFFER_LIMIT_BYTES,
  heartbeatMs: SSE_HEARTBEAT_MS,
  retryBaseMs: SSE_RETRY_BASE_MS,
  retryJitterMs: SSE_RETRY_JITTER_MS,
  longPollMaxWaitS: LONG_POLL_MAX_WAIT_S,
  roomsMinIntervalMs: ROOMS_STREAM_MIN_INTERVAL_MS,
  statusIntervalMs: STATUS_STREAM_INTERVAL_MS,
});

/** The defaults with `partial` on top; throws RangeError on a value that is not a positive number. */
export function resolveFeedLimits(partial: Partial<FeedLimits> = {}): FeedLimits {
  const limits = { ...DEFAULT_FEED_LIMITS, ...partial };
  for (const [key, value] of Object.entries(limits)) {
    const zeroOk = key === 'retryJitterMs';
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (value === 0 && !zeroOk)) {
      throw new RangeError(`feeds.${key} must be a positive number, got ${String(value)}`);
    }
  }
  return limits;
}

export type AdmitResult =
  | { ok: true; release: () => void }
  | { ok: false; status: 429 | 503; reason: 'too_many_streams_address' | 'too_many_streams' };

/** Counts slots per client address and in total; a slot is released exactly once. */
export class FeedAdmission {
  private readonly byAddress = new Map<string, number>();
  private total = 0;

  constructor(private readonly limits: Pick<FeedLimits, 'maxStreamsPerAddress' | 'maxStreams'>) {}

  get open(): number {
    return this.total;
  }

  /** Slots held by `address` now. */
  heldBy(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }

  admit(address: string): AdmitResult {
    const held = this.byAddress.get(address) ?? 0;
    if (held >= this.limits.maxStreamsPerAddress) return { ok: false, status: 429, reason: 'too_many_streams_address' };
    if (this.total >= this.limits.maxStreams) return { ok: false, status: 503, reason: 'too_many_streams' };
    this.byAddress.set(address, held + 1);
    this.total++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        const n = (this.byAddress.get(address) ?? 1) - 1;
        if (n <= 0) this.byAddress.delete(address);
        else this.byAddress.set(address, n);
      },
    };
  }
}
