/**
 * Chat fan-out across nodes on Redis (docs/cluster.md, "Chat stream"): implements the game's
 * `ChatFanout` (server/chat/fanout.ts), so the cluster swaps it in for the in-process one.
 *
 * Writing (the room's owner): `publish()` queues a line in the room's outbox; one append script
 * at a time per room stores a batch (fenced by the lease token, contiguous, announced on the
 * room's sharded channel) and only then are the lines delivered to this node's subscribers. A
 * line nobody could store is never shown, so no client sees chat that a crash then loses or
 * that a later owner reuses the id of. A failed append is retried while the lease is valid; a
 * retried batch is stored once (ids at or below the stored top are skipped).
 *
 * Reading (any node): a subscription follows the room's channel and delivers each id once, in
 * order: duplicates are dropped, a gap (a lost pub/sub message, a reconnect) is filled from the
 * stream, and a periodic position check catches what pub/sub never announced. An epoch change
 * (the history was recreated) resets the subscription's position.
 *
 * Size: about 540 lines, over the ~400 of the guide, because writing (the outbox, its append
 * script and retries) and reading (one feed per followed room, resubscription, the position
 * check) share one connection's state and one ordering rule: a line reaches a room's history
 * before its members, exactly once, in id order. Split, each half would have to re-derive that
 * rule.
 */
import { randomBytes } from 'node:crypto';
import { systemScheduler, type Scheduler, type Timer } from '../clock.js';
import type { ChatFanout } from '../chat/fanout.js';
import type { ChatAuthor, ChatMessage } from '../chat/types.js';
import { CHAT_APPEND_BATCH, CHAT_READ_LIMIT, ChatStream, decodeChatPayload, type ChatPosition } from './chat-stream.js';
import type { ClusterKeys } from './keys.js';
import { isRedisUnavailable, type ClusterRedis } from './redis.js';

/**
 * Lines of one room waiting to be stored. `writable()` turns false at the limit; a line published
 * anyway is dropped, and the writer then ends with reason 'overflow' once the outbox is stored
 * (its ids have a hole: the owner reopens and continues after the stored top).
 */
export const CHAT_OUTBOX_LIMIT = 64;
/** Pause before retrying an append Redis did not answer. */
export const CHAT_RETRY_MS = 200;
/** Lines a subscription holds out of order while a gap before them is filled; beyond, refetched. */
export const CHAT_PENDING_LIMIT = 256;
/** How often a following node checks a room's stream top, for lines pub/sub did not announce. */
export const CHAT_POSITION_CHECK_MS = 2_000;
/** Rooms one node follows at most (rooms it runs plus read-only views). */
export const MAX_CHAT_FEEDS = 2_000;
/** Pause before retrying a failed SSUBSCRIBE or position read. */
export const CHAT_SUBSCRIBE_RETRY_MS = 500;
/** How often settle() looks at an outbox. */
const SETTLE_POLL_MS = 5;
/** Reads one gap fill makes at most (each up to CHAT_READ_LIMIT lines) before yielding. */
const FILL_READS = 10;

/** What the writer must prove on each append: the room's lease (server/cluster/lease.ts). */
export interface ChatWriter {
  readonly token: number;
  valid(): boolean;
}

/**
 * Why a writer ended: `fenced` (a newer lease token), `epoch` (the history was reopened by someone
 * else), `gap` (its ids ran ahead of what is stored), `expired` (its lease is no longer valid),
 * `overflow` (a line was published past CHAT_OUTBOX_LIMIT and dropped: reopen to continue).
 */
export type ChatWriterLostReason = 'fenced' | 'epoch' | 'gap' | 'expired' | 'overflow';

