/**
 * The read-only feeds of one server: the room list, each room's chat, the status, as SSE
 * streams and long polls over the three data sources of server/feeds/types.ts. It owns every
 * open stream and waiting poll: admission (per address and in total), heartbeats, the jittered
 * `retry:`, drain and shutdown. The fastify plugin (plugin.ts) only parses and routes.
 *
 * Size: about 420 lines, just over the ~400 of the guide: every stream and poll it opens is
 * counted against the same per-address and global limits and closed by the same drain, so the
 * three feeds share one book of open connections here.
 */
import type { ServerResponse } from 'node:http';
import { Counter, Gauge } from 'prom-client';
import type { Scheduler, Timer } from '../../clock.js';
import type { GameMetrics } from '../../metrics.js';
import type { ChatSource, RoomChange, RoomListSource, StatusSource } from '../../feeds/types.js';
import { ChatRoomFeed, type CatchUp, type ChatListener, type ChatRoomFeedStats, type ChatStart, type HistoryLost } from './chat-feed.js';
import { FeedAdmission, resolveFeedLimits, type FeedLimits } from './limits.js';
import { RoomsFeed } from './rooms-feed.js';
import { formatSseEvent } from './sse-format.js';
import { SseStream } from './sse-stream.js';

export interface FeedServiceOptions {
  directory: RoomListSource;
  chat: ChatSource;
  status: StatusSource;
  metrics: GameMetrics;
  scheduler: Scheduler;
  limits?: Partial<FeedLimits>;
  /** Random numbers in [0, 1) for the retry jitter (injected so tests can pin it). */
  random?: () => number;
}

/** An answer that is not a stream: status, JSON body, extra headers. */
export interface HttpAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** How the plugin hands a request over for streaming: take the raw response from fastify. */
export type TakeResponse = () => ServerResponse;

export type FeedKind = 'rooms' | 'chat' | 'status' | 'poll';
const FEED_KINDS: readonly FeedKind[] = ['rooms', 'chat', 'status', 'poll'];

/** Something open that drain and shutdown must end: a stream or a waiting poll. */
interface OpenFeed {
  kind: FeedKind;
  /** Ends it with a retry hint (the drain notice). */
  end(retryMs: number): void;
}

/** What a long poll answers (200). */
export interface ChatPollAnswer {
  roomId: string;
  /** Lines after the position asked for, oldest first. */
  lines: Array<{ id: number; entityId: number; name: string; text: string; t: number }>;
  /** Pass this as `after` next time. */
  lastId: number;
  /** Set when lines after the position asked for are gone (the same notice as the SSE `history-lost` event). */
  historyLost: HistoryLost | null;
  /** True when the room closed: no more lines will come. */
  closed: boolean;
}

export class FeedService {
  readonly limits: FeedLimits;
  readonly admission: FeedAdmission;
  readonly chatStats: ChatRoomFeedStats = { delivered: 0, duplicates: 0, reads: 0 };
  /** Streams dropped because they fell more than `sendBufferBytes` behind. */
  slowConsumers = 0;
  /** Most bytes any closed stream ever had waiting in Node (see peakBufferedBytes()). */
  private closedPeakBuffered = 0;
  private readonly chatFeeds = new Map<string, ChatRoomFeed>();
  private readonly rooms: RoomsFeed;
  private readonly open = new Set<OpenFeed>();
  private readonly statusStreams = new Set<SseStream>();
  private readonly random: () => number;
  private readonly scheduler: Scheduler;
  private draining = false;
  private stopped = false;
  private unsubscribeDirectory: (() => void) | null = null;
  private heartbeatTimer: Timer | null = null;
  private statusTimer: Timer | null = null;
  /** Every SSE stream, for the heartbeat. */
  private readonly streams = new Set<SseStream>();

  constructor(private readonly options: FeedServiceOptions) {
    this.limits = resolveFeedLimits(options.limits);
    this.admission = new FeedAdmission(this.limits);
    this.random = options.random ?? Math.random;
    this.scheduler = options.scheduler;
    this.rooms = new RoomsFeed(options.scheduler, this.limits.roomsMinIntervalMs);
    this.registerMetrics(options.metrics);
  }

  /** Open streams and waiting polls. */
  get openCount(): number {
    return this.open.size;
  }

  get isDraining(): boolean {
    return this.draining || this.stopped;
  }

  /** Open feeds by kind. */
  counts(): Record<FeedKind, number> {
    const c: Record<FeedKind, number> = { rooms: 0, chat: 0, status: 0, poll: 0 };
    for (const f of this.open) c[f.kind]++;
    return c;
  }

