/**
 * The demo's readers of the server's read-only feeds, on the browser's EventSource: the room
 * list (`RoomsFollower`) and one room's chat (`ChatFollower`). EventSource reconnects by itself
 * after a network error or a cleanly ended stream (a drain), sending Last-Event-ID; when the
 * server refuses (any non-200: the browser then gives up for good, without telling the status)
 * these ask the JSON twin of the stream why, and open a new one accordingly.
 */

/** How a follower reaches the network (the page passes the browser's). */
export interface FeedEnv {
  baseUrl: string;
  EventSource: typeof EventSource;
  fetch: typeof fetch;
  random: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

/** Wait before reopening a refused stream when the server gave no Retry-After: 1-4 s. */
const REOPEN_BASE_MS = 1_000;
const REOPEN_JITTER_MS = 3_000;
/** A closed room is asked about again after 5-10 s (it may open again). */
const ROOM_GONE_BASE_MS = 5_000;

export function browserFeedEnv(baseUrl: string): FeedEnv {
  return {
    baseUrl,
    EventSource: globalThis.EventSource,
    fetch: globalThis.fetch.bind(globalThis),
    random: Math.random,
    setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  };
}

function retryAfterMs(res: Response, env: FeedEnv): number {
  const s = Number(res.headers.get('retry-after'));
  const base = Number.isFinite(s) && s > 0 ? s * 1000 : REOPEN_BASE_MS;
  return Math.round(base + env.random() * REOPEN_JITTER_MS);
}

export type FollowerState = 'connecting' | 'open' | 'reconnecting' | 'waiting' | 'room-closed' | 'stopped';

/** Common life of one followed stream: open, listen, reopen after a refusal. */
abstract class Follower {
  state: FollowerState = 'connecting';
  /** Streams opened (first open and every reopen; EventSource's own reconnects not counted). */
  opens = 0;
  /** Errors reported by the EventSource (its own reconnects included). */
  errors = 0;
  protected source: EventSource | null = null;
  private timer: unknown = null;

  constructor(protected readonly env: FeedEnv, private readonly onChange: () => void) {}

  start(): void {
    this.open();
  }

  stop(): void {
    this.state = 'stopped';
    this.source?.close();
    this.source = null;
    if (this.timer !== null) this.env.clearTimeout(this.timer);
    this.timer = null;
    this.onChange();
  }

  protected abstract url(): string;
  protected abstract listen(source: EventSource): void;
  /** The stream was refused: decide when and how to reopen. */
  protected abstract recover(): Promise<void>;

  protected set(state: FollowerState): void {
    if (this.state === 'stopped') return;
    this.state = state;
    this.onChange();
  }

  protected changed(): void {
    this.onChange();
  }

  protected open(): void {
    if (this.state === 'stopped') return;
    this.source?.close();
    this.opens++;
    const source = new this.env.EventSource(new URL(this.url(), this.env.baseUrl).toString());
    this.source = source;
    this.listen(source);
    source.addEventListener('drain', () => this.set('reconnecting'));
    source.onerror = () => {
      if (source !== this.source) return;
      this.errors++;
      if (source.readyState === this.env.EventSource.CLOSED) {
        this.set('waiting');
        void this.recover();
      } else {
        this.set('reconnecting');
      }
    };
  }

  protected later(ms: number, fn: () => void): void {
    if (this.state === 'stopped') return;
    if (this.timer !== null) this.env.clearTimeout(this.timer);
    this.timer = this.env.setTimeout(() => {
      this.timer = null;
      fn();
    }, ms);
  }

  protected reopenDelay(): number {
    return Math.round(REOPEN_BASE_MS + this.env.random() * REOPEN_JITTER_MS);
  }
}

/** The lobby's live room list. */
export class RoomsFollower extends Follower {
  constructor(env: FeedEnv, private readonly apply: (event: string, data: unknown) => void, onChange: () => void) {
    super(env, onChange);
  }

  protected url(): string {
    return '/api/rooms/stream';
  }

  protected listen(source: EventSource): void {
    for (const name of ['rooms', 'changes']) {
      source.addEventListener(name, (e) => {
        this.apply(name, JSON.parse((e as MessageEvent<string>).data));
        this.set('open');
      });
    }
  }

