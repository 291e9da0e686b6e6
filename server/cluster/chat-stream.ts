/**
 * Chat history in Redis Streams (docs/cluster.md, "Chat stream").
 *
 * One stream per room, `tw:{room:<id>}:chat`, whose entry ids are tickwire's chat ids: line N
 * is entry `N-0`, written with an explicit id, so Redis itself keeps the lines in id order and
 * refuses a second line N. Beside it a hash `tw:{room:<id>}:chat-meta` holds `epoch` (a random
 * id naming this run of ids) and `top` (the newest id stored). When the history is lost (idle
 * expiry, Redis lost its data) the next owner opens a new epoch: a client holding ids of the old
 * epoch can tell that its `lastChatId` means nothing any more (Centrifugo's offset + epoch idea).
 *
 * Appends are fenced (the room's lease token must be the newest) and contiguous (a batch must
 * start at most at top + 1; lines at or below top are skipped, so a retried batch is stored
 * once), capped with XADD MAXLEN ~, and announced on the room's sharded pub/sub channel in the
 * same script, so no subscriber hears of a line that is not stored.
 *
 * A player's line the client numbered also stores its author (player id, a tag of the session's
 * resume-token hash) and `chatSend.seq`, never sent to clients: a room restored after a crash
 * reads them back (`authorSeqs`) so each seat's highest accepted seq is exact, not the older one
 * of the last checkpoint (docs/cluster.md, "Checkpoints").
 */
import type { ChatAuthor, ChatMessage } from '../chat/types.js';
import { ID_PATTERN, MAX_ID_LENGTH, U32_MAX } from '../../shared/limits.js';
import { CHAT_HISTORY_LIMIT } from '../chat/history.js';
import type { ClusterKeys } from './keys.js';
import { LuaScript, RedisReplyError, type ClusterRedis } from './redis.js';

/** Lines a room's stream keeps (XADD MAXLEN ~: whole stream nodes are trimmed, so a few more). */
export const CHAT_STREAM_MAXLEN = 1_000;
/** A room's chat history expires after this long without a new line. */
export const CHAT_STREAM_TTL_MS = 24 * 60 * 60_000;
/** Lines one append script writes at most. */
export const CHAT_APPEND_BATCH = 32;
/** Lines one read returns at most (the in-process history ring's size). */
export const CHAT_READ_LIMIT = CHAT_HISTORY_LIMIT;
/** Largest pub/sub payload accepted from Redis. */
export const CHAT_PAYLOAD_MAX_BYTES = 64 * 1024;
/** Longest name and text accepted when decoding lines back from Redis (generous vs the room's own limits). */
const MAX_NAME_CHARS = 64;
const MAX_TEXT_CHARS = 1_000;
/** Entity ids are u16 (server/rooms/room.ts ENTITY_ID_LIMIT); 0 is the server. */
const MAX_ENTITY_ID = 65_535;
/**
 * Characters of the session's resume-token hash (base64url SHA-256, 43) stored with a line: 96
 * bits tell one player's sessions apart; the whole hash would add 27 bytes to every line.
 */
export const CHAT_SESSION_TAG_CHARS = 16;
/**
 * Lines `authorSeqs` reads at most, newest first: the stream's own cap, so a restore's work is
 * bounded by what the stream can hold whatever the distance to the checkpoint.
 */
export const CHAT_AUTHOR_READ_LIMIT = CHAT_STREAM_MAXLEN;

/** KEYS meta, stream, fence; ARGV token, newEpoch, minTop, ttlMs -> {'ok', epoch, top, created} | {'fenced'}. */
const OPEN = new LuaScript('chat.open', 3, `
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return {'fenced'} end
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'top')
if meta[1] then return {'ok', meta[1], meta[2], 0} end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'top', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {'ok', ARGV[2], ARGV[3], 1}`);

/**
 * KEYS stream, meta, fence; ARGV token, epoch, maxLen, ttlMs, channel, payload, then per line
 * id, entityId, name, text, t, playerId, sessionTag, seq (the last three '' for a line without an
 * author seq: no `p k s` fields) -> {'ok', top} | {'fenced'} | {'epoch', current or ''} | {'gap', top}.
 */
