/**
 * One room's chat for its readers (SSE streams and long polls): a single subscription to the
 * `ChatSource` per room however many read it, a ring of the newest lines (each formatted as an
 * SSE event once, the same bytes for every stream), and the catch-up that gives a reader exactly
 * the lines after the id it names, in order, or says explicitly that some were lost.
 */
import type { Scheduler, Timer } from '../../clock.js';
import type { ChatMessage } from '../../chat/types.js';
import type { ChatSource } from '../../feeds/types.js';
import { CHAT_FEED_INITIAL_LINES, CHAT_FEED_REPLAY_LIMIT } from './limits.js';
import { formatSseEvent } from './sse-format.js';

/**
 * Newest lines a room's feed keeps: a reader that names an id inside them catches up without a
 * read from the source. As long as the replay limit, so on a single node every catch-up the
 * history can serve is served from here.
 */
export const CHAT_FEED_RING_LINES = CHAT_FEED_REPLAY_LIMIT;
/**
 * A room's feed outlives its last reader by this long, so a long poller's next request or an
 * SSE reconnect finds the ring warm instead of reading the source again.
 */
export const CHAT_FEED_LINGER_MS = 30_000;

/** A chat line and its SSE event (`id:` = chat id), formatted once. */
export interface ChatLineOut {
  message: ChatMessage;
  sse: Buffer;
}

/** The explicit notice that lines after `after` are gone; the reader continues at `resumeFrom`. */
export interface HistoryLost {
  /** `trimmed`: they left the history (or were more than one catch-up carries); `reset`: the room's history started again; `gap`: the source skipped ids. */
  reason: 'trimmed' | 'reset' | 'gap';
  after: number;
  /** Id of the next line the reader gets (null: none yet). */
  resumeFrom: number | null;
}

/** Where a reader starts: after a chat id, or with the newest lines. */
export type ChatStart = { kind: 'after'; id: number } | { kind: 'recent' };

export type CatchUp =
  | { kind: 'ok'; lines: ChatLineOut[]; lost: HistoryLost | null; last: number; top: number }
  /** The room is not open. */
  | { kind: 'unknown' }
  /** The named id is newer than the room's newest line (another history, or a forged id). */
  | { kind: 'future'; top: number }
  /** The source failed (in cluster mode: Redis away). */
  | { kind: 'unavailable' };

/** A reader following the live lines. `last` is the id it has; the feed moves it on. */
export interface ChatListener {
  last: number;
  line(line: ChatLineOut): void;
  lost(info: HistoryLost): void;
  /** The room closed: no more lines will come. */
  closed(): void;
}

/** The SSE bytes of one chat line. */
export function chatLineOut(message: ChatMessage): ChatLineOut {
  const data = { id: message.id, entityId: message.entityId, name: message.name, text: message.text, t: message.t };
  return { message, sse: Buffer.from(formatSseEvent({ event: 'chat', id: message.id, data })) };
}

export interface ChatRoomFeedStats {
  /** Line deliveries to readers (one line to N readers counts N). */
  delivered: number;
  /** Lines the source delivered twice (dropped here). */
  duplicates: number;
  /** Reads from the source (the initial one and catch-ups older than the ring). */
  reads: number;
}

export class ChatRoomFeed {
  private epoch = '';
  /** Newest id delivered in order. */
  private top = 0;
  /** The newest lines, consecutive ids ending at `top` (a plain array: a shift of 200 references is cheap next to a fan-out). */
  private ring: ChatLineOut[] = [];
  /** Live lines that came before the initial read answered. */
  private early: Array<[ChatMessage, string]> | null = [];
  private readonly listeners = new Set<ChatListener>();
  private readonly unsubscribe: () => void;
  /** Set when the source failed (cluster mode: Redis away, or too many rooms followed): readers get 503, not 404. */
  private failed = false;
  private lingerTimer: Timer | null = null;
  private isClosed = false;
  /**
   * Resolves true once the feed knows the room's position, false when the room is not open or
   * the source failed (the feed is then closed; `catchUp` says which).
   */
  readonly ready: Promise<boolean>;

