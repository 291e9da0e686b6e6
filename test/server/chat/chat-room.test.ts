import { describe, expect, it } from 'vitest';
import { ChatRoom, CHAT_BURST, CHAT_FLOOD_STRIKES, CHAT_MAX_CHARS, CHAT_SHARED_BURST } from '../../../server/chat/chat-room.js';
import { InProcessChatFanout } from '../../../server/chat/fanout.js';
import { ChatHistory } from '../../../server/chat/history.js';
import { KeyedRateLimiter, TokenBucket } from '../../../server/chat/rate-limit.js';
import type { ChatMessage } from '../../../server/chat/types.js';

const alice = { playerId: 'p-a', entityId: 1, name: 'alice' };

describe('ChatHistory', () => {
  it('keeps the newest lines in order and reports gaps on replay', () => {
    const h = new ChatHistory(3);
    for (let id = 1; id <= 5; id++) h.append({ id, entityId: 1, name: 'a', text: String(id), t: 0 });
    expect(h.all().map((m) => m.id)).toEqual([3, 4, 5]);
    expect(h.since(3)).toEqual({ messages: [h.all()[1], h.all()[2]], complete: true });
    expect(h.since(2).complete).toBe(true);
    expect(h.since(1).complete).toBe(false);
    expect(h.since(1).messages.map((m) => m.id)).toEqual([3, 4, 5]);
    expect(h.since(5)).toEqual({ messages: [], complete: true });
  });
});

describe('TokenBucket', () => {
  it('allows a burst then one per refill interval, with the wait time', () => {
    const b = new TokenBucket(2, 1, 0);
    expect(b.take(0).ok).toBe(true);
    expect(b.take(0).ok).toBe(true);
    expect(b.take(0)).toEqual({ ok: false, retryAfterMs: 1000 });
    expect(b.take(400)).toEqual({ ok: false, retryAfterMs: 600 });
    expect(b.take(1000).ok).toBe(true);
    expect(b.take(100_000).ok).toBe(true);
    expect(b.take(100_000).ok).toBe(true);
    expect(b.take(100_000).ok).toBe(false);
  });
});

describe('KeyedRateLimiter', () => {
  it('one bucket per key, at most maxKeys kept: refilled buckets go first, then the oldest', () => {
    const l = new KeyedRateLimiter(2, 1, 3);
    expect(l.take('a', 0).ok).toBe(true);
    expect(l.take('a', 0).ok).toBe(true);
    expect(l.take('a', 0)).toEqual({ ok: false, retryAfterMs: 1000 });
    expect(l.take('b', 0).ok).toBe(true);
    expect(l.take('c', 5_000).ok).toBe(true);
    // 'a' and 'b' have refilled by t=5000: they go, 'a' starts over with a full bucket.
    expect(l.take('d', 5_000).ok).toBe(true);
    expect(l.size).toBe(2);
    for (let i = 0; i < 10; i++) l.take(`k${i}`, 5_000);
    expect(l.size).toBe(3);
  });
});