const APPEND = new LuaScript('chat.append', 3, `
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return {'fenced'} end
local meta = redis.call('HMGET', KEYS[2], 'epoch', 'top')
if not meta[1] then return {'epoch', ''} end
if meta[1] ~= ARGV[2] then return {'epoch', meta[1]} end
local top = tonumber(meta[2])
if tonumber(ARGV[7]) > top + 1 then return {'gap', meta[2]} end
local added = 0
for i = 7, #ARGV, 8 do
  local id = tonumber(ARGV[i])
  if id > top then
    if ARGV[i + 7] == '' then
      redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], ARGV[i] .. '-0', 'e', ARGV[i + 1], 'n', ARGV[i + 2], 'x', ARGV[i + 3], 't', ARGV[i + 4])
    else
      redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], ARGV[i] .. '-0', 'e', ARGV[i + 1], 'n', ARGV[i + 2], 'x', ARGV[i + 3], 't', ARGV[i + 4],
        'p', ARGV[i + 5], 'k', ARGV[i + 6], 's', ARGV[i + 7])
    end
    top = id
    added = added + 1
  end
end
local topText = string.format('%.0f', top)
if added > 0 then
  redis.call('HSET', KEYS[2], 'top', topText)
  redis.call('SPUBLISH', ARGV[5], ARGV[6])
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {'ok', topText}`);

/**
 * KEYS meta, stream; ARGV afterId, count -> {epoch or false, top, entries}: the lines after
 * `afterId`, or the newest `count` of them when there are more.
 */
const READ = new LuaScript('chat.read', 2, `
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'top')
if not meta[1] then return {false, '0', {}} end
local top = tonumber(meta[2])
local from = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
if top - from > count then from = top - count end
local entries = {}
if top > from and count > 0 then
  entries = redis.call('XRANGE', KEYS[2], '(' .. string.format('%.0f', from) .. '-0', '+', 'COUNT', count)
end
return {meta[1], meta[2], entries}`);

/**
 * KEYS meta, stream; ARGV afterId, count -> {epoch or false, top, [playerId, tag, seq, ...]}: the
 * author fields of the newest `count` lines after `afterId` that carry a seq (lines written
 * without one, or by a node before seqs were stored, have none and are left out).
 */
const AUTHORS = new LuaScript('chat.authors', 2, `
local meta = redis.call('HMGET', KEYS[1], 'epoch', 'top')
if not meta[1] then return {false, '0', {}} end
local out = {}
local entries = redis.call('XREVRANGE', KEYS[2], '+', '(' .. ARGV[1] .. '-0', 'COUNT', ARGV[2])
for _, entry in ipairs(entries) do
  local f = entry[2]
  local p, k, s = '', '', nil
  for i = 1, #f - 1, 2 do
    if f[i] == 'p' then p = f[i + 1] elseif f[i] == 'k' then k = f[i + 1] elseif f[i] == 's' then s = f[i + 1] end
  end
  if s then
    out[#out + 1] = p
    out[#out + 1] = k
    out[#out + 1] = s
  end
end
return {meta[1], meta[2], out}`);

/**
 * The key `authorSeqs` files a session's seq under: the player id and the tag of its session's
 * resume-token hash (PlayerSession.resumeTokenHash; a checkpoint seat's `resumeTokenHash`).
 */
export function chatAuthorKey(playerId: string, sessionHash: string): string {
  return `${playerId} ${sessionHash.slice(0, CHAT_SESSION_TAG_CHARS)}`;
}

const SESSION_TAG = new RegExp(`^[A-Za-z0-9_-]{${CHAT_SESSION_TAG_CHARS}}$`);

/** One stream entry's author fields as [key, seq]; null when any of them is malformed. */
function authorSeq(playerId: unknown, tag: unknown, seq: unknown): [string, number] | null {
  if (typeof playerId !== 'string' || playerId.length === 0 || playerId.length > MAX_ID_LENGTH || !ID_PATTERN.test(playerId)) return null;
  if (typeof tag !== 'string' || !SESSION_TAG.test(tag)) return null;
  if (typeof seq !== 'string' || !/^\d{1,10}$/.test(seq)) return null;
  const n = Number(seq);
  if (n > U32_MAX) return null;
  return [chatAuthorKey(playerId, tag), n];
}

export type ChatAppendResult =
  | { ok: true; top: number }
  /** A newer lease token exists: this node no longer owns the room. */
  | { ok: false; reason: 'fenced' }
  /** The history is gone (`current` null) or was reopened under another epoch. */
  | { ok: false; reason: 'epoch'; current: string | null }
  /** The batch would leave a hole after `top` (the writer's ids ran ahead of what is stored). */
  | { ok: false; reason: 'gap'; top: number };

export interface ChatPosition {
  epoch: string;
  /** Newest chat id stored (0: none). */
  top: number;
}

export interface ChatRead {
  /** null when the room has no history at all. */
  epoch: string | null;
  top: number;
  messages: ChatMessage[];
  /** True when `messages` are every line after the requested id (nothing trimmed or cut off). */
  complete: boolean;
}