  protected async recover(): Promise<void> {
    let delay = this.reopenDelay();
    try {
      const res = await this.env.fetch(new URL('/api/rooms', this.env.baseUrl).toString());
      if (res.status === 429 || res.status === 503) delay = retryAfterMs(res, this.env);
    } catch {
      // the server is away: the jittered delay
    }
    this.later(delay, () => this.open());
  }
}

/** One chat line as the follower keeps it. */
export interface FollowedLine {
  id: number;
  name: string;
  text: string;
}

/** The explicit notice that lines were lost (the server's `history-lost`, or a reset found on reopening). */
export interface FollowedLoss {
  reason: string;
  after: number | null;
  resumeFrom: number | null;
}

/** Lines a follower keeps for display (the newest). */
export const FOLLOWED_LINES_LIMIT = 500;
/** Ids a follower records, for the page's debug object (the exactly-once check in the tests). */
export const FOLLOWED_IDS_LIMIT = 10_000;

/** One room's chat, read only. */
export class ChatFollower extends Follower {
  /** Newest chat id received (null: none yet, start with the newest lines). */
  lastId: number | null = null;
  readonly lines: FollowedLine[] = [];
  /** Every id received, in order (duplicates would show here). */
  readonly ids: number[] = [];
  readonly losses: FollowedLoss[] = [];

  constructor(env: FeedEnv, readonly roomId: string, onChange: () => void) {
    super(env, onChange);
  }

  protected url(): string {
    const base = `/api/rooms/${encodeURIComponent(this.roomId)}/chat/stream`;
    return this.lastId === null ? base : `${base}?after=${this.lastId}`;
  }

  protected listen(source: EventSource): void {
    source.addEventListener('chat', (e) => {
      const m = JSON.parse((e as MessageEvent<string>).data) as { id: number; name: string; text: string };
      this.lastId = m.id;
      if (this.ids.length < FOLLOWED_IDS_LIMIT) this.ids.push(m.id);
      this.lines.push({ id: m.id, name: m.name, text: m.text });
      if (this.lines.length > FOLLOWED_LINES_LIMIT) this.lines.shift();
      this.changed();
    });
    source.addEventListener('history-lost', (e) => {
      const d = JSON.parse((e as MessageEvent<string>).data) as { reason: string; after: number; resumeFrom: number | null };
      this.losses.push({ reason: d.reason, after: d.after, resumeFrom: d.resumeFrom });
      this.changed();
    });
    source.addEventListener('ready', (e) => {
      this.lastId = (JSON.parse((e as MessageEvent<string>).data) as { lastId: number }).lastId;
      this.set('open');
    });
    source.addEventListener('closed', () => {
      source.close();
      this.set('room-closed');
      this.later(ROOM_GONE_BASE_MS + this.env.random() * ROOM_GONE_BASE_MS, () => void this.recover());
    });
  }

  /** Asks the long-poll twin (wait=0) what the stream would have said, then reopens. */
  protected async recover(): Promise<void> {
    const after = this.lastId ?? 0;
    let res: Response;
    try {
      res = await this.env.fetch(new URL(`/api/rooms/${encodeURIComponent(this.roomId)}/chat?after=${after}&wait=0`, this.env.baseUrl).toString());
    } catch {
      this.later(this.reopenDelay(), () => void this.recover());
      return;
    }
    if (res.status === 200 || res.status === 429 || res.status === 503) {
      this.later(res.status === 200 ? Math.round(this.env.random() * REOPEN_BASE_MS) : retryAfterMs(res, this.env), () => this.open());
    } else if (res.status === 409) {
      // Our ids belong to a history that was reset: start again from the newest lines.
      this.losses.push({ reason: 'reset', after: this.lastId, resumeFrom: null });
      this.lastId = null;
      this.later(Math.round(this.env.random() * REOPEN_BASE_MS), () => this.open());
    } else {
      this.set('room-closed');
      this.later(ROOM_GONE_BASE_MS + this.env.random() * ROOM_GONE_BASE_MS, () => void this.recover());
    }
  }
}
