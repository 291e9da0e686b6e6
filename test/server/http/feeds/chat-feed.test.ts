/**
 * A room's chat over SSE and long polling against the real server (fastify on loopback, real
 * sockets, players over WebSocket): ids, resume by Last-Event-ID exactly once, the explicit
 * history-lost notice, long polls with the same sequence, and the refusals of bad input.
 */
import { describe, expect, it } from 'vitest';
import { CHAT_FEED_INITIAL_LINES } from '../../../../server/http/feeds/limits.js';
import { chatIds, range, useFeedsServer } from './feeds-fixture.js';

const start = useFeedsServer();

describe('chat stream (SSE)', () => {
  it('sends each line with id: = chat id, from players and the server, in order', async () => {
    const fx = await start();
    const alice = await fx.player('alice');
    const s = await fx.sse('/api/rooms/arena/chat/stream');
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.headers['cache-control']).toBe('no-store');
    await s.until(() => s.named('ready').length === 1, 5_000, 'ready');
    expect(JSON.parse(s.named('ready')[0].data)).toEqual({ roomId: 'arena', lastId: 0 });
    // The retry hint is jittered within its bounds.
    expect(s.parser.retryMs).toBeGreaterThanOrEqual(1_000);
    expect(s.parser.retryMs).toBeLessThanOrEqual(5_000);

    alice.send('chatSend', { text: 'hello watchers' });
    await s.until(() => chatIds(s).length === 1, 5_000, "alice's line");
    fx.announce('arena', 2);
    await s.until(() => chatIds(s).length === 3, 5_000, 'three lines');
    expect(chatIds(s)).toEqual([1, 2, 3]);
    const first = s.named('chat')[0];
    expect(first.lastEventId).toBe('1');
    expect(JSON.parse(first.data)).toMatchObject({ id: 1, name: 'alice', text: 'hello watchers' });
    expect(s.lastEventId).toBe('3');
  });

  it('a reader with no position gets the newest lines; one with after=0 gets all kept', async () => {
    const fx = await start();
    await fx.player('alice');
    fx.announce('arena', 80);
    const recent = await fx.sse('/api/rooms/arena/chat/stream');
    await recent.until(() => recent.named('ready').length === 1);
    expect(chatIds(recent)).toEqual(range(80 - CHAT_FEED_INITIAL_LINES + 1, 80));
    const all = await fx.sse('/api/rooms/arena/chat/stream?after=0');
    await all.until(() => all.named('ready').length === 1);
    expect(chatIds(all)).toEqual(range(1, 80));
    expect(all.named('history-lost')).toEqual([]);
  });

  it('resumes with Last-Event-ID: what was missed exactly once, in order, while chat goes on', async () => {
    const fx = await start();
    await fx.player('alice');
    const seen: number[] = [];
    let lastId: string | undefined;
    let next = 0;
    // Five connections in a row, each cut while lines keep coming; lines are posted before,
    // during and between connections.
    for (let round = 0; round < 5; round++) {
      fx.announce('arena', 7);
      next += 7;
      const s = await fx.sse('/api/rooms/arena/chat/stream' + (lastId === undefined ? '?after=0' : ''), { lastEventId: lastId });
      await s.until(() => s.named('ready').length === 1, 5_000, 'ready');
      fx.announce('arena', 5);
      next += 5;
      await s.until(() => Number(s.lastEventId) === next, 5_000, `line ${next}`);
      seen.push(...chatIds(s));
      expect(s.named('history-lost')).toEqual([]);
      lastId = s.lastEventId;
      s.close();
    }
    expect(seen).toEqual(range(1, next));
  });

  it('says explicitly that history was lost when the reader is further behind than the history', async () => {
    const fx = await start();
    await fx.player('alice');
    fx.announce('arena', 5);
    const s1 = await fx.sse('/api/rooms/arena/chat/stream?after=0');
    await s1.until(() => s1.lastEventId === '5');
    s1.close();
    fx.announce('arena', 300); // 6..305: the history ring keeps 200 (106..305)
    const s2 = await fx.sse('/api/rooms/arena/chat/stream', { lastEventId: '5' });
    await s2.until(() => s2.named('ready').length === 1);
    const lost = s2.named('history-lost');
    expect(lost).toHaveLength(1);
    expect(JSON.parse(lost[0].data)).toEqual({ reason: 'trimmed', after: 5, resumeFrom: 106 });
    expect(s2.events.findIndex((e) => e.event === 'history-lost')).toBeLessThan(s2.events.findIndex((e) => e.event === 'chat'));
    expect(chatIds(s2)).toEqual(range(106, 305));
  });

  it('ends with a closed event when the room closes', async () => {
    const fx = await start({ emptyRoomLingerMs: 50 });
    const alice = await fx.player('alice');
    const s = await fx.sse('/api/rooms/arena/chat/stream');
    await s.until(() => s.named('ready').length === 1);
    alice.send('leave', {});
    await s.until(() => s.ended, 5_000, 'stream end');
    expect(s.named('closed').map((e) => JSON.parse(e.data))).toEqual([{ roomId: 'arena' }]);
    expect((await fx.sse('/api/rooms/arena/chat/stream')).status).toBe(404);
  });
});

