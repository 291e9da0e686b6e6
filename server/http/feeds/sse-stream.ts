/**
 * One Server-Sent Events response, written straight on Node's `ServerResponse` (fastify's
 * `reply.raw` after `reply.hijack()`; docs/server.md says why no plugin). The send buffer is
 * bounded: a write that would leave more than `sendBufferBytes` waiting in Node for a client
 * that does not read drops that client (its TCP connection is destroyed) instead of queueing.
 *
 * The one exception is a stream's own burst (`writeBurst`: a chat catch-up of at most
 * CHAT_FEED_REPLAY_LIMIT lines, the full room list), written in one go before the client could
 * read any of it: its bytes are allowed on top of the limit until the buffer has drained below
 * the limit once. So the bound is `sendBufferBytes` plus one burst, and a healthy client that
 * resumes far behind is not mistaken for a slow one.
 */
import type { ServerResponse } from 'node:http';
import { formatSseComment, formatSseEvent, type SseEvent } from './sse-format.js';

export interface SseStreamOptions {
  sendBufferBytes: number;
  now: () => number;
  /** The client fell behind by more than `sendBufferBytes` and was dropped. */
  onSlowConsumer: () => void;
}

/** Response headers of every stream. */
const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  // Each stream is live data for one client: no cache may keep or share it.
  'cache-control': 'no-store',
  // nginx buffers proxied responses unless told not to, which would hold events back.
  'x-accel-buffering': 'no',
} as const;

export class SseStream {
  /** Set once the response ended or the connection went away; nothing is written after. */
  closed = false;
  /** Scheduler time of the newest write (for the heartbeat). */
  lastWriteAt: number;
  /** Most bytes seen waiting in Node for this client after a write (tests read it). */
  maxBuffered = 0;
  private readonly closeHandlers: Array<() => void> = [];
  /** Bytes of the last burst still allowed above the limit (0 once the buffer drained below it). */
  private allowance = 0;

  constructor(private readonly res: ServerResponse, private readonly options: SseStreamOptions) {
    this.lastWriteAt = options.now();
    res.on('close', () => this.markClosed());
    // A reset from the client surfaces as an error on the response; it ends the stream like a close.
    res.on('error', () => this.markClosed());
  }

  /** Writes the 200 head and the first `retry:` (jittered by the caller). */
  open(retryMs: number): void {
    this.res.writeHead(200, SSE_HEADERS);
    // Small events must not wait for Nagle's algorithm.
    this.res.socket?.setNoDelay(true);
    this.write(formatSseEvent({ retry: retryMs }));
  }

  /** Registers `fn` to run once when the stream ends for any reason. */
  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closeHandlers.push(fn);
  }

  event(e: SseEvent): boolean {
    return this.write(formatSseEvent(e));
  }

  /**
   * Writes pre-formatted bytes (one buffer may go to many streams). False when the stream is
   * closed or was just dropped as a slow consumer.
   */
  write(chunk: string | Buffer): boolean {
    // The last burst has drained below the limit: from now on the limit alone applies.
    if (this.allowance > 0 && this.res.writableLength <= this.options.sendBufferBytes) this.allowance = 0;
    return this.put(chunk);
  }

  private put(chunk: string | Buffer): boolean {
    if (this.closed) return false;
    const size = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    const buffered = this.res.writableLength;
    if (buffered + size > this.options.sendBufferBytes + this.allowance) {
      this.options.onSlowConsumer();
      this.destroy();
      return false;
    }
    this.res.write(chunk);
    this.lastWriteAt = this.options.now();
    const after = this.res.writableLength;
    if (after > this.maxBuffered) this.maxBuffered = after;
    return true;
  }

  /** Writes `chunks` in one go, allowed above the limit (see the top of this file). */
  writeBurst(chunks: ReadonlyArray<string | Buffer>): boolean {
    let total = 0;
    for (const c of chunks) total += typeof c === 'string' ? Buffer.byteLength(c) : c.length;
    this.allowance = Math.max(this.allowance, total);
    for (const c of chunks) if (!this.put(c)) return false;
    return true;
  }

  /** A comment line when nothing was written for `idleMs`. */
  heartbeat(idleMs: number): void {
    if (this.options.now() - this.lastWriteAt >= idleMs) this.write(formatSseComment('keep-alive'));
  }

  /** Ends the response after a last event (e.g. the drain notice with its `retry:`). */
  end(last?: SseEvent): void {
    if (this.closed) return;
    if (last) this.write(formatSseEvent(last));
    if (this.closed) return;
    this.res.end();
    this.markClosed();
  }

  /** Cuts the connection without a clean end (the slow consumer). */
  destroy(): void {
    if (this.closed) return;
    this.markClosed();
    this.res.destroy();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fn of this.closeHandlers.splice(0)) {
      try {
        fn();
      } catch {
        // A close handler is bookkeeping; one failing must not keep the others from running.
      }
    }
  }
}