export interface ChatFanoutStats {
  appendedLines: number;
  appendCalls: number;
  appendRetries: number;
  /** Lines not stored, by why. */
  dropped: { overflow: number; no_writer: number; out_of_order: number; writer_lost: number };
  delivered: number;
  duplicates: number;
  /** Lines fetched from the stream to fill a gap. */
  filled: number;
  /** Lines a subscriber could not get (trimmed from the stream before it read them). */
  lost: number;
  /** Epoch changes seen by subscriptions. */
  resets: number;
  /** History reopened under a new epoch because it had vanished while this node wrote it. */
  reopened: number;
  malformed: number;
}

export interface RedisChatFanoutOptions {
  redis: ClusterRedis;
  keys: ClusterKeys;
  stream?: ChatStream;
  scheduler?: Scheduler;
  /** The room lost the right to write chat (its lease ended or was fenced): stop the room. */
  onWriterLost?: (roomId: string, reason: ChatWriterLostReason) => void;
  positionCheckMs?: number;
  newEpoch?: () => string;
}

interface Outlet {
  roomId: string;
  writer: ChatWriter;
  epoch: string;
  /** Newest id Redis confirmed. */
  acked: number;
  outbox: ChatMessage[];
  /** Authors of the outbox's lines that have one, by line id (at most the outbox's size). */
  authors: Map<number, ChatAuthor>;
  inFlight: boolean;
  retry: Timer | null;
  attached: boolean;
  /** A line was dropped: accept nothing more, end with 'overflow' once the outbox is stored. */
  overflowed: boolean;
}

interface Subscription {
  /** Each line once, in id order, with the epoch it belongs to. */
  deliver: (message: ChatMessage, epoch: string) => void;
  onReset?: (epoch: string) => void;
  /** Epoch of `last`; null while the starting position is being read; '' for a room without history. */
  epoch: string | null;
  last: number;
  pending: Map<number, ChatMessage>;
  /** Payloads that arrived before the starting position was known. */
  early: { epoch: string; messages: ChatMessage[] }[];
  filling: boolean;
  closed: boolean;
}

interface Feed {
  roomId: string;
  subs: Set<Subscription>;
  /** Removes this feed's pub/sub listener once subscribed. */
  unsubscribe: (() => Promise<void>) | null;
  subscribing: boolean;
  timer: Timer | null;
}

export class RedisChatFanout implements ChatFanout {
  readonly stats: ChatFanoutStats = {
    appendedLines: 0, appendCalls: 0, appendRetries: 0,
    dropped: { overflow: 0, no_writer: 0, out_of_order: 0, writer_lost: 0 },
    delivered: 0, duplicates: 0, filled: 0, lost: 0, resets: 0, reopened: 0, malformed: 0,
  };
  readonly stream: ChatStream;
  private readonly redis: ClusterRedis;
  private readonly keys: ClusterKeys;
  private readonly scheduler: Scheduler;
  private readonly positionCheckMs: number;
  private readonly newEpoch: () => string;
  private readonly outlets = new Map<string, Outlet>();
  private readonly feeds = new Map<string, Feed>();
  private readonly offResubscribed: () => void;
  private closed = false;

  constructor(private readonly options: RedisChatFanoutOptions) {
    this.redis = options.redis;
    this.keys = options.keys;
    this.stream = options.stream ?? new ChatStream({ redis: options.redis, keys: options.keys });
    this.scheduler = options.scheduler ?? systemScheduler;
    this.positionCheckMs = options.positionCheckMs ?? CHAT_POSITION_CHECK_MS;
    this.newEpoch = options.newEpoch ?? (() => randomBytes(9).toString('base64url'));
    // Pub/sub messages sent while the subscriber connection was down are gone: check at once.
    this.offResubscribed = this.redis.onResubscribed(() => {
      for (const feed of this.feeds.values()) void this.checkPosition(feed);
    });
  }

  // --- writing (the room's owner) -----------------------------------------------------------