  /** Most bytes any stream, open or closed, had waiting in Node after a write: at most `sendBufferBytes` plus one burst. */
  peakBufferedBytes(): number {
    let peak = this.closedPeakBuffered;
    for (const s of this.streams) if (s.maxBuffered > peak) peak = s.maxBuffered;
    return peak;
  }

  /** The `retry:` a stream gets: the base plus a random share of the jitter. */
  retryMs(jitterMs = this.limits.retryJitterMs): number {
    return Math.round(this.limits.retryBaseMs + this.random() * jitterMs);
  }

  /** Counts a refusal and builds its answer: a JSON error with the reason, Retry-After where retrying helps. */
  refuse(status: number, reason: string, message: string, retryMs?: number): HttpAnswer {
    this.options.metrics.refuse('http', reason);
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    if (retryMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(retryMs / 1000)));
    return { status, body: { error: message, reason }, headers };
  }

  // --- JSON ---------------------------------------------------------------------------------

  async roomsJson(): Promise<HttpAnswer> {
    try {
      return { status: 200, body: { rooms: await this.options.directory.list() }, headers: { 'cache-control': 'no-store' } };
    } catch {
      // The directory failed (in cluster mode: Redis away).
      return this.unavailable('the room list');
    }
  }

  async statusJson(): Promise<HttpAnswer> {
    try {
      return { status: 200, body: await this.options.status.status(), headers: { 'cache-control': 'no-store' } };
    } catch {
      return this.unavailable('status');
    }
  }

  /** 503 with Retry-After, counted as `feed_unavailable`: a source failed (in cluster mode: Redis away). */
  unavailable(what: string): HttpAnswer {
    return this.refuse(503, 'feed_unavailable', `${what} is unavailable; retry after Retry-After`, this.retryMs());
  }

  // --- streams ------------------------------------------------------------------------------

  /** `GET /api/rooms/stream`: the full list, then coalesced changes. */
  async roomsStream(address: string, take: TakeResponse): Promise<HttpAnswer | null> {
    const slot = this.admit(address);
    if ('status' in slot) return slot;
    this.watchDirectory();
    let rooms;
    try {
      rooms = await this.options.directory.list();
    } catch {
      // The directory failed (in cluster mode: Redis away): a clear 503 before any stream starts.
      slot.release();
      this.releaseDirectoryIfIdle();
      return this.unavailable('the room list');
    }
    if (this.isDraining) {
      slot.release();
      this.releaseDirectoryIfIdle();
      return this.drainingAnswer();
    }
    this.rooms.attach(this.startStream('rooms', take(), slot.release), rooms);
    return null;
  }

  /** `GET /api/status/stream`: the status now, then once every `statusIntervalMs`. */
  async statusStream(address: string, take: TakeResponse): Promise<HttpAnswer | null> {
    const slot = this.admit(address);
    if ('status' in slot) return slot;
    let status;
    try {
      status = await this.options.status.status();
    } catch {
      slot.release();
      return this.unavailable('status');
    }
    if (this.isDraining) {
      slot.release();
      return this.drainingAnswer();
    }
    const stream = this.startStream('status', take(), slot.release);
    stream.event({ event: 'status', data: status });
    this.statusStreams.add(stream);
    stream.onClose(() => this.statusStreams.delete(stream));
    this.scheduleStatus();
    return null;
  }

  /**
   * `GET /api/rooms/:id/chat/stream`: the lines after `start` (with `history-lost` first when some
   * are gone), a `ready` event carrying the position, then every new line as it comes, `id:` =
   * chat id, so a reconnecting EventSource names where it was.
   */
  async chatStream(roomId: string, start: ChatStart, address: string, take: TakeResponse): Promise<HttpAnswer | null> {
    const slot = this.admit(address);
    if ('status' in slot) return slot;
    const feed = this.chatFeed(roomId);
    const up = await feed.catchUp(start);
    if (this.isDraining) {
      slot.release();
      return this.drainingAnswer();
    }
    if (up.kind !== 'ok') {
      slot.release();
      return this.catchUpRefusal(up, start);
    }
    // From here to follow() everything is synchronous: no live line can fall in between.
    const stream = this.startStream('chat', take(), slot.release);
    const burst: Array<string | Buffer> = up.lost ? [formatSseEvent({ event: 'history-lost', data: up.lost })] : [];
    for (const line of up.lines) burst.push(line.sse);
    if (!stream.writeBurst(burst)) return null;
    const listener: ChatListener = {
      last: up.last,
      line: (line) => { stream.write(line.sse); },
      lost: (info) => { stream.event({ event: 'history-lost', data: info }); },
      closed: () => stream.end({ event: 'closed', data: { roomId } }),
    };
    // The position, as an id, so that a reader that got no line yet still resumes from here.
    stream.event({ event: 'ready', id: up.last, data: { roomId, lastId: up.last } });
    if (stream.closed) return null;
    feed.follow(listener);
    stream.onClose(() => feed.unfollow(listener));
    return null;
  }

  /**
   * `GET /api/rooms/:id/chat?after=&wait=`: the same lines and notices as the stream. With lines
   * to give (or `waitMs` 0) it answers at once; otherwise it waits for the next line, at most
   * `waitMs`, and answers with no lines when none came.
   */
  async chatPoll(roomId: string, start: ChatStart, waitMs: number, address: string): Promise<HttpAnswer> {
    if (this.isDraining) return this.drainingAnswer();
    const slot = this.admit(address);
    if ('status' in slot) return slot;
    try {
      const feed = this.chatFeed(roomId);
      const up = await feed.catchUp(start);
      if (this.isDraining) return this.drainingAnswer();
      if (up.kind !== 'ok') return this.catchUpRefusal(up, start);
      const answer = (lines: typeof up.lines, lost: HistoryLost | null, last: number, closed: boolean): HttpAnswer => ({
        status: 200,
        headers: { 'cache-control': 'no-store' },
        body: {
          roomId, lines: lines.map((l) => ({ ...l.message })), lastId: last, historyLost: lost, closed,
        } satisfies ChatPollAnswer,
      });
      if (up.lines.length > 0 || up.lost || waitMs === 0) return answer(up.lines, up.lost, up.last, false);
      return await new Promise<HttpAnswer>((resolve) => {
        let done = false;
        const finish = (a: HttpAnswer) => {
          if (done) return;
          done = true;
          timer.cancel();
          feed.unfollow(listener);
          this.open.delete(entry);
          resolve(a);
        };
        // The first line (or notice) answers; lines that come later wait for the next poll.
        const listener: ChatListener = {
          last: up.last,
          line: (line) => finish(answer([line], null, line.message.id, false)),
          lost: (info) => { listener.last = (info.resumeFrom ?? listener.last + 1) - 1; finish(answer([], info, listener.last, false)); },
          closed: () => finish(answer([], null, up.last, true)),
        };
        const entry: OpenFeed = { kind: 'poll', end: (retryMs) => finish(this.drainingAnswer(retryMs)) };
        const timer = this.scheduler.after(waitMs, () => finish(answer([], null, up.last, false)));
        this.open.add(entry);
        feed.follow(listener);
      });
    } finally {
      slot.release();
    }
  }

  // --- drain and shutdown -------------------------------------------------------------------

  /**
   * Refuses new streams and polls (503 with Retry-After) and ends every open one with a `drain`
   * event whose `retry:` spreads the reconnects over `reconnectJitterMs`; waiting polls get 503.
   */
  drain(reconnectJitterMs = this.limits.retryJitterMs): void {
    this.draining = true;
    for (const f of [...this.open]) f.end(this.retryMs(reconnectJitterMs));
  }

  /** Drain (if not done) and stop every timer and subscription. Idempotent. */
  close(): void {
    if (!this.draining) this.drain();
    this.stopped = true;
    this.heartbeatTimer?.cancel();
    this.heartbeatTimer = null;
    this.statusTimer?.cancel();
    this.statusTimer = null;
    this.rooms.stop();
    this.unsubscribeDirectory?.();
    this.unsubscribeDirectory = null;
    for (const feed of [...this.chatFeeds.values()]) feed.close();
  }

  // --- internals ----------------------------------------------------------------------------

  private admit(address: string): { release: () => void } | HttpAnswer {
    if (this.isDraining) return this.drainingAnswer();
    const r = this.admission.admit(address);
    if (r.ok) return r;
    const message = r.reason === 'too_many_streams_address'
      ? `at most ${this.limits.maxStreamsPerAddress} streams per client address`
      : 'the server holds as many streams as it may';
    return this.refuse(r.status, `feed_${r.reason}`, message, this.retryMs());
  }

  private drainingAnswer(retryMs = this.retryMs()): HttpAnswer {
    return this.refuse(503, 'feed_draining', 'the server is restarting; retry after Retry-After', retryMs);
  }

  private catchUpRefusal(up: Exclude<CatchUp, { kind: 'ok' }>, start: ChatStart): HttpAnswer {
    switch (up.kind) {
      case 'unknown':
        return this.refuse(404, 'feed_unknown_room', 'no such room is open');
      case 'future':
        return this.refuse(409, 'feed_future_chat_id',
          `chat id ${start.kind === 'after' ? start.id : '?'} is ahead of the room's newest (${up.top}): the history was reset; start again without an id`);
      case 'unavailable':
        return this.unavailable('chat history');
    }
  }

  private startStream(kind: FeedKind, res: ServerResponse, release: () => void): SseStream {
    const stream = new SseStream(res, {
      sendBufferBytes: this.limits.sendBufferBytes,
      now: () => this.scheduler.now(),
      onSlowConsumer: () => {
        this.slowConsumers++;
        this.options.metrics.refuse('http', 'feed_slow_consumer');
      },
    });
    const entry: OpenFeed = { kind, end: (retryMs) => stream.end({ event: 'drain', retry: retryMs, data: { retryMs } }) };
    this.open.add(entry);
    this.streams.add(stream);
    stream.onClose(() => {
      this.open.delete(entry);
      this.streams.delete(stream);
      if (stream.maxBuffered > this.closedPeakBuffered) this.closedPeakBuffered = stream.maxBuffered;
      release();
      this.releaseDirectoryIfIdle();
    });
    stream.open(this.retryMs());
    this.scheduleHeartbeat();
    return stream;
  }

  /** The room's chat feed, created on first use; it removes itself when it closes. */
  private chatFeed(roomId: string): ChatRoomFeed {
    const existing = this.chatFeeds.get(roomId);
    if (existing && !existing.closed) return existing;
    const feed = new ChatRoomFeed(roomId, this.options.chat, this.scheduler, this.chatStats, (f) => {
      if (this.chatFeeds.get(roomId) === f) this.chatFeeds.delete(roomId);
      this.releaseDirectoryIfIdle();
    });
    if (!feed.closed) {
      this.chatFeeds.set(roomId, feed);
      this.watchDirectory();
    }
    return feed;
  }

  /** The directory is followed while a room list stream or a chat feed exists (a closed room ends its chat feed). */
  private watchDirectory(): void {
    if (this.unsubscribeDirectory || this.stopped) return;
    this.unsubscribeDirectory = this.options.directory.subscribe((changes) => this.onRoomChanges(changes));
  }

  private releaseDirectoryIfIdle(): void {
    if (!this.unsubscribeDirectory || this.rooms.size > 0 || this.chatFeeds.size > 0) return;
    this.unsubscribeDirectory();
    this.unsubscribeDirectory = null;
  }

  private onRoomChanges(changes: RoomChange[]): void {
    this.rooms.onChanges(changes);
    for (const c of changes) if (c.kind === 'removed') this.chatFeeds.get(c.id)?.close();
  }

  private scheduleHeartbeat(): void {
    if (this.heartbeatTimer || this.stopped) return;
    // Half the period: a stream idle since just after one sweep still gets its beat within heartbeatMs * 1.5.
    this.heartbeatTimer = this.scheduler.after(this.limits.heartbeatMs / 2, () => {
      this.heartbeatTimer = null;
      for (const s of this.streams) s.heartbeat(this.limits.heartbeatMs);
      if (this.streams.size > 0) this.scheduleHeartbeat();
    });
  }

  private scheduleStatus(): void {
    if (this.statusTimer || this.stopped) return;
    this.statusTimer = this.scheduler.after(this.limits.statusIntervalMs, () => {
      this.statusTimer = null;
      if (this.statusStreams.size === 0) return;
      void this.options.status.status().then((status) => {
        const bytes = Buffer.from(formatSseEvent({ event: 'status', data: status }));
        for (const s of this.statusStreams) s.write(bytes);
      }, () => {
        // A status source that fails (Redis away) skips one beat; the next may work.
      }).finally(() => {
        if (this.statusStreams.size > 0) this.scheduleStatus();
      });
    });
  }

  private registerMetrics(metrics: GameMetrics): void {
    const service = this;
    new Gauge({
      name: 'tickwire_feed_streams',
      help: 'Open read-only feed streams (SSE) and waiting long polls, by kind',
      labelNames: ['kind'],
      registers: [metrics.registry],
      collect() {
        const counts = service.counts();
        for (const kind of FEED_KINDS) this.set({ kind }, counts[kind]);
      },
    });
    new Counter({
      name: 'tickwire_feed_chat_lines_total',
      help: 'Chat lines written to feed readers (one line to N readers counts N)',
      registers: [metrics.registry],
      collect() {
        this.reset();
        this.inc(service.chatStats.delivered);
      },
    });
  }
}
