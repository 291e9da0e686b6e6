/**
 * What every feed stream does, against the real server on loopback: the lobby list and its
 * coalesced changes, the status, heartbeats, the per-address and total limits, a consumer that
 * stops reading (a real socket left unread) dropped while others keep receiving, and drain.
 */
import { describe, expect, it } from 'vitest';
import type { RoomSummary } from '../../../../server/feeds/types.js';
import type { SseConnection } from '../../../../tools/lib/sse-client.js';
import { chatIds, range, useFeedsServer } from './feeds-fixture.js';

const start = useFeedsServer();

/** Applies a rooms stream's events in order: the list it ends up with. */
function roomsOf(s: SseConnection): Map<string, RoomSummary> {
  const rooms = new Map<string, RoomSummary>();
  for (const e of s.events) {
    const d = JSON.parse(e.data);
    if (e.event === 'rooms') {
      rooms.clear();
      for (const r of d.rooms) rooms.set(r.id, r);
    } else if (e.event === 'changes') {
      for (const r of d.upsert) rooms.set(r.id, r);
      for (const id of d.removed) rooms.delete(id);
    }
  }
  return rooms;
}

describe('room list', () => {
  it('JSON and stream: the full list first, then coalesced changes (added, player count, removed)', async () => {
    const fx = await start({ emptyRoomLingerMs: 50, feeds: { limits: { roomsMinIntervalMs: 250 } } });
    await fx.player('alice', 'north');
    const json = await fx.json('/api/rooms');
    expect(json.status).toBe(200);
    const { maxPlayers, maxSpectators } = fx.server.rooms.get('north')!;
    expect(json.body).toEqual({ rooms: [{ id: 'north', players: 1, maxPlayers, spectators: 0, maxSpectators, node: null }] });

    const s = await fx.sse('/api/rooms/stream');
    await s.until(() => s.named('rooms').length === 1);
    expect(s.events[0].event).toBe('rooms');
    expect(JSON.parse(s.events[0].data).rooms.map((r: RoomSummary) => r.id)).toEqual(['north']);

    // A burst: 12 players into a new room and a second one into north, within a few ms.
    const t0 = Date.now();
    const south = await Promise.all(range(1, 12).map((i) => fx.player(`s${i}`, 'south')));
    const bob = await fx.player('bob', 'north');
    await s.until(() => roomsOf(s).get('south')?.players === 12 && roomsOf(s).get('north')?.players === 2, 5_000, 'counts');
    const elapsed = Date.now() - t0;
    // At most one changes event per 250 ms (plus one at the start of the window).
    expect(s.named('changes').length).toBeLessThanOrEqual(Math.floor(elapsed / 250) + 2);

    // Everyone leaves south: it closes and is removed.
    for (const c of south) c.send('leave', {});
    await s.until(() => !roomsOf(s).has('south'), 5_000, 'south removed');
    expect([...roomsOf(s).keys()]).toEqual(['north']);
    expect(roomsOf(s)).toEqual(new Map((await fx.json('/api/rooms')).body.rooms.map((r: RoomSummary) => [r.id, r])));
    bob.send('leave', {});
    await s.until(() => roomsOf(s).get('north')?.players === 1, 5_000, 'north at 1');
  });
});

describe('status', () => {
  it('JSON and a stream once per interval: nodes, rooms, sessions, draining', async () => {
    const fx = await start({ feeds: { limits: { statusIntervalMs: 100 } } });
    await fx.player('alice');
    await fx.player('bob', 'other');
    const json = await fx.json('/api/status');
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({
      nodes: [{ id: 'local', draining: false, rooms: 2, sessions: 2, spectators: 0, feeds: 0 }],
      rooms: 2, sessions: 2, spectators: 0, draining: false,
    });
    const s = await fx.sse('/api/status/stream');
    await s.until(() => s.named('status').length >= 4, 5_000, 'four status events');
    const last = JSON.parse(s.named('status').at(-1)!.data);
    expect(last).toMatchObject({ rooms: 2, sessions: 2, draining: false, nodes: [{ feeds: 1 }] });
    const times = s.named('status').map((e) => JSON.parse(e.data).t as number);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(90);
  });
});