  /**
   * Open the room's history for writing with the lease `writer` (after acquiring the room):
   * returns its position (epoch and newest id; ids continue at top + 1), or null when the lease
   * is already stale. `minTop`: ids this node already handed out (a reclaim after data loss).
   */
  async openWriter(roomId: string, writer: ChatWriter, minTop = 0): Promise<ChatPosition | null> {
    const position = await this.stream.open(roomId, writer.token, this.newEpoch(), minTop);
    if (!position || !writer.valid()) return null;
    this.attachWriter(roomId, writer, position);
    return { epoch: position.epoch, top: position.top };
  }

  /** Attach a writer at a known position (as returned by ChatStream.open). Returns detach. */
  attachWriter(roomId: string, writer: ChatWriter, position: ChatPosition): () => void {
    this.outlets.get(roomId)?.retry?.cancel();
    const outlet: Outlet = {
      roomId, writer, epoch: position.epoch, acked: position.top, outbox: [], authors: new Map(), inFlight: false, retry: null, attached: true, overflowed: false,
    };
    this.outlets.set(roomId, outlet);
    return () => this.detach(outlet);
  }

  /**
   * Waits until every line published for `roomId` so far is stored (and delivered here): true,
   * or false when the writer ended first or `timeoutMs` passed. A handoff halts the room, then
   * settles its chat before the final checkpoint, so the new owner continues after every line
   * a client may have seen.
   */
  settle(roomId: string, timeoutMs: number): Promise<boolean> {
    const deadline = this.scheduler.now() + timeoutMs;
    return new Promise((resolve) => {
      const check = () => {
        const outlet = this.outlets.get(roomId);
        if (!outlet || !outlet.attached) resolve(false);
        else if (outlet.outbox.length === 0 && !outlet.inFlight) resolve(true);
        else if (this.scheduler.now() >= deadline) resolve(false);
        else this.scheduler.after(Math.min(SETTLE_POLL_MS, deadline - this.scheduler.now()), check);
      };
      check();
    });
  }

  /** This node stops writing the room's chat (handed over or closed); unsent lines are dropped. */
  closeWriter(roomId: string): void {
    const outlet = this.outlets.get(roomId);
    if (outlet) this.detach(outlet);
  }

  /** Position of the room's writer here: epoch and newest stored id. */
  writerPosition(roomId: string): ChatPosition | null {
    const outlet = this.outlets.get(roomId);
    return outlet ? { epoch: outlet.epoch, top: outlet.acked } : null;
  }

  /** True when a line published now can be stored soon: this node writes the room, Redis answers, room left in the outbox. */
  writable(roomId: string): boolean {
    const outlet = this.outlets.get(roomId);
    return !!outlet && !outlet.overflowed && outlet.writer.valid() && outlet.outbox.length < CHAT_OUTBOX_LIMIT && this.redis.state === 'ready';
  }

  /**
   * ChatFanout: store the line, then deliver it. Ids must follow on from the previous line; the
   * caller checks `writable()` first (a line past the outbox limit is dropped, see 'overflow').
   */
  publish(roomId: string, message: ChatMessage, author?: ChatAuthor): void {
    const outlet = this.outlets.get(roomId);
    if (!outlet) {
      this.stats.dropped.no_writer++;
      return;
    }
    if (outlet.overflowed || outlet.outbox.length >= CHAT_OUTBOX_LIMIT) {
      this.stats.dropped.overflow++;
      outlet.overflowed = true;
      if (outlet.outbox.length === 0 && !outlet.inFlight) this.writerLost(outlet, 'overflow');
      return;
    }
    const expected = (outlet.outbox.at(-1)?.id ?? outlet.acked) + 1;
    if (message.id !== expected) {
      this.stats.dropped.out_of_order++;
      return;
    }
    outlet.outbox.push(message);
    if (author) outlet.authors.set(message.id, author);
    void this.flush(outlet);
  }

  private detach(outlet: Outlet): void {
    outlet.attached = false;
    outlet.retry?.cancel();
    outlet.retry = null;
    if (this.outlets.get(outlet.roomId) === outlet) this.outlets.delete(outlet.roomId);
  }

