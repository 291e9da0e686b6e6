import { ChatHistory, CHAT_HISTORY_LIMIT, type ReplayResult } from './history.js';
import type { ChatFanout } from './fanout.js';
import { MAX_CHAT_TEXT_LENGTH } from '../../shared/limits.js';
import { sanitizeText } from '../../shared/text.js';
import { KeyedRateLimiter, TokenBucket } from './rate-limit.js';
import type { ChatAuthor, ChatMessage } from './types.js';

/** Longest chat line in characters after trimming (the wire limit in bytes is the codec's). */
export const CHAT_MAX_CHARS = 200;
/** Lines a player may send in a burst. */
export const CHAT_BURST = 5;
/** Sustained lines per second per player. */
export const CHAT_REFILL_PER_SECOND = 1;
/**
 * Rate-limited lines in a row (no accepted line between them) after which the sender is
 * treated as a flooder and its session is closed with CHAT_FLOOD. A person who types too fast
 * gets `chatRejected` with a retry time long before this.
 */
export const CHAT_FLOOD_STRIKES = 20;
/**
 * Lines all senders that share a limit key (dev players from one address: a fresh dev ticket
 * is one request away, so per-ticket buckets alone would hand out a new burst per ticket) may
 * send in a burst, and per second, together. A household of a few players chats as it likes;
 * a farm of fresh tickets gets one burst and a few lines a second, however many tickets it has.
 */
export const CHAT_SHARED_BURST = 2 * CHAT_BURST;
export const CHAT_SHARED_REFILL_PER_SECOND = 5 * CHAT_REFILL_PER_SECOND;
/** Shared-limit keys one room remembers (see KeyedRateLimiter for what happens past it). */
export const CHAT_SHARED_KEYS_LIMIT = 4_096;

export interface ChatSender {
  playerId: string;
  entityId: number;
  name: string;
  /**
   * Key of a limit this sender shares with others (CHAT_SHARED_BURST), on top of its own; the
   * session layer gives dev players their address here.
   */
  sharedLimitKey?: string;
  /** The line's client seq and the sender's session (ChatAuthor), when the client numbered it. */
  clientSeq?: { session: string; seq: number };
}

/** `unavailable`: the fan-out cannot store the line now (cluster: Redis away, the room moving). */
export type ChatRejectReason = 'empty' | 'too_long' | 'rate_limited' | 'flood' | 'unavailable';

/** `retryAfterMs` of a line refused as `unavailable`: about when Redis or the new owner is back. */
export const CHAT_UNAVAILABLE_RETRY_MS = 1_000;

export type ChatSubmitResult =
  | { ok: true; message: ChatMessage }
  | { ok: false; reason: ChatRejectReason; retryAfterMs: number };

export interface ChatRoomOptions {
  roomId: string;
  fanout: ChatFanout;
  historyLimit?: number;
  maxChars?: number;
  burst?: number;
  refillPerSecond?: number;
  floodStrikes?: number;
  /**
   * Id of the first line (default 1). A room opened again in the same process continues the ids
   * of its previous life, so a reader's last id never points into a different history.
   */
  firstId?: number;
  /**
   * Where the room's chat stands when it starts on this node (cluster: the Redis stream's epoch,
   * newest id and newest lines): ids continue after `lastId`; it takes precedence over `firstId`.
   */
  start?: { epoch: string | null; lastId: number; history: readonly ChatMessage[] };
}

interface SenderState {
  bucket: TokenBucket;
  strikes: number;
}

/**
 * One room's chat: ids, history, per-player rate limits. Publishes accepted lines to the
 * fan-out, and keeps as history what the fan-out delivers: with the in-process fan-out that is
 * every line at once; with the cluster's, a line once Redis stored it, so the history (what a
 * resuming client is replayed) never holds a line that could still be lost.
 */
export class ChatRoom {
  readonly history: ChatHistory;
  /** Names the run of ids the history is in (cluster); null on a single server. */
  readonly epoch: string | null;
  private nextId = 1;
  private readonly unsubscribe: () => void;
  private readonly senders = new Map<string, SenderState>();
  private readonly maxChars: number;
  private readonly burst: number;
  private readonly refill: number;
  private readonly floodStrikes: number;
  private readonly shared = new KeyedRateLimiter(CHAT_SHARED_BURST, CHAT_SHARED_REFILL_PER_SECOND, CHAT_SHARED_KEYS_LIMIT);

