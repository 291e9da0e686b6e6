/**
 * The cluster's blocks on a real Redis Cluster (three masters made by `redis-cli --cluster
 * create`): every multi-key script and every sharded channel must stay inside one hash slot, or
 * Redis answers CROSSSLOT. This is what the `{room:<id>}` and `{cluster}` hash tags are for.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ChatMessage } from '../../../server/chat/types.js';
import { RedisChatFanout } from '../../../server/cluster/chat-fanout.js';
import { CheckpointStore } from '../../../server/cluster/checkpoint-store.js';
import { ClusterNode } from '../../../server/cluster/cluster-node.js';
import { ClusterKeys } from '../../../server/cluster/keys.js';
import { LeaseManager, type RoomLease } from '../../../server/cluster/lease.js';
import { LuaScript, RedisReplyError, connectRedis, type ClusterRedis } from '../../../server/cluster/redis.js';
import { checkpoint } from './checkpoint-fixtures.js';
import { cli, describeWithRedis, startRedisCluster, until, type RedisCluster } from './redis-server.js';

const keys = new ClusterKeys();


describeWithRedis('the cluster blocks on a three-shard Redis Cluster', () => {
  let cluster: RedisCluster;
  const clients: ClusterRedis[] = [];
  const managers: LeaseManager[] = [];

  async function client(): Promise<ClusterRedis> {
    const redis = await connectRedis({ url: cluster.url, cluster: true, commandTimeoutMs: 1_000 });
    clients.push(redis);
    return redis;
  }

  async function leases(nodeId: string, redis?: ClusterRedis): Promise<LeaseManager> {
    const manager = new LeaseManager({ redis: redis ?? await client(), keys, nodeId });
    managers.push(manager);
    return manager;
  }

  const slot = async (key: string) => {
    const answer = await cli(cluster.ports[0], 'CLUSTER', 'KEYSLOT', key);
    if (!/^\d+$/.test(answer)) throw new Error(`CLUSTER KEYSLOT answered ${JSON.stringify(answer)}`);
    return Number(answer);
  };
  /** `redis-cli --cluster create` gives three masters the slot thirds 0-5460, 5461-10922, 10923-16383. */
  const shard = async (key: string) => Math.min(2, Math.floor((await slot(key)) / 5461));

  beforeAll(async () => {
    cluster = await startRedisCluster();
    await LeaseManager.declareFresh(await client(), keys);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(managers.map((m) => m.close({ release: false })));
    await Promise.all(clients.map((c) => c.close()));
    await cluster?.stop();
  });

  it('keeps each room\'s keys and channel in one slot, and spreads rooms over the shards', async () => {
    const roomKeys = (room: string) => [keys.lease(room), keys.fence(room), keys.target(room), keys.chat(room), keys.chatMeta(room), keys.chatChannel(room), keys.checkpoint(room)];
    const slotsOfRoom = new Set<number>();
    for (const room of ['arena', 'lobby', 'r-1', 'r-2', 'r-3', 'r-4']) {
      const slots = new Set(await Promise.all(roomKeys(room).map(slot)));
      expect(slots.size).toBe(1);
      slotsOfRoom.add([...slots][0]);
    }
    expect(new Set([...slotsOfRoom].map((s) => Math.min(2, Math.floor(s / 5461)))).size).toBeGreaterThan(1);
    expect(new Set(await Promise.all([keys.nodes, keys.nodeRooms, keys.incarnation].map(slot))).size).toBe(1);
    // The check is live: a script touching two rooms' keys is refused.
    const redis = await client();
    const twoRooms = new LuaScript('test.two-rooms', 2, "return redis.call('GET', KEYS[2])");
    const [a, b] = ['r-1', 'r-2'];
    expect(await slot(keys.lease(a))).not.toBe(await slot(keys.lease(b)));
    await expect(redis.run(twoRooms, [keys.lease(a), keys.lease(b)], [])).rejects.toBeInstanceOf(RedisReplyError);
  });

  it('ownership race: two nodes, 100 rooms at once, one owner per room', async () => {
    const a = await leases('node-a');
    const b = await leases('node-b');
    const rooms = Array.from({ length: 100 }, (_, i) => `cluster-race-${i}`);
    const [ra, rb] = await Promise.all([Promise.all(rooms.map((r) => a.acquire(r))), Promise.all(rooms.map((r) => b.acquire(r)))]);
    for (let i = 0; i < rooms.length; i++) expect(Number(ra[i].ok) + Number(rb[i].ok)).toBe(1);
    const lease = ra.find((r) => r.ok) as { lease: RoomLease } | undefined ?? rb.find((r) => r.ok) as { lease: RoomLease };
    expect(await lease.lease.handover(lease.lease.nodeId === 'node-a' ? 'node-b' : 'node-a')).toBe(true);
  });

  it('chat: stored, fenced and fanned out over sharded pub/sub, in order, on rooms of different shards', async () => {
    const ra = await client();
    const rb = await client();
    const a = await leases('node-a', ra);
    const writer = new RedisChatFanout({ redis: ra, keys });
    const follower = new RedisChatFanout({ redis: rb, keys, positionCheckMs: 200 });
    try {
      expect(new Set(await Promise.all(['r-1', 'r-2', 'r-3'].map((room) => shard(keys.chat(`chat-${room}`))))).size).toBeGreaterThan(1);
      const got = new Map<string, number[]>();
      for (const room of ['r-1', 'r-2', 'r-3']) {
        const r = await a.acquire(`chat-${room}`);
        if (!r.ok) throw new Error(r.reason);
        await writer.openWriter(`chat-${room}`, r.lease);
        got.set(room, []);
        follower.subscribe(`chat-${room}`, (m: ChatMessage) => got.get(room)!.push(m.id));
      }
      await new Promise((r) => setTimeout(r, 200));
      for (let id = 1; id <= 20; id++) {
        for (const room of got.keys()) writer.publish(`chat-${room}`, { id, entityId: 1, name: 'n', text: `${room} ${id}`, t: id });
        await until('writable', () => [...got.keys()].every((room) => writer.writable(`chat-${room}`)));
      }
      await until('all delivered', () => [...got.values()].every((ids) => ids.length === 20));
      for (const ids of got.values()) expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    } finally {
      await writer.close();
      await follower.close();
    }
  });

  it('checkpoints: saved with the newest token, a stale one refused', async () => {
    const redis = await client();
    const a = await leases('node-a', redis);
    const store = new CheckpointStore({ redis, keys });
    const r = await a.acquire('cp-room');
    if (!r.ok) throw new Error(r.reason);
    expect(await store.save(checkpoint({ roomId: 'cp-room', token: r.lease.token }))).toBe('saved');
    expect((await store.load('cp-room'))?.token).toBe(r.lease.token);
    expect(await store.save(checkpoint({ roomId: 'cp-room', token: r.lease.token - 1 }))).toBe('fenced');
  });

  it('registry and routing: two ClusterNodes agree on every room', async () => {
    const start = (nodeId: string) => ClusterNode.start({ redisUrl: cluster.url, nodeId, redis: { cluster: true }, heartbeatMs: 100, nodeTtlMs: 1_000 }, {
      address: { httpUrl: `http://${nodeId}.test`, webSocketUrl: `ws://${nodeId}.test/ws`, webTransportUrl: null, certificateHashes: [] },
      load: () => ({ sessions: 0, roomIds: [] }),
    });
    const n1 = await start('node-1');
    const n2 = await start('node-2');
    try {
      await until('both seen', () => n1.registry.nodes().length === 2 && n2.registry.nodes().length === 2);
      for (let i = 0; i < 10; i++) {
        const room = `routed-${i}`;
        const [x, y] = await Promise.all([n1.router.route(room), n2.router.route(room)]);
        expect(x.kind).toBe('node');
        expect(y).toMatchObject({ kind: 'node', node: { nodeId: (x as { node: { nodeId: string } }).node.nodeId } });
      }
    } finally {
      await n1.stop();
      await n2.stop();
    }
  });
});