describe('ChatRoom', () => {
  function setup() {
    const fanout = new InProcessChatFanout();
    const seen: ChatMessage[] = [];
    fanout.subscribe('r', (m) => seen.push(m));
    return { room: new ChatRoom({ roomId: 'r', fanout }), seen, fanout };
  }

  it('assigns consecutive ids, delivers each line once in order, keeps history', () => {
    const { room, seen } = setup();
    for (let i = 0; i < 3; i++) expect(room.submit(alice, ` hi ${i} `, 1000 * i).ok).toBe(true);
    expect(seen.map((m) => [m.id, m.text])).toEqual([[1, 'hi 0'], [2, 'hi 1'], [3, 'hi 2']]);
    expect(room.lastId).toBe(3);
    expect(room.since(1).messages.map((m) => m.id)).toEqual([2, 3]);
  });

  it('rejects empty, too long and control-only lines', () => {
    const { room, seen } = setup();
    expect(room.submit(alice, '   ', 0)).toEqual({ ok: false, reason: 'empty', retryAfterMs: 0 });
    expect(room.submit(alice, '\u0000\u0007', 0)).toMatchObject({ ok: false, reason: 'empty' });
    expect(room.submit(alice, 'x'.repeat(CHAT_MAX_CHARS + 1), 0)).toMatchObject({ ok: false, reason: 'too_long' });
    expect(room.submit(alice, 'x'.repeat(CHAT_MAX_CHARS), 0).ok).toBe(true);
    expect(room.submit(alice, 'a\u0000b', 0)).toMatchObject({ ok: true, message: { text: 'ab' } });
    expect(seen.length).toBe(2);
  });

  it('rate-limits per player and escalates a sustained flood', () => {
    const { room } = setup();
    const bob = { playerId: 'p-b', entityId: 2, name: 'bob' };
    for (let i = 0; i < CHAT_BURST; i++) expect(room.submit(alice, 'x', 0).ok).toBe(true);
    const limited = room.submit(alice, 'x', 0);
    expect(limited).toMatchObject({ ok: false, reason: 'rate_limited' });
    expect(limited.ok === false && limited.retryAfterMs).toBeGreaterThan(0);
    expect(room.submit(bob, 'still fine', 0).ok).toBe(true);
    let last;
    for (let i = 1; i < CHAT_FLOOD_STRIKES; i++) last = room.submit(alice, 'x', 0);
    expect(last).toMatchObject({ ok: false, reason: 'flood' });
    // An accepted line resets the strikes.
    expect(room.submit(alice, 'later', 60_000).ok).toBe(true);
    expect(room.submit(alice, 'x', 60_000).ok).toBe(true);
  });

  it('senders sharing a limit key share one burst however many of them there are', () => {
    const { room, seen } = setup();
    // Fresh dev tickets from one address: ten players, each with its own full bucket.
    const players = Array.from({ length: 10 }, (_, i) => ({ playerId: `dev-${i}`, entityId: 10 + i, name: `d${i}`, sharedLimitKey: '192.0.2.7' }));
    let accepted = 0;
    for (const p of players) for (let k = 0; k < CHAT_BURST; k++) if (room.submit(p, 'spam', 0).ok) accepted++;
    expect(accepted).toBe(CHAT_SHARED_BURST);
    // Another address is not affected, and neither is a player without a shared key.
    expect(room.submit({ ...alice, sharedLimitKey: '198.51.100.1' }, 'hi', 0).ok).toBe(true);
    expect(room.submit({ playerId: 'p-c', entityId: 3, name: 'c' }, 'hi', 0).ok).toBe(true);
    expect(seen.length).toBe(CHAT_SHARED_BURST + 2);
  });

  it('sanitises lines and hook output with the shared sanitiser', () => {
    const { room, seen } = setup();
    expect(room.submit(alice, '\u001b[31mred\u001b[0m \u202eevil', 0).ok).toBe(true);
    expect(room.submit(alice, 'ok', 0, () => `x\u0000\u2066y${'z'.repeat(500)}`).ok).toBe(true);
    expect(seen[0]!.text).toBe('red evil');
    expect(seen[1]!.text).toBe(`xy${'z'.repeat(198)}`);
  });

  it('lets a hook rewrite or veto a line', () => {
    const { room, seen } = setup();
    expect(room.submit(alice, 'darn', 0, (t) => t.replace('darn', '****')).ok).toBe(true);
    expect(room.submit(alice, 'spam', 0, () => null).ok).toBe(false);
    expect(seen.map((m) => m.text)).toEqual(['****']);
  });

  it('fan-out unsubscribes cleanly', () => {
    const { room, seen, fanout } = setup();
    const other: ChatMessage[] = [];
    const off = fanout.subscribe('r', (m) => other.push(m));
    room.announce('one', 0);
    off();
    room.announce('two', 0);
    expect(seen.length).toBe(2);
    expect(other.map((m) => m.text)).toEqual(['one']);
  });
});