  private writerLost(outlet: Outlet, reason: ChatWriterLostReason): void {
    if (!outlet.attached) return;
    this.stats.dropped.writer_lost += outlet.outbox.length;
    outlet.outbox = [];
    outlet.authors.clear();
    this.detach(outlet);
    try {
      this.options.onWriterLost?.(outlet.roomId, reason);
    } catch {
      // The owner's handler failing must not break the fan-out.
    }
  }

  private async flush(outlet: Outlet): Promise<void> {
    if (outlet.inFlight || !outlet.attached || outlet.retry) return;
    if (outlet.outbox.length === 0) {
      if (outlet.overflowed) this.writerLost(outlet, 'overflow');
      return;
    }
    if (!outlet.writer.valid()) {
      this.writerLost(outlet, 'expired');
      return;
    }
    outlet.inFlight = true;
    const batch = outlet.outbox.slice(0, CHAT_APPEND_BATCH);
    try {
      this.stats.appendCalls++;
      const result = await this.stream.append(outlet.roomId, outlet.writer.token, outlet.epoch, batch, outlet.authors);
      if (!outlet.attached) return;
      if (result.ok) {
        const stored = outlet.outbox.filter((m) => m.id <= result.top);
        outlet.outbox = outlet.outbox.filter((m) => m.id > result.top);
        for (const m of stored) outlet.authors.delete(m.id);
        outlet.acked = Math.max(outlet.acked, result.top);
        this.stats.appendedLines += stored.length;
        this.offerLocal(outlet.roomId, outlet.epoch, stored);
      } else if (result.reason === 'epoch' && result.current === null) {
        // The history vanished (Redis lost its data, and our lease was reclaimed): reopen it under
        // a new epoch that continues our ids, so the lines already out keep theirs.
        const reopened = await this.stream.open(outlet.roomId, outlet.writer.token, this.newEpoch(), outlet.acked);
        if (!outlet.attached) return;
        if (!reopened || reopened.top !== outlet.acked) {
          this.writerLost(outlet, reopened ? 'epoch' : 'fenced');
          return;
        }
        outlet.epoch = reopened.epoch;
        this.stats.reopened++;
      } else {
        this.writerLost(outlet, result.reason);
        return;
      }
    } catch (error) {
      if (!outlet.attached) return;
      if (!isRedisUnavailable(error)) {
        this.writerLost(outlet, 'gap');
        return;
      }
      this.stats.appendRetries++;
      outlet.retry = this.scheduler.after(CHAT_RETRY_MS, () => {
        outlet.retry = null;
        void this.flush(outlet);
      });
      return;
    } finally {
      outlet.inFlight = false;
    }
    void this.flush(outlet);
  }

  // --- reading (any node) -------------------------------------------------------------------

  /** ChatFanout: lines stored from now on, each once, in id order. Returns unsubscribe. */
  subscribe(roomId: string, deliver: (message: ChatMessage) => void): () => void {
    return this.follow(roomId, null, deliver);
  }

  /**
   * Lines after `from.afterId` of `from.epoch` (catching up from the stream first), then live;
   * `from` null: from the current top. `onReset` hears of an epoch change (ids restarted).
   */
  follow(roomId: string, from: { epoch: string; afterId: number } | null, deliver: (message: ChatMessage, epoch: string) => void,
    onReset?: (epoch: string) => void): () => void {
    if (this.closed) throw new Error('chat fan-out is closed');
    let feed = this.feeds.get(roomId);
    if (!feed) {
      if (this.feeds.size >= MAX_CHAT_FEEDS) throw new RangeError(`a node follows at most ${MAX_CHAT_FEEDS} rooms' chat`);
      feed = { roomId, subs: new Set(), unsubscribe: null, subscribing: false, timer: null };
      this.feeds.set(roomId, feed);
    }
    const sub: Subscription = { deliver, onReset, epoch: null, last: 0, pending: new Map(), early: [], filling: false, closed: false };
    feed.subs.add(sub);
    this.ensureSubscribed(feed);
    this.scheduleCheck(feed);
    if (from) {
      sub.epoch = from.epoch;
      sub.last = from.afterId;
      void this.fill(feed, sub);
    } else {
      const outlet = this.outlets.get(roomId);
      if (outlet) {
        // This node writes the room: its own position is exact and current.
        this.start(feed, sub, outlet.epoch, outlet.acked);
      } else {
        void this.initPosition(feed, sub);
      }
    }
    const current = feed;
    return () => {
      sub.closed = true;
      current.subs.delete(sub);
      if (current.subs.size === 0) this.dropFeed(current);
    };
  }