  constructor(private readonly options: ChatRoomOptions) {
    this.history = new ChatHistory(options.historyLimit ?? CHAT_HISTORY_LIMIT);
    this.maxChars = options.maxChars ?? CHAT_MAX_CHARS;
    this.burst = options.burst ?? CHAT_BURST;
    this.refill = options.refillPerSecond ?? CHAT_REFILL_PER_SECOND;
    this.floodStrikes = options.floodStrikes ?? CHAT_FLOOD_STRIKES;
    this.epoch = options.start?.epoch ?? null;
    if (options.start) {
      this.nextId = options.start.lastId + 1;
      for (const m of options.start.history) if (m.id <= options.start.lastId) this.history.append(m);
    } else {
      const first = options.firstId ?? 1;
      if (!Number.isSafeInteger(first) || first < 1) throw new RangeError('firstId must be a positive safe integer');
      this.nextId = first;
    }
    // Subscribed before the room's own delivery to members, so a line is in the history before
    // any member sees it (both fan-outs deliver to subscribers in subscription order).
    this.unsubscribe = options.fanout.subscribe(options.roomId, (m) => this.history.append(m));
  }

  /** Stop following the fan-out (the room closed). */
  close(): void {
    this.unsubscribe();
  }

  /**
   * The fan-out's writer was reopened after `lastId` (cluster: lines were dropped): ids continue
   * from there, so they stay contiguous with what is stored.
   */
  reposition(lastId: number): void {
    this.nextId = lastId + 1;
  }

  /** False while the fan-out cannot take a line (cluster: Redis away, outbox full, lease ending). */
  get writable(): boolean {
    return this.options.fanout.writable?.(this.options.roomId) ?? true;
  }

  /** Id the next accepted line will get minus one: the newest id so far (0 if none). */
  get lastId(): number {
    return this.nextId - 1;
  }

  /**
   * Validates and rate-limits one line from a player; on success assigns the id, stores it and
   * publishes it. `transform` (a room's onChat hook) may rewrite the text or veto it (null).
   * Text is cleaned by the shared sanitiser (shared/text.ts), the hook's output too.
   */
  submit(sender: ChatSender, rawText: string, nowMs: number, transform?: (text: string) => string | null): ChatSubmitResult {
    // Not cut here: a line over the limit is refused as too long, not shortened.
    const text = sanitizeText(rawText, Number.MAX_SAFE_INTEGER);
    if (text.length === 0) return { ok: false, reason: 'empty', retryAfterMs: 0 };
    if ([...text].length > this.maxChars || text.length > MAX_CHAT_TEXT_LENGTH) return { ok: false, reason: 'too_long', retryAfterMs: 0 };
    // Before the limits: a line that cannot be stored now costs the sender no token or strike.
    if (!this.writable) return { ok: false, reason: 'unavailable', retryAfterMs: CHAT_UNAVAILABLE_RETRY_MS };
    let state = this.senders.get(sender.playerId);
    if (!state) {
      state = { bucket: new TokenBucket(this.burst, this.refill, nowMs), strikes: 0 };
      this.senders.set(sender.playerId, state);
    }
    // The shared limit first: a line it refuses costs the sender's own bucket nothing.
    const sharedTaken = sender.sharedLimitKey === undefined ? null : this.shared.take(sender.sharedLimitKey, nowMs);
    const taken = sharedTaken && !sharedTaken.ok ? sharedTaken : state.bucket.take(nowMs);
    if (!taken.ok) {
      state.strikes++;
      const reason = state.strikes >= this.floodStrikes ? 'flood' : 'rate_limited';
      return { ok: false, reason, retryAfterMs: taken.retryAfterMs };
    }
    state.strikes = 0;
    let finalText: string | null = text;
    if (transform) {
      const rewritten = transform(text);
      finalText = rewritten === null ? null : sanitizeText(rewritten, MAX_CHAT_TEXT_LENGTH);
    }
    if (!finalText) return { ok: false, reason: 'empty', retryAfterMs: 0 };
    const author: ChatAuthor | undefined = sender.clientSeq && { playerId: sender.playerId, ...sender.clientSeq };
    return { ok: true, message: this.post(sender.entityId, sender.name, finalText, nowMs, author) };
  }

  /** Server announcement (not rate-limited); null when the fan-out cannot take it now. */
  announce(text: string, nowMs: number): ChatMessage | null {
    if (!this.writable) return null;
    return this.post(0, 'server', text, nowMs);
  }

  /** Lines after `lastId` for a resuming or joining client. */
  since(lastId: number): ReplayResult {
    return this.history.since(lastId);
  }

  /** Forget a player's rate-limit state once its session is gone. */
  forget(playerId: string): void {
    this.senders.delete(playerId);
  }

  private post(entityId: number, name: string, text: string, nowMs: number, author?: ChatAuthor): ChatMessage {
    const message: ChatMessage = { id: this.nextId++, entityId, name, text, t: Math.round(nowMs) };
    this.options.fanout.publish(this.options.roomId, message, author);
    return message;
  }
}
