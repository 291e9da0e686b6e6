/**
 * A cluster under stress (docs/cluster.md, "Redis outages: the rule", "Admission"): Redis
 * stopped for 3 s under running rooms, and a reconnect storm after a drain against a node with a
 * small hello admission limit. Real game servers in this process, real redis-server, real
 * GameClients. Bot counts are small here; `npm run bench:cluster` runs the 300-client storm.
 */
import { expect, it } from 'vitest';
import type { GameClient } from '../../client/net/game-client.js';
import type { WelcomeEvent } from '../../client/net/game-client-types.js';
import { ErrorCode } from '../../shared/errors.js';
import type { GameServer, GameServerClusterOptions } from '../../server/index.js';
import { setDrainingSeenBy, useGameCluster } from './cluster/fixture.js';
import { describeWithRedis, until } from './cluster/redis-server.js';

describeWithRedis('a cluster under stress', () => {
  // The production lease (10 s); short heartbeats, and Redis commands that give up quickly.
  const fx = useGameCluster({
    webTransport: false,
    cluster: { heartbeatMs: 200, nodeTtlMs: 1_500, checkpointIntervalMs: 500, redis: { commandTimeoutMs: 300, probeIntervalMs: 100, reconnectMaxMs: 200 } },
  });
  const startNode = (nodeId: string, cluster: Partial<GameServerClusterOptions> = {}) => fx.startNode(nodeId, { cluster });
  const client = (entry: GameServer, playerId: string, room: string): GameClient =>
    fx.client(entry, playerId, room, 'websocket', { reconnect: { baseMs: 100, maxMs: 2_000, maxAttempts: 100 } });
  const redis = { pause: () => fx.redis.server.pause(), resume: () => fx.redis.server.resume() };

  it('Redis stopped for 3 s: rooms tick on and their players keep playing, joins are refused with CLUSTER_UNAVAILABLE, one owner per room afterwards', async () => {
    // The production lease (10 s): a 3 s outage is within what a room rides out (docs/cluster.md).
    const nodes = [await startNode('calm-1'), await startNode('calm-2')];
    await until('both nodes see each other', () => nodes.every((s) => s.cluster!.node.registry.nodes().length === 2));
    const players = [client(nodes[0], 'p1', 'steady-a'), client(nodes[0], 'p2', 'steady-a'), client(nodes[1], 'p3', 'steady-b')];
    const welcomes = await Promise.all(players.map((c) => c.connect()));
    const ownerOf = (room: string) => nodes.filter((s) => s.cluster!.rooms.runsRoom(room));
    const rooms = ['steady-a', 'steady-b'];
    const owners = rooms.map((r) => ownerOf(r));
    expect(owners.map((o) => o.length)).toEqual([1, 1]);
    const ticksBefore = rooms.map((r, i) => owners[i][0].rooms.get(r)!.tick);
    let snapshotsDuring = 0;
    players.forEach((c) => c.on('snapshot', () => { snapshotsDuring++; }));

    redis.pause();
    const pausedAt = Date.now();
    // A new player while Redis is away: refused with CLUSTER_UNAVAILABLE (and a retry time).
    const late = client(nodes[0], 'late', 'steady-a');
    const refusals: number[] = [];
    late.on('reconnecting', (e) => refusals.push(e.code));
    const lateJoin = late.connect();
    await until('the late join is refused', () => refusals.length > 0, 2_500);
    expect(refusals[0]).toBe(ErrorCode.CLUSTER_UNAVAILABLE);
    await new Promise((r) => setTimeout(r, Math.max(0, 3_000 - (Date.now() - pausedAt))));
    // Three seconds in: the rooms still run on their owners, their players still get snapshots.
    rooms.forEach((r, i) => {
      expect(ownerOf(r)).toEqual(owners[i]);
      expect(owners[i][0].rooms.get(r)!.tick).toBeGreaterThan(ticksBefore[i] + 60);
    });
    expect(players.every((c) => c.connected)).toBe(true);
    const during = snapshotsDuring;
    expect(during).toBeGreaterThan(3 * 20);
    expect(late.connected).toBe(false);
    redis.resume();

    // The late player gets in once Redis is back, on the same owner; nobody else took a room.
    const lateWelcome: WelcomeEvent = await lateJoin;
    expect(lateWelcome.nodeId).toBe(owners[0][0].cluster!.nodeId);
    for (const [i, r] of rooms.entries()) {
      expect(ownerOf(r)).toEqual(owners[i]);
      const lease = String(await fx.redis.admin.command('GET', `tw:{room:${r}}:lease`));
      expect(lease.endsWith(`:${owners[i][0].cluster!.nodeId}`)).toBe(true);
    }
    // The players never noticed: same sessions, no reconnects.
    expect(players.map((c) => c.stats().reconnects)).toEqual([0, 0, 0]);
    expect(welcomes.every((w) => w.nodeId !== undefined)).toBe(true);
  }, 60_000);

  it('reconnect storm after a drain: the new owner accepts hellos within its admission limit, and every client is back', async () => {
    const RATE = 10;
    const BURST = 5;
    const BOTS = 40;
    const old = await startNode('storm-old');
    const target = await startNode('storm-new', { admission: { hello: { ratePerSecond: RATE, burst: BURST } } });
    await until('both nodes see each other', () => [old, target].every((s) => s.cluster!.node.registry.nodes().length === 2));
    // The room starts on `old`: `old` picks where it goes from its own copy of the registry, so
    // wait until that copy shows the target draining (without it the room could start there).
    await setDrainingSeenBy(target, true, old);
    const bots = Array.from({ length: BOTS }, (_, i) => client(old, `storm-${i}`, 'stormy'));
    await Promise.all(bots.map((b) => b.connect()));
    await setDrainingSeenBy(target, false, old); // the old node's drain hands the room to the target

    let back = 0;
    // The hellos the new owner admitted, at its own clock: what its token bucket decided on.
    // (Welcome arrival times at the clients are no measure of it: on a loaded machine the
    // welcomes of hellos admitted a second apart can arrive together.)
    const admittedAt: number[] = [];
    const admission = target.cluster!.node.admission;
    const admit = admission.admit.bind(admission);
    admission.admit = (kind, nowMs) => {
      const r = admit(kind, nowMs);
      if (kind === 'hello' && r.ok) admittedAt.push(nowMs);
      return r;
    };
    let busy = 0;
    // Attempts that ended otherwise (a client's own timeout, a reset), by code: on a loaded
    // machine a hello can wait in the new owner's queue past its client's patience, and the
    // refusal then reaches a client that already left.
    const otherEnds: Record<string, number> = {};
    bots.forEach((b) => {
      b.on('welcome', (w) => { if (w.nodeId === 'storm-new') back++; });
      b.on('reconnecting', (e) => {
        if (e.code === ErrorCode.SERVER_BUSY) busy++;
        else if (e.code !== ErrorCode.SERVER_DRAINING) otherEnds[e.code] = (otherEnds[e.code] ?? 0) + 1;
      });
    });
    // Everyone is told to come back within 200 ms: 40 hellos at once against 10/s (burst 5).
    const drained = old.drain({ deadlineMs: 20_000, reconnectJitterMs: 200 });
    // Bounded: 40 hellos at 10/s need about 4 s; the rest is slack for a loaded machine.
    await until('every bot is back on the new owner', () => back === BOTS, 60_000);
    await drained;
    expect(bots.every((b) => b.connected && b.welcome?.nodeId === 'storm-new' && b.welcome.resumed)).toBe(true);
    expect(busy).toBeGreaterThan(0);
    // In any one-second window: at most the burst plus one second's rate (the token bucket).
    expect(admittedAt.length).toBeGreaterThanOrEqual(BOTS);
    for (const t of admittedAt) {
      expect(admittedAt.filter((u) => u >= t && u < t + 1_000).length).toBeLessThanOrEqual(RATE + BURST);
    }
    const stats = target.cluster!.node.admission.stats('hello');
    expect(stats.admitted).toBeGreaterThanOrEqual(BOTS);
    // Every refusal is counted and reaches its client as SERVER_BUSY, unless that client's attempt
    // had already ended otherwise (then it was still counted, once).
    const others = Object.values(otherEnds).reduce((a, b) => a + b, 0);
    expect(stats.refused, JSON.stringify({ busy, otherEnds })).toBeGreaterThanOrEqual(busy);
    expect(stats.refused, JSON.stringify({ busy, otherEnds })).toBeLessThanOrEqual(busy + others);
  }, 120_000);
});
