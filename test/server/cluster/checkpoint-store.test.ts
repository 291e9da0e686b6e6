import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { CheckpointStore, RoomCheckpointer } from '../../../server/cluster/checkpoint-store.js';
import { encodeCheckpoint } from '../../../server/cluster/checkpoint.js';
import { ClusterKeys } from '../../../server/cluster/keys.js';
import { LeaseManager } from '../../../server/cluster/lease.js';
import { connectRedis, type ClusterRedis } from '../../../server/cluster/redis.js';
import { checkpoint } from './checkpoint-fixtures.js';
import { describeWithRedis, own, until } from './redis-server.js';
import { useRedisServer } from './fixture.js';


describeWithRedis('checkpoints against redis-server', () => {
  const fx = useRedisServer();
  let redis: ClusterRedis;
  let a: LeaseManager;
  let b: LeaseManager;
  let store: CheckpointStore;
  const keys = new ClusterKeys();
  const checkpointers: RoomCheckpointer[] = [];


  beforeAll(async () => {
    redis = await connectRedis({ url: fx.server.url, commandTimeoutMs: 300, probeIntervalMs: 50 });
    a = new LeaseManager({ redis, keys, nodeId: 'node-a' });
    b = new LeaseManager({ redis, keys, nodeId: 'node-b' });
    store = new CheckpointStore({ redis, keys });
  });

  afterEach(() => {
    fx.server.resume();
    for (const c of checkpointers.splice(0)) c.stop();
  });

  afterAll(async () => {
    await a?.close({ release: false });
    await b?.close({ release: false });
    await redis?.close();
  });

  it('saves with the newest token, loads it back, refuses a stale owner', async () => {
    const lease = await own(a, 'arena');
    const mine = checkpoint({ token: lease.token });
    expect(await store.save(mine)).toBe('saved');
    expect(await store.load('arena')).toEqual(mine);
    expect(Number(await fx.admin.command('PTTL', keys.checkpoint('arena')))).toBeGreaterThan(0);
    expect(await store.load('empty-room')).toBeNull();
    // The room moves on: the old owner's late write must not overwrite the new owner's state.
    await fx.admin.command('DEL', keys.lease('arena'));
    const next = await own(b, 'arena');
    expect(await store.save(checkpoint({ token: lease.token, tick: 1 }))).toBe('fenced');
    expect(await store.load('arena')).toEqual(mine);
    expect(await store.discard('arena', lease.token)).toBe('fenced');
    expect(await store.discard('arena', next.token)).toBe('discarded');
    expect(await store.load('arena')).toBeNull();
  });

  it('treats a checkpoint that does not decode, or names another room, as missing', async () => {
    await fx.admin.command('SET', keys.checkpoint('junk'), 'not msgpack at all \u0000\u00ff');
    expect(await store.load('junk')).toBeNull();
    await fx.admin.command('SET', keys.checkpoint('elsewhere'), encodeCheckpoint(checkpoint({ roomId: 'arena' })));
    await fx.admin.command('SET', keys.checkpoint('good'), encodeCheckpoint(checkpoint({ roomId: 'good' })));
    expect((await store.load('good'))?.roomId).toBe('good'); // binary-safe through Redis
    const before = store.malformed;
    expect(await store.load('elsewhere')).toBeNull();
    expect(store.malformed).toBe(before + 1);
  });

  it('refuses a checkpoint over the size limit before sending it', async () => {
    const small = new CheckpointStore({ redis, keys, maxBytes: 500 });
    const lease = await own(a, 'big');
    await expect(small.save(checkpoint({ roomId: 'big', token: lease.token, state: 'x'.repeat(1_000) }))).rejects.toThrow(RangeError);
  });

  it('checkpoints a running room periodically and stops when fenced', async () => {
    const lease = await own(a, 'periodic');
    let tick = 0;
    const checkpointer = new RoomCheckpointer({
      store, lease, intervalMs: 50,
      capture: () => checkpoint({ roomId: 'periodic', token: 1, tick: ++tick, savedAt: tick }),
    });
    checkpointers.push(checkpointer);
    checkpointer.start();
    await until('three saves', () => checkpointer.stats.saved >= 3);
    const latest = await store.load('periodic');
    expect(latest?.token).toBe(lease.token); // stamped with the lease's token, not the capture's
    expect(latest?.tick).toBeGreaterThanOrEqual(3);
    // Redis away: counted, and the room keeps going; then it answers again.
    fx.server.pause();
    await until('an unavailable write', () => checkpointer.stats.unavailable >= 1);
    fx.server.resume();
    const saved = checkpointer.stats.saved;
    await until('saving again', () => checkpointer.stats.saved > saved);
    // Another node takes the room: the next write is refused and ends this node's lease.
    await fx.admin.command('DEL', keys.lease('periodic'));
    await own(b, 'periodic');
    await until('lease lost', () => lease.lost !== null);
    expect(lease.lost).toBe('fenced');
    const afterFence = checkpointer.stats.saved;
    await new Promise((r) => setTimeout(r, 200));
    expect(checkpointer.stats.saved).toBe(afterFence);
    expect(await checkpointer.saveNow()).toBe('not-owner');
  });

  it('takes the final checkpoint of a handoff after the periodic ones', async () => {
    const lease = await own(a, 'handoff');
    let tick = 0;
    const checkpointer = new RoomCheckpointer({ store, lease, intervalMs: 20, capture: () => checkpoint({ roomId: 'handoff', tick: ++tick }) });
    checkpointers.push(checkpointer);
    checkpointer.start();
    await until('a save', () => checkpointer.stats.saved >= 1);
    checkpointer.stop();
    expect(await checkpointer.saveNow()).toBe('saved');
    const final = tick;
    expect(await lease.handover('node-b')).toBe(true);
    const taken = await own(b, 'handoff');
    expect(taken.token).toBeGreaterThan(lease.token);
    expect((await store.load('handoff'))?.tick).toBe(final);
  });

  it('a capture that throws is counted and the room keeps its lease', async () => {
    const lease = await own(a, 'throws');
    const checkpointer = new RoomCheckpointer({ store, lease, capture: () => { throw new Error('serialize hook failed'); } });
    expect(await checkpointer.saveNow()).toBe('invalid');
    expect(checkpointer.stats.failed).toBe(1);
    expect(lease.valid()).toBe(true);
  });
});
