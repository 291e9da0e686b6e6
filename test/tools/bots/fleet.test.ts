/**
 * The bot fleet against the real game server on loopback port 0: light and full bots join
 * (bounded concurrency), move bytes both ways, chat reaches every other bot, failed joins are
 * retried with fresh clients and counted, and close() ends everything without counting errors.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BotFleet } from '../../../tools/bots/fleet.js';
import { NodeWebTransportConstructor, sharedEndpointWebTransport } from '../../../tools/bots/node-webtransport.js';
import { sleep } from '../../../tools/lib/clock.js';
import { seededRandom } from '../../../shared/random.js';
import { closeTestServers, startTestServer } from '../../client/net/helpers/game-server.js';

const fleets: BotFleet[] = [];
afterEach(async () => {
  for (const f of fleets.splice(0)) f.close('test over');
  await closeTestServers();
});

function fleet(o: ConstructorParameters<typeof BotFleet>[0]): BotFleet {
  const f = new BotFleet(o);
  fleets.push(f);
  return f;
}

describe('BotFleet', () => {
  it.each(['websocket', 'webtransport'] as const)('light bots over %s join two at a time and keep sending', async (transport) => {
    const server = await startTestServer();
    const WebTransport = transport === 'webtransport' ? await sharedEndpointWebTransport() : undefined;
    const f = fleet({ url: server.baseUrl, transport, count: 3, kind: 'light', steering: { kind: 'every-input' }, WebTransport, random: seededRandom(3) });
    const joined = await f.join({ timeoutMs: 20_000, concurrency: 2 });
    expect(joined).toMatchObject({ joined: 3, failedAttempts: 0 });
    expect(f.bots.map((b) => b.transport)).toEqual([transport, transport, transport]);
    const t0 = f.totals();
    await sleep(500);
    const t1 = f.totals();
    // Inputs up at 20 Hz and snapshots down at 20 Hz per bot: both grow.
    expect(t1.up).toBeGreaterThan(t0.up);
    expect(t1.down).toBeGreaterThan(t0.down);
    expect(f.connected).toBe(3);
    f.close('done');
    expect(f.errors.count).toBe(0);
  }, 40_000);

  it.each(['light', 'full'] as const)('%s spectator bots watch an open room: no entity, deltas, nothing refused', async (kind) => {
    const server = await startTestServer({ webTransport: null });
    const players = fleet({ url: server.baseUrl, transport: 'websocket', count: 2, kind: 'light', steering: { kind: 'every-input' } });
    await players.join({ timeoutMs: 20_000 });
    const watchers = fleet({ url: server.baseUrl, transport: 'websocket', count: 2, kind, steering: { kind: 'every-input' }, spectate: true });
    expect(await watchers.join({ timeoutMs: 20_000 })).toMatchObject({ joined: 2, failedAttempts: 0 });
    if (kind === 'full') expect(watchers.bots.map((b) => b.entityId)).toEqual([0, 0]);
    const room = server.server.rooms.get('arena')!;
    expect([room.playerCount, room.spectatorCount]).toEqual([2, 2]);
    await sleep(600);
    const views = server.server.sessions.list().filter((v) => v.role === 'spectator');
    expect(views).toHaveLength(2);
    for (const v of views) {
      const st = v.snapshotStats()!;
      // After the first, deltas (over WebSocket a snapshot handed to the socket is a baseline).
      expect(st.encoded + st.shared).toBeGreaterThan(st.full);
    }
    const refused = server.server.metrics.refusals().filter((r) => r.reason.startsWith('spectator_') || r.reason === 'player_spectate');
    expect(refused).toEqual([]);
    expect(watchers.errors.summary()).toEqual([]);
  });

  it('full bots chat: every line reaches every other bot once', async () => {
    const server = await startTestServer();
    const received = new Map<string, number>();
    const f = fleet({
      url: server.baseUrl, transport: 'websocket', count: 3, name: (i) => `chatty${i}`, random: seededRandom(5),
      steering: { kind: 'every-input' },
      onClient: (bot, client) => client.on('chat', (c) => {
        if (c.text.startsWith('t|') && c.entityId !== bot.entityId) received.set(`${c.text}>${bot.index}`, (received.get(`${c.text}>${bot.index}`) ?? 0) + 1);
      }),
    });
    expect((await f.join({ timeoutMs: 20_000 })).joined).toBe(3);
    let sent = 0;
    f.startChat({ firstMs: () => 10, everyMs: [400, 600], line: (bot, n) => (n <= 2 ? (sent++, `t|${bot.index}|${n}`) : null) });
    const until = Date.now() + 10_000;
    while ((sent < 6 || received.size < sent * 2) && Date.now() < until) await sleep(50);
    f.stopChat();
    expect(sent).toBe(6);
    expect(f.bots.map((b) => b.chatLines)).toEqual([2, 2, 2]);
    expect(received.size).toBe(12);
    expect([...received.values()].every((n) => n === 1)).toBe(true);
    expect(f.bots.every((b) => b.client!.stats().snapshotsReceived > 0)).toBe(true);
    f.close('done');
    await sleep(100);
    expect(f.errors.count, JSON.stringify(f.errors.samples)).toBe(0);
  }, 40_000);

  it('retries a failed join with a fresh client and counts every failed attempt', async () => {
    // Nothing listens on port 1: minting the ticket fails at once.
    const f = fleet({ url: 'http://127.0.0.1:1', transport: 'websocket', count: 2, kind: 'light', steering: { kind: 'every-input' } });
    const r = await f.join({ timeoutMs: 10_000, attempts: 2, concurrency: 1 });
    expect(r).toMatchObject({ joined: 0, failedAttempts: 4 });
    expect(f.errors.count).toBe(4);
    expect(f.errors.samples[3]).toMatch(/^bot2: connect attempt 2 failed: /);
  }, 20_000);

  it('refuses options that cannot work', () => {
    expect(() => new BotFleet({ url: 'http://x', transport: 'auto', count: 1, kind: 'light' })).toThrow(RangeError);
    expect(() => new BotFleet({ url: 'http://x', transport: 'websocket', count: 1, kind: 'light', steering: { kind: 'wander', turnEveryMs: [1, 2] } })).toThrow(RangeError);
    expect(() => new BotFleet({ url: 'http://x', transport: 'websocket', count: 0 })).toThrow(RangeError);
    // A full bot over WebTransport needs the constructor; given, it builds.
    expect(new BotFleet({ url: 'http://x', transport: 'webtransport', count: 1, WebTransport: NodeWebTransportConstructor }).bots).toHaveLength(1);
  });
});