/** Lines announced on a room's channel: the epoch they belong to and the lines, in id order. */
export interface ChatPayload {
  epoch: string;
  messages: ChatMessage[];
}

export function encodeChatPayload(payload: ChatPayload): string {
  return JSON.stringify({ ep: payload.epoch, m: payload.messages.map((m) => [m.id, m.entityId, m.name, m.text, m.t]) });
}

/** Parses a channel payload; null (never a throw) for anything malformed. */
export function decodeChatPayload(text: string): ChatPayload | null {
  if (text.length > CHAT_PAYLOAD_MAX_BYTES) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const { ep, m } = raw as { ep?: unknown; m?: unknown };
  if (typeof ep !== 'string' || ep.length === 0 || ep.length > 64 || !Array.isArray(m) || m.length > CHAT_APPEND_BATCH) return null;
  const messages: ChatMessage[] = [];
  for (const line of m) {
    if (!Array.isArray(line) || line.length !== 5) return null;
    const message = chatLine(line[0], line[1], line[2], line[3], line[4]);
    if (!message) return null;
    messages.push(message);
  }
  return { epoch: ep, messages };
}

/** A stream entry (`<id>-0`, [e, .., n, .., x, .., t, ..]) as a chat line; null when malformed. */
export function decodeChatEntry(entry: unknown): ChatMessage | null {
  if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) return null;
  const match = /^(\d{1,15})-0$/.exec(entry[0]);
  if (!match) return null;
  const fields = new Map<string, unknown>();
  const flat = entry[1] as unknown[];
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), flat[i + 1]);
  return chatLine(Number(match[1]), Number(fields.get('e')), fields.get('n'), fields.get('x'), Number(fields.get('t')));
}

function chatLine(id: unknown, entityId: unknown, name: unknown, text: unknown, t: unknown): ChatMessage | null {
  if (!(Number.isSafeInteger(id) && (id as number) >= 1)) return null;
  if (!(Number.isInteger(entityId) && (entityId as number) >= 0 && (entityId as number) <= MAX_ENTITY_ID)) return null;
  if (typeof name !== 'string' || name.length > MAX_NAME_CHARS) return null;
  if (typeof text !== 'string' || text.length > MAX_TEXT_CHARS) return null;
  if (typeof t !== 'number' || !Number.isFinite(t)) return null;
  return { id: id as number, entityId: entityId as number, name, text, t };
}

export interface ChatStreamOptions {
  redis: ClusterRedis;
  keys: ClusterKeys;
  maxLen?: number;
  ttlMs?: number;
}

/** Reads and writes rooms' chat streams. Redis errors reach the caller (RedisUnavailableError). */
export class ChatStream {
  /** Stream entries or payloads that did not decode (skipped). */
  malformed = 0;
  /** Stream entries whose author fields (player id, session tag, seq) did not validate (ignored). */
  badAuthors = 0;
  private readonly redis: ClusterRedis;
  private readonly keys: ClusterKeys;
  private readonly maxLen: number;
  private readonly ttlMs: number;

  constructor(options: ChatStreamOptions) {
    this.redis = options.redis;
    this.keys = options.keys;
    this.maxLen = options.maxLen ?? CHAT_STREAM_MAXLEN;
    this.ttlMs = options.ttlMs ?? CHAT_STREAM_TTL_MS;
  }

  /**
   * The owner's first step after acquiring a room: the current epoch and newest id, or, when
   * the history is gone, a new epoch `newEpoch` starting after `minTop` (the ids the caller
   * already handed out, so they never repeat). Null when `token` is not the newest (fenced).
   */
  async open(roomId: string, token: number, newEpoch: string, minTop = 0): Promise<(ChatPosition & { created: boolean }) | null> {
    const reply = (await this.redis.run(OPEN, [this.keys.chatMeta(roomId), this.keys.chat(roomId), this.keys.fence(roomId)],
      [String(token), newEpoch, String(minTop), this.ttlMs])) as unknown[];
    if (reply[0] === 'fenced') return null;
    const top = Number(reply[2]);
    if (reply[0] !== 'ok' || typeof reply[1] !== 'string' || !Number.isSafeInteger(top)) throw new RedisReplyError(`unexpected reply to ${OPEN.name}`);
    return { epoch: reply[1], top, created: reply[3] === 1 };
  }