  /** Stop everything: writers detach (their outboxes are dropped), subscriptions end. */
  async close(): Promise<void> {
    this.closed = true;
    this.offResubscribed();
    for (const outlet of [...this.outlets.values()]) this.detach(outlet);
    await Promise.all([...this.feeds.values()].map((feed) => this.dropFeed(feed)));
  }

  private async initPosition(feed: Feed, sub: Subscription): Promise<void> {
    try {
      const position = await this.stream.read(feed.roomId, 0, 0);
      if (sub.closed || sub.epoch !== null) return;
      this.start(feed, sub, position.epoch ?? '', position.top);
    } catch {
      if (!sub.closed) this.scheduler.after(CHAT_SUBSCRIBE_RETRY_MS, () => void this.initPosition(feed, sub));
    }
  }

  private start(feed: Feed, sub: Subscription, epoch: string, top: number): void {
    sub.epoch = epoch;
    sub.last = top;
    const early = sub.early;
    sub.early = [];
    for (const payload of early) this.offerTo(feed, sub, payload.epoch, payload.messages);
  }

  private ensureSubscribed(feed: Feed): void {
    if (feed.unsubscribe || feed.subscribing || this.closed) return;
    feed.subscribing = true;
    this.redis.ssubscribe(this.keys.chatChannel(feed.roomId), (text) => this.onMessage(feed, text)).then((unsubscribe) => {
      feed.subscribing = false;
      if (this.feeds.get(feed.roomId) !== feed) {
        void unsubscribe().catch(() => {}); // dropped while subscribing
        return;
      }
      feed.unsubscribe = unsubscribe;
      void this.checkPosition(feed); // lines stored while we were subscribing
    }, () => {
      feed.subscribing = false;
      if (this.feeds.get(feed.roomId) === feed) this.scheduler.after(CHAT_SUBSCRIBE_RETRY_MS, () => this.ensureSubscribed(feed));
    });
  }

  private async dropFeed(feed: Feed): Promise<void> {
    if (this.feeds.get(feed.roomId) === feed) this.feeds.delete(feed.roomId);
    feed.timer?.cancel();
    feed.timer = null;
    const unsubscribe = feed.unsubscribe;
    feed.unsubscribe = null;
    await unsubscribe?.().catch(() => {});
  }

  private onMessage(feed: Feed, text: string): void {
    const payload = decodeChatPayload(text);
    if (!payload) {
      this.stats.malformed++;
      return;
    }
    for (const sub of [...feed.subs]) this.offerTo(feed, sub, payload.epoch, payload.messages);
  }

  /** Lines this node stored: its own subscribers get them now (pub/sub brings them again: duplicates). */
  private offerLocal(roomId: string, epoch: string, messages: ChatMessage[]): void {
    const feed = this.feeds.get(roomId);
    if (!feed || messages.length === 0) return;
    for (const sub of [...feed.subs]) this.offerTo(feed, sub, epoch, messages);
  }