describe('chat long polling', () => {
  it('gives the same sequence as the stream, with wait and with plain polling', async () => {
    const fx = await start();
    await fx.player('alice');
    fx.announce('arena', 3);
    const s = await fx.sse('/api/rooms/arena/chat/stream?after=0');
    const polled: number[] = [];
    let after = 0;
    const poll = async (wait: number) => {
      const r = await fx.json(`/api/rooms/arena/chat?after=${after}&wait=${wait}`);
      expect(r.status).toBe(200);
      expect(r.body.historyLost).toBeNull();
      polled.push(...r.body.lines.map((l: { id: number }) => l.id));
      after = r.body.lastId;
      return r.body;
    };
    expect((await poll(0)).lines).toHaveLength(3);
    // Nothing new: wait=0 answers at once with no lines.
    expect((await poll(0)).lines).toEqual([]);
    // A waiting poll answers when the next line comes.
    const waiting = poll(10);
    await new Promise((r) => setTimeout(r, 100));
    fx.announce('arena', 1);
    const t0 = Date.now();
    expect((await waiting).lines.map((l: { id: number }) => l.id)).toEqual([4]);
    expect(Date.now() - t0).toBeLessThan(5_000);
    fx.announce('arena', 10);
    while (after < 14) await poll(1);
    await s.until(() => s.lastEventId === '14');
    expect(polled).toEqual(chatIds(s));
    expect(polled).toEqual(range(1, 14));
  });

  it('answers an empty list when the wait runs out, and the same history-lost notice', async () => {
    const fx = await start();
    await fx.player('alice');
    const t0 = Date.now();
    const r = await fx.json('/api/rooms/arena/chat?after=0&wait=0.3');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(r.body).toEqual({ roomId: 'arena', lines: [], lastId: 0, historyLost: null, closed: false });
    fx.announce('arena', 250);
    const lost = await fx.json('/api/rooms/arena/chat?after=10');
    expect(lost.body.historyLost).toEqual({ reason: 'trimmed', after: 10, resumeFrom: 51 });
    expect(lost.body.lines.map((l: { id: number }) => l.id)).toEqual(range(51, 250));
    expect(lost.body.lastId).toBe(250);
  });
});

describe('bad input gets a clear status, is counted, and nobody else notices', () => {
  it('refuses bad ids, future ids, bad waits, unknown and malformed rooms', async () => {
    const fx = await start();
    await fx.player('alice');
    fx.announce('arena', 3);
    const bystander = await fx.sse('/api/rooms/arena/chat/stream?after=0');
    await bystander.until(() => bystander.lastEventId === '3');

    const cases: Array<[string, Record<string, string>, number, string]> = [
      ['/api/rooms/arena/chat/stream', { 'last-event-id': 'abc' }, 400, 'feed_bad_last_event_id'],
      ['/api/rooms/arena/chat/stream', { 'last-event-id': '-1' }, 400, 'feed_bad_last_event_id'],
      ['/api/rooms/arena/chat/stream', { 'last-event-id': '99999999999999999' }, 400, 'feed_bad_last_event_id'],
      ['/api/rooms/arena/chat/stream', { 'last-event-id': '4' }, 409, 'feed_future_chat_id'],
      ['/api/rooms/arena/chat/stream?after=x', {}, 400, 'feed_bad_after'],
      ['/api/rooms/arena/chat?after=1000', {}, 409, 'feed_future_chat_id'],
      ['/api/rooms/arena/chat?wait=-1', {}, 400, 'feed_bad_wait'],
      ['/api/rooms/arena/chat?wait=31', {}, 400, 'feed_bad_wait'],
      ['/api/rooms/arena/chat?wait=1e9', {}, 400, 'feed_bad_wait'],
      ['/api/rooms/arena/chat?wait=soon', {}, 400, 'feed_bad_wait'],
      ['/api/rooms/arena/chat?wait=1&wait=2', {}, 400, 'feed_bad_wait'],
      ['/api/rooms/nowhere/chat/stream', {}, 404, 'feed_unknown_room'],
      ['/api/rooms/nowhere/chat', {}, 404, 'feed_unknown_room'],
      ['/api/rooms/bad%20room/chat', {}, 400, 'feed_bad_room_id'],
      [`/api/rooms/${'x'.repeat(65)}/chat/stream`, {}, 400, 'feed_bad_room_id'],
    ];
    for (const [path, headers, status, reason] of cases) {
      const before = await fx.refusals(reason);
      const r = await fx.json(path, headers);
      expect([path, r.status]).toEqual([path, status]);
      expect(r.body.reason).toBe(reason);
      expect(typeof r.body.error).toBe('string');
      expect(await fx.refusals(reason)).toBe(before + 1);
    }
    // The bystander kept its stream and still gets lines.
    fx.announce('arena', 1);
    await bystander.until(() => bystander.lastEventId === '4');
    expect(bystander.ended).toBe(false);
    expect(fx.server.feeds!.openCount).toBe(1);
  });
});