describe('every stream', () => {
  it('sends a heartbeat comment when idle', async () => {
    const fx = await start({ feeds: { limits: { heartbeatMs: 200 } } });
    await fx.player('alice');
    const s = await fx.sse('/api/rooms/arena/chat/stream');
    await s.until(() => s.parser.comments >= 3, 5_000, 'three heartbeats');
    expect(s.ended).toBe(false);
  });

  it('limits streams per client address (429) and in total (503); long polls count too', async () => {
    const fx = await start({ feeds: { limits: { maxStreamsPerAddress: 3, maxStreams: 1000 } } });
    await fx.player('alice');
    const a = await fx.sse('/api/rooms/stream');
    const b = await fx.sse('/api/status/stream');
    const poll = fx.json('/api/rooms/arena/chat?after=0&wait=5');
    await new Promise((r) => setTimeout(r, 100));
    const refused = await fx.sse('/api/rooms/arena/chat/stream');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(refused.body).reason).toBe('feed_too_many_streams_address');
    expect((await fx.json('/api/rooms/arena/chat?after=0&wait=1')).status).toBe(429);
    expect(await fx.refusals('feed_too_many_streams_address')).toBe(2);
    // Plain JSON is not a stream and is never refused for this.
    expect((await fx.json('/api/rooms')).status).toBe(200);
    // The poll ends (a line), its slot is free again.
    fx.announce('arena', 1);
    expect((await poll).status).toBe(200);
    const c = await fx.sse('/api/rooms/arena/chat/stream');
    expect(c.status).toBe(200);
    expect(a.ended || b.ended).toBe(false);
  });

  it('limits the total', async () => {
    const fx = await start({ feeds: { limits: { maxStreamsPerAddress: 10, maxStreams: 2 } } });
    await fx.sse('/api/rooms/stream');
    await fx.sse('/api/status/stream');
    const refused = await fx.sse('/api/rooms/stream');
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).reason).toBe('feed_too_many_streams');
    expect(await fx.refusals('feed_too_many_streams')).toBe(1);
  });

  it('drops a consumer that stops reading (real socket), counts it, keeps memory bounded, others keep receiving', async () => {
    const limit = 64 * 1024;
    const fx = await start({ feeds: { limits: { sendBufferBytes: limit } } });
    await fx.player('alice');
    const fast = await fx.sse('/api/rooms/arena/chat/stream?after=0');
    const slow = await fx.sse('/api/rooms/arena/chat/stream?after=0');
    await slow.until(() => slow.named('ready').length === 1);
    slow.pause();
    const text = (i: number) => `${i} ${'x'.repeat(900)}`;
    let posted = 0;
    // Ten lines at a time, so the fast reader (in this same process) gets to read between them.
    // Bounded: at most 60,000 lines (about 57 MB through the fast reader), stop once dropped.
    while (fx.server.feeds!.slowConsumers === 0 && posted < 60_000) {
      fx.announce('arena', 10, (i) => text(posted + i));
      posted += 10;
      await new Promise((r) => setImmediate(r));
      if (posted % 500 === 0) await fast.until(() => Number(fast.lastEventId) >= posted - 500, 10_000, 'fast reader keeping up');
    }
    expect(fx.server.feeds!.slowConsumers).toBe(1);
    expect(await fx.refusals('feed_slow_consumer')).toBe(1);
    expect(fx.server.feeds!.peakBufferedBytes()).toBeLessThanOrEqual(limit);
    // The fast reader got every line, exactly once, in order.
    fx.announce('arena', 1);
    posted++;
    await fast.until(() => Number(fast.lastEventId) === posted, 10_000, 'every line');
    expect(chatIds(fast)).toEqual(range(1, posted));
    expect(fast.ended).toBe(false);
    // The slow one, once it reads again, finds its connection cut (no clean end), and can resume.
    slow.resume();
    await slow.until(() => slow.ended, 10_000, 'slow consumer cut');
    const resumed = await fx.sse('/api/rooms/arena/chat/stream', { lastEventId: slow.lastEventId });
    await resumed.until(() => resumed.named('ready').length === 1);
    expect(resumed.status).toBe(200);
    expect([...chatIds(slow), ...chatIds(resumed)]).toEqual(range(1, posted));
  }, 60_000);

  it('on drain: every stream gets a drain event with a jittered retry and ends; polls and new requests get 503', async () => {
    const fx = await start({ feeds: { limits: { retryBaseMs: 1000, retryJitterMs: 4000 } } });
    await fx.player('alice'); // stays, so drain waits for its deadline
    const streams = [
      await fx.sse('/api/rooms/stream'),
      await fx.sse('/api/status/stream'),
      await fx.sse('/api/rooms/arena/chat/stream'),
    ];
    for (const s of streams) await s.until(() => s.events.length > 0);
    const poll = fx.json('/api/rooms/arena/chat?wait=20&after=0');
    await new Promise((r) => setTimeout(r, 100));
    const drained = fx.server.drain({ deadlineMs: 1_500, reconnectJitterMs: 3_000 });
    for (const s of streams) {
      await s.until(() => s.ended, 5_000, 'stream end');
      const d = s.named('drain');
      expect(d).toHaveLength(1);
      const retry = JSON.parse(d[0].data).retryMs;
      expect(s.parser.retryMs).toBe(retry);
      expect(retry).toBeGreaterThanOrEqual(1000);
      expect(retry).toBeLessThanOrEqual(4000);
    }
    const p = await poll;
    expect(p.status).toBe(503);
    expect(p.headers.get('retry-after')).toMatch(/^\d+$/);
    const late = await fx.sse('/api/rooms/stream');
    expect(late.status).toBe(503);
    expect(late.headers['retry-after']).toMatch(/^\d+$/);
    expect((await fx.json('/api/rooms/arena/chat')).status).toBe(503);
    expect(await fx.refusals('feed_draining')).toBe(3);
    await drained;
  });
});