  constructor(
    readonly roomId: string,
    private readonly source: ChatSource,
    private readonly scheduler: Scheduler,
    private readonly stats: ChatRoomFeedStats,
    /** The feed closed itself (room gone, or lingered out without readers). */
    private readonly onClosed: (feed: ChatRoomFeed) => void,
  ) {
    let unsubscribe: () => void;
    try {
      unsubscribe = source.subscribe(roomId, (m, epoch) => this.live(m, epoch));
    } catch {
      // The source cannot follow one more room (cluster: MAX_CHAT_FEEDS) or is closed.
      unsubscribe = () => {};
      this.failed = true;
    }
    this.unsubscribe = unsubscribe;
    this.stats.reads++;
    const first = this.failed ? Promise.reject(new Error('chat source unavailable')) : source.read(roomId, 0, CHAT_FEED_RING_LINES);
    this.ready = first.then((r) => {
      if (this.isClosed) return false;
      if (!r) {
        this.close();
        return false;
      }
      this.epoch = r.epoch;
      this.top = r.top;
      this.ring = r.messages.map(chatLineOut);
      const early = this.early ?? [];
      this.early = null;
      for (const [m, e] of early) this.live(m, e);
      this.lingerIfIdle();
      return true;
    }, () => {
      this.failed = true;
      this.close();
      return false;
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get readers(): number {
    return this.listeners.size;
  }

  /**
   * What a reader starting at `start` gets before the live lines: the lines after its id (or the
   * newest CHAT_FEED_INITIAL_LINES), whether some were lost, and the id it will then be at. Call
   * `follow` in the same synchronous step as using the answer, so no live line falls between.
   */
  async catchUp(start: ChatStart): Promise<CatchUp> {
    if (!(await this.ready) || this.isClosed) return this.failed ? { kind: 'unavailable' } : { kind: 'unknown' };
    if (start.kind === 'recent') {
      const lines = this.ring.slice(-CHAT_FEED_INITIAL_LINES);
      return { kind: 'ok', lines, lost: null, last: this.top, top: this.top };
    }
    const after = start.id;
    if (after > this.top) {
      // In cluster mode the source may hold lines the live feed has not delivered yet: ask it.
      let r;
      try {
        this.stats.reads++;
        r = await this.source.read(this.roomId, after, 1);
      } catch {
        return { kind: 'unavailable' };
      }
      if (!r || this.isClosed) return { kind: 'unknown' };
      if (after > r.top) return { kind: 'future', top: r.top };
      // Lines up to `after` exist; the ones after it reach this reader live.
      return { kind: 'ok', lines: [], lost: null, last: after, top: this.top };
    }
    const first = this.ring.length > 0 ? this.ring[0].message.id : this.top + 1;
    if (after >= first - 1) {
      return { kind: 'ok', lines: this.ring.slice(after - (first - 1)), lost: null, last: this.top, top: this.top };
    }
    // Older than the ring: read the source, then add what arrived live meanwhile.
    const epoch = this.epoch;
    let r;
    try {
      this.stats.reads++;
      r = await this.source.read(this.roomId, after, CHAT_FEED_REPLAY_LIMIT);
    } catch {
      return { kind: 'unavailable' };
    }
    if (!r || this.isClosed) return { kind: 'unknown' };
    let lines = r.epoch === epoch && this.epoch === epoch ? r.messages.map(chatLineOut) : [];
    let complete = r.complete && r.epoch === epoch && this.epoch === epoch;
    const lastRead = lines.length > 0 ? lines[lines.length - 1].message.id : after;
    const tail = this.ring.filter((l) => l.message.id > lastRead);
    if (tail.length > 0 && tail[0].message.id !== lastRead + 1) {
      // More lines came while the read was out than the ring holds: what is between is lost.
      complete = false;
      lines = [];
    }
    lines = lines.concat(tail);
    const lost: HistoryLost | null = complete ? null : { reason: 'trimmed', after, resumeFrom: lines[0]?.message.id ?? null };
    return { kind: 'ok', lines, lost, last: this.top, top: this.top };
  }

  /** Live lines after `listener.last` from now on. */
  follow(listener: ChatListener): void {
    if (this.isClosed) {
      listener.closed();
      return;
    }
    this.lingerTimer?.cancel();
    this.lingerTimer = null;
    this.listeners.add(listener);
  }

  unfollow(listener: ChatListener): void {
    if (!this.listeners.delete(listener)) return;
    this.lingerIfIdle();
  }

  /** The room closed: every reader is told, the feed ends. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.lingerTimer?.cancel();
    this.lingerTimer = null;
    this.unsubscribe();
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const l of listeners) l.closed();
    this.onClosed(this);
  }

  private lingerIfIdle(): void {
    if (this.listeners.size > 0 || this.isClosed || this.lingerTimer || this.early) return;
    this.lingerTimer = this.scheduler.after(CHAT_FEED_LINGER_MS, () => {
      this.lingerTimer = null;
      if (this.listeners.size === 0) this.close();
    });
  }

  private live(message: ChatMessage, epoch: string): void {
    if (this.isClosed) return;
    if (this.early) {
      // The initial read has not answered: keep the newest few and sort them out then.
      this.early.push([message, epoch]);
      if (this.early.length > CHAT_FEED_RING_LINES) this.early.shift();
      return;
    }
    if (epoch !== this.epoch) {
      // Another history: when its ids go on from ours (a writer that reopened its stream), no
      // line is lost; otherwise ids of the old epoch mean nothing in the new one.
      const continues = message.id === this.top + 1;
      this.epoch = epoch;
      if (!continues) this.restartAt(message.id, 'reset');
    } else if (message.id <= this.top) {
      this.stats.duplicates++;
      return;
    } else if (message.id > this.top + 1) {
      this.restartAt(message.id, 'gap');
    }
    const line = chatLineOut(message);
    this.ring.push(line);
    if (this.ring.length > CHAT_FEED_RING_LINES) this.ring.shift();
    this.top = message.id;
    for (const l of this.listeners) {
      if (l.last === message.id - 1) {
        l.last = message.id;
        this.stats.delivered++;
        l.line(line);
      } else if (l.last < message.id - 1) {
        // A reader behind the feed cannot happen (catch-up leaves it at the top); never skip silently.
        l.lost({ reason: 'gap', after: l.last, resumeFrom: message.id });
        l.last = message.id;
        this.stats.delivered++;
        l.line(line);
      }
      // l.last >= id: the reader started past this line (cluster catch-up ahead of the feed).
    }
  }

  /** The feed continues at `id` with nothing before it: every reader is told what it lost. */
  private restartAt(id: number, reason: 'reset' | 'gap'): void {
    this.ring = [];
    this.top = id - 1;
    for (const l of this.listeners) {
      l.lost({ reason, after: l.last, resumeFrom: id });
      l.last = id - 1;
    }
  }
}