  /**
   * Stores consecutive lines (at most CHAT_APPEND_BATCH) under `epoch`, fenced by `token`;
   * `authors` (by line id) are stored with their lines (never in the pub/sub payload).
   */
  async append(roomId: string, token: number, epoch: string, lines: readonly ChatMessage[],
    authors?: ReadonlyMap<number, ChatAuthor>): Promise<ChatAppendResult> {
    if (lines.length === 0 || lines.length > CHAT_APPEND_BATCH) throw new RangeError(`append takes 1..${CHAT_APPEND_BATCH} lines`);
    for (let i = 1; i < lines.length; i++) {
      if (lines[i].id !== lines[i - 1].id + 1) throw new RangeError('appended lines must have consecutive ids');
    }
    const args: (string | number)[] = [String(token), epoch, this.maxLen, this.ttlMs, this.keys.chatChannel(roomId), encodeChatPayload({ epoch, messages: [...lines] })];
    for (const m of lines) {
      args.push(m.id, m.entityId, m.name, m.text, Math.round(m.t));
      const a = authors?.get(m.id);
      if (a && Number.isInteger(a.seq) && a.seq >= 0 && a.seq <= U32_MAX) args.push(a.playerId, a.session.slice(0, CHAT_SESSION_TAG_CHARS), a.seq);
      else args.push('', '', '');
    }
    const reply = (await this.redis.run(APPEND, [this.keys.chat(roomId), this.keys.chatMeta(roomId), this.keys.fence(roomId)], args)) as unknown[];
    switch (reply[0]) {
      case 'ok': return { ok: true, top: Number(reply[1]) };
      case 'fenced': return { ok: false, reason: 'fenced' };
      case 'epoch': return { ok: false, reason: 'epoch', current: reply[1] ? String(reply[1]) : null };
      case 'gap': return { ok: false, reason: 'gap', top: Number(reply[1]) };
      default: throw new RedisReplyError(`unexpected reply to ${APPEND.name}`);
    }
  }

  /** The lines after `afterId` (the newest `count` if there are more), with the epoch and top. */
  async read(roomId: string, afterId: number, count: number = CHAT_READ_LIMIT): Promise<ChatRead> {
    const reply = (await this.redis.run(READ, [this.keys.chatMeta(roomId), this.keys.chat(roomId)],
      [String(Math.max(0, Math.floor(afterId))), Math.max(0, Math.min(count, CHAT_READ_LIMIT))])) as unknown[];
    const epoch = typeof reply[0] === 'string' ? reply[0] : null;
    const top = Number(reply[1]);
    const messages: ChatMessage[] = [];
    for (const entry of Array.isArray(reply[2]) ? reply[2] : []) {
      const m = decodeChatEntry(entry);
      if (m) messages.push(m);
      else this.malformed++;
    }
    const expected = Math.max(0, top - afterId);
    const complete = messages.length === expected && (expected === 0 || messages[0].id === afterId + 1);
    return { epoch, top, messages, complete };
  }

  /**
   * The highest seq each author session has among the lines after `afterId` (the newest
   * CHAT_AUTHOR_READ_LIMIT of them at most), keyed by chatAuthorKey. Lines without author fields
   * (no seq, or written by an older node) count as seq 0 and are left out; fields that do not
   * validate are ignored and counted (`badAuthors`).
   */
  async authorSeqs(roomId: string, afterId: number): Promise<{ epoch: string | null; seqs: Map<string, number> }> {
    const reply = (await this.redis.run(AUTHORS, [this.keys.chatMeta(roomId), this.keys.chat(roomId)],
      [String(Math.max(0, Math.floor(afterId))), CHAT_AUTHOR_READ_LIMIT])) as unknown[];
    const seqs = new Map<string, number>();
    const flat = Array.isArray(reply[2]) ? (reply[2] as unknown[]) : [];
    for (let i = 0; i + 2 < flat.length; i += 3) {
      const found = authorSeq(flat[i], flat[i + 1], flat[i + 2]);
      if (!found) {
        this.badAuthors++;
        continue;
      }
      if (found[1] > (seqs.get(found[0]) ?? -1)) seqs.set(found[0], found[1]);
    }
    return { epoch: typeof reply[0] === 'string' ? reply[0] : null, seqs };
  }

  /**
   * Resume: what a client that saw up to `lastId` missed. `epoch` is the epoch the client's ids
   * belong to (undefined: it does not know, its ids are taken as they are). When the epoch
   * changed, its ids mean nothing here: it gets the newest lines from the start of the current
   * epoch, with `epochChanged` set.
   */
  async since(roomId: string, lastId: number, epoch?: string): Promise<ChatRead & { epochChanged: boolean }> {
    const first = await this.read(roomId, lastId);
    if (epoch === undefined || first.epoch === null || epoch === first.epoch) return { ...first, epochChanged: false };
    return { ...(await this.read(roomId, 0)), epochChanged: true };
  }
}
