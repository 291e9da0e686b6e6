import { afterEach, expect, it } from 'vitest';
import { seededRandom } from '../../../shared/random.js';
import { ClusterNode, type ClusterOptions } from '../../../server/cluster/cluster-node.js';
import type { Route } from '../../../server/cluster/router.js';
import { describeWithRedis, until } from './redis-server.js';
import { useRedisServer } from './fixture.js';

const HASH = 'q'.repeat(43) + '=';


const nodeOf = (route: Route) => (route.kind === 'node' ? route.node.nodeId : `unavailable:${route.reason}`);

describeWithRedis('ClusterNode routing against redis-server', () => {
  const fx = useRedisServer();
  const nodes: ClusterNode[] = [];
  const rooms = new Map<string, string[]>();

  async function start(nodeId: string, extra: Partial<ClusterOptions> = {}): Promise<ClusterNode> {
    rooms.set(nodeId, []);
    const node = await ClusterNode.start({
      redisUrl: fx.server.url, nodeId, lease: { ttlMs: 1_500, renewEveryMs: 500, retryMs: 100 }, nodeTtlMs: 400, heartbeatMs: 100,
      redis: { commandTimeoutMs: 300, probeIntervalMs: 50, reconnectMaxMs: 100 }, ...extra,
    }, {
      address: {
        httpUrl: `http://${nodeId}.test:8080`, webSocketUrl: `ws://${nodeId}.test:8080/ws`,
        webTransportUrl: `https://${nodeId}.test:4433/wt`, certificateHashes: [HASH],
      },
      load: () => ({ sessions: 0, roomIds: rooms.get(nodeId)! }),
      // All nodes share this process: its event-loop load says nothing about any one of them.
      elu: () => 0,
    });
    nodes.push(node);
    return node;
  }


  afterEach(async () => {
    fx.server.resume();
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
  });


  it('3 nodes, 10 rooms, 30 asks at random nodes: every answer names one node, which alone may take the room', async () => {
    const cluster = [await start('node-a'), await start('node-b'), await start('node-c')];
    await until('everyone sees everyone', () => cluster.every((n) => n.registry.nodes().length === 3));
    const random = seededRandom(3);
    const owners = new Map<string, string>();
    for (let r = 0; r < 10; r++) {
      const room = `room-${r}`;
      const asked = Array.from({ length: 3 }, () => cluster[Math.floor(random() * 3)]);
      const answers = await Promise.all(asked.map((n) => n.router.route(room)));
      const named = new Set(answers.map(nodeOf));
      expect(named.size).toBe(1);
      const ownerId = [...named][0];
      expect(ownerId).toMatch(/^node-/);
      const answer = answers[0] as Extract<Route, { kind: 'node' }>;
      expect(answer.node.webTransportUrl).toBe(`https://${ownerId}.test:4433/wt`);
      expect(answer.node.certificateHashes).toEqual([HASH]);
      // A hello at the named node takes the room; a hello anywhere else is sent there.
      const claims = await Promise.all(cluster.map((n) => n.router.claim(room)));
      for (const [i, claim] of claims.entries()) {
        if (cluster[i].nodeId === ownerId) expect(claim).toMatchObject({ kind: 'local', acquired: true });
        else expect(claim).toEqual({ kind: 'elsewhere', nodeId: ownerId });
      }
      rooms.get(ownerId)!.push(room);
      owners.set(room, ownerId);
      const again = await cluster[r % 3].router.route(room);
      expect(again).toMatchObject({ kind: 'node', owned: true, node: { nodeId: ownerId } });
    }
    // Placement spreads new rooms over the idle nodes.
    expect(new Set(owners.values()).size).toBeGreaterThanOrEqual(2);
  });

  it('a draining node takes no new rooms; its own rooms still route to it', async () => {
    const a = await start('node-a');
    const b = await start('node-b');
    await until('both seen', () => a.registry.nodes().length === 2 && b.registry.nodes().length === 2);
    expect(await b.router.route('kept')).toMatchObject({ kind: 'node' });
    const keeper = (await b.router.route('kept')) as Extract<Route, { kind: 'node' }>;
    const owner = keeper.node.nodeId === 'node-a' ? a : b;
    const other = owner === a ? b : a;
    expect(await owner.router.claim('kept')).toMatchObject({ kind: 'local' });
    await owner.setDraining(true);
    await other.registry.list();
    for (let i = 0; i < 10; i++) expect(nodeOf(await other.router.route(`new-${i}`))).toBe(other.nodeId);
    expect(await owner.router.claim('new-x')).toMatchObject({ kind: 'unavailable', reason: 'draining' });
    expect(await other.router.route('kept')).toMatchObject({ kind: 'node', owned: true, node: { nodeId: owner.nodeId, draining: true } });
    expect(await owner.router.claim('kept')).toMatchObject({ kind: 'local', acquired: false });
  });

  it('a crashed node\'s room is placed on a live node once its lease expires, never before', async () => {
    const a = await start('node-a');
    const crashed = await start('node-c');
    await until('both seen', () => a.registry.nodes().length === 2);
    const claim = await crashed.router.claim('orphan');
    expect(claim).toMatchObject({ kind: 'local', acquired: true });
    await crashed.stop({ graceful: false }); // like SIGKILL: lease and record left to expire
    const seen: string[] = [];
    let placedAt = 0;
    await until('placed on a live node', async () => {
      const askedAt = performance.timeOrigin + performance.now();
      const route = await a.router.route('orphan');
      seen.push(nodeOf(route));
      placedAt = askedAt;
      return route.kind === 'node' && route.node.nodeId === 'node-a';
    });
    // While the dead node's lease lived, nobody else was offered the room: first it still
    // looked alive, then unreachable, and only after its last valid instant placed elsewhere.
    const deadLease = (claim as { lease: { validUntil: number } }).lease;
    expect(placedAt).toBeGreaterThanOrEqual(deadLease.validUntil);
    expect(new Set(seen.slice(0, -1))).toEqual(new Set(['node-c', 'unavailable:owner-unreachable']));
    const taken = await a.router.claim('orphan');
    expect(taken).toMatchObject({ kind: 'local', acquired: true });
    expect((taken as { lease: { token: number } }).lease.token).toBeGreaterThan((claim as { lease: { token: number } }).lease.token);
  });

  it('with Redis away, routes and claims say so instead of throwing; healthy() follows', async () => {
    const a = await start('node-a');
    expect(a.healthy()).toBe(true);
    fx.server.pause();
    expect(await a.router.route('anything')).toEqual({ kind: 'unavailable', reason: 'redis', retryAfterMs: 1_000 });
    expect(await a.router.claim('anything')).toEqual({ kind: 'unavailable', reason: 'redis', retryAfterMs: 1_000 });
    expect(a.healthy()).toBe(false);
    fx.server.resume();
    await until('healthy again', () => a.healthy());
    expect(await a.router.route('anything')).toMatchObject({ kind: 'node', node: { nodeId: 'node-a' } });
  });
});
