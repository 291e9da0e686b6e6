/**
 * The feeds' request parameters, checked before anything else happens: a bad one is a 400 with
 * a message naming it and a refusal reason for `tickwire_refusals_total{layer="http"}`.
 */
import { ROOM_ID_PATTERN } from '../../rooms/room-manager.js';
import type { ChatStart } from './chat-feed.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string; message: string };

/** A chat id: decimal digits, a safe integer (`chat.id` is at most 2^53 - 1 on the wire). */
const CHAT_ID = /^\d{1,16}$/;
/** A wait in seconds: digits with at most three decimals (no sign, no exponent). */
const WAIT = /^\d{1,6}(\.\d{1,3})?$/;

function chatId(raw: string): number | null {
  if (!CHAT_ID.test(raw)) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}

export function parseRoomId(raw: unknown): Parsed<string> {
  if (typeof raw === 'string' && ROOM_ID_PATTERN.test(raw)) return { ok: true, value: raw };
  return { ok: false, reason: 'feed_bad_room_id', message: 'room id must match [A-Za-z0-9_.-]{1,64}' };
}

/**
 * Where a chat reader starts. `Last-Event-ID` (sent by a reconnecting EventSource) wins over the
 * `after` query parameter (what a page or a poller names itself); neither means the newest lines.
 */
export function parseChatStart(lastEventId: unknown, after: unknown): Parsed<ChatStart> {
  if (typeof lastEventId === 'string' && lastEventId !== '') {
    const id = chatId(lastEventId);
    if (id === null) return { ok: false, reason: 'feed_bad_last_event_id', message: 'Last-Event-ID must be a chat id (decimal digits)' };
    return { ok: true, value: { kind: 'after', id } };
  }
  if (lastEventId !== undefined && typeof lastEventId !== 'string') {
    return { ok: false, reason: 'feed_bad_last_event_id', message: 'one Last-Event-ID header at most' };
  }
  if (after === undefined) return { ok: true, value: { kind: 'recent' } };
  const id = typeof after === 'string' ? chatId(after) : null;
  if (id === null) return { ok: false, reason: 'feed_bad_after', message: 'after must be a chat id (decimal digits)' };
  return { ok: true, value: { kind: 'after', id } };
}

/** `wait` in seconds (absent: 0, a plain poll) as milliseconds; more than `maxSeconds` is refused. */
export function parseWait(raw: unknown, maxSeconds: number): Parsed<number> {
  if (raw === undefined) return { ok: true, value: 0 };
  const bad = { ok: false as const, reason: 'feed_bad_wait', message: `wait must be a number of seconds from 0 to ${maxSeconds}` };
  if (typeof raw !== 'string' || !WAIT.test(raw)) return bad;
  const seconds = Number(raw);
  if (!(seconds <= maxSeconds)) return bad;
  return { ok: true, value: Math.round(seconds * 1000) };
}