  private offerTo(feed: Feed, sub: Subscription, epoch: string, messages: readonly ChatMessage[]): void {
    if (sub.closed || messages.length === 0) return;
    if (sub.epoch === null) {
      if (sub.early.length < CHAT_PENDING_LIMIT) sub.early.push({ epoch, messages: [...messages] });
      return;
    }
    if (sub.epoch === '') sub.epoch = epoch; // first history of a new room
    else if (epoch !== sub.epoch) this.reset(sub, epoch, messages[0].id - 1);
    for (const m of messages) {
      if (m.id <= sub.last || sub.pending.has(m.id)) this.stats.duplicates++;
      else sub.pending.set(m.id, m);
    }
    if (sub.pending.size > CHAT_PENDING_LIMIT) sub.pending.clear(); // the fill below reads them again
    this.drain(sub);
    if (sub.pending.size > 0) void this.fill(feed, sub);
  }

  private reset(sub: Subscription, epoch: string, last: number): void {
    sub.epoch = epoch;
    sub.last = last;
    sub.pending.clear();
    this.stats.resets++;
    try {
      sub.onReset?.(epoch);
    } catch {
      // a subscriber's handler failing must not stop delivery to it
    }
  }

  private drain(sub: Subscription): void {
    for (;;) {
      const next = sub.pending.get(sub.last + 1);
      if (!next || sub.closed) break;
      sub.pending.delete(next.id);
      sub.last = next.id;
      this.stats.delivered++;
      try {
        sub.deliver(next, sub.epoch ?? '');
      } catch {
        // as for onReset
      }
    }
  }

  /** Reads the stream after the subscription's position until it is current (bounded). */
  private async fill(feed: Feed, sub: Subscription): Promise<void> {
    if (sub.filling || sub.closed || sub.epoch === null) return;
    sub.filling = true;
    // After an epoch change the new epoch's oldest stored line is where this subscriber starts.
    let restarted = false;
    try {
      for (let i = 0; i < FILL_READS && !sub.closed; i++) {
        const read = await this.stream.read(feed.roomId, sub.last, CHAT_READ_LIMIT);
        if (sub.closed || read.epoch === null) break;
        if (sub.epoch === '') sub.epoch = read.epoch;
        else if (read.epoch !== sub.epoch) {
          this.reset(sub, read.epoch, 0);
          restarted = true;
          continue;
        }
        const first = read.messages[0];
        if (first && first.id > sub.last + 1) {
          // Trimmed away before this subscriber read them: skip, counted (not after a restart:
          // the new epoch simply begins later).
          if (!restarted) this.stats.lost += first.id - sub.last - 1;
          sub.last = first.id - 1;
        }
        restarted = false;
        for (const m of read.messages) {
          if (m.id > sub.last && !sub.pending.has(m.id)) {
            sub.pending.set(m.id, m);
            this.stats.filled++;
          }
        }
        this.drain(sub);
        if (sub.last >= read.top) break;
      }
    } catch (error) {
      if (!isRedisUnavailable(error)) this.stats.malformed++;
      // Redis away: the position check tries again.
    } finally {
      sub.filling = false;
    }
  }

  private scheduleCheck(feed: Feed): void {
    if (feed.timer || this.closed) return;
    feed.timer = this.scheduler.after(this.positionCheckMs, () => {
      feed.timer = null;
      if (this.feeds.get(feed.roomId) !== feed) return;
      void this.checkPosition(feed).finally(() => this.scheduleCheck(feed));
    });
  }

  /** Reads the room's top; subscriptions behind it (or on another epoch) fill. */
  private async checkPosition(feed: Feed): Promise<void> {
    // A room this node writes needs no check: its own appends are delivered as they are stored.
    if (this.outlets.has(feed.roomId) || feed.subs.size === 0) return;
    try {
      const { epoch, top } = await this.stream.read(feed.roomId, 0, 0);
      if (epoch === null) return;
      for (const sub of [...feed.subs]) {
        if (sub.epoch !== null && (sub.last < top || (sub.epoch !== '' && sub.epoch !== epoch))) void this.fill(feed, sub);
      }
    } catch {
      // Redis away: the next check tries again.
    }
    this.ensureSubscribed(feed);
  }
}
