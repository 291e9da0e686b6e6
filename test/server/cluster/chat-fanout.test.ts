import { dirname } from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { ChatRoom } from '../../../server/chat/chat-room.js';
import type { ChatMessage } from '../../../server/chat/types.js';
import { CHAT_OUTBOX_LIMIT, RedisChatFanout, type ChatWriterLostReason } from '../../../server/cluster/chat-fanout.js';
import { ClusterKeys } from '../../../server/cluster/keys.js';
import { LeaseManager } from '../../../server/cluster/lease.js';
import { connectRedis, type ClusterRedis } from '../../../server/cluster/redis.js';
import { describeWithRedis, own, until } from './redis-server.js';
import { useRedisServer } from './fixture.js';
import { startSocketProxy, type SocketProxy } from './socket-proxy.js';

const line = (id: number): ChatMessage => ({ id, entityId: 1, name: 'ann', text: `line ${id}`, t: 1_000 + id });
const ids = (messages: ChatMessage[]) => messages.map((m) => m.id);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);


describeWithRedis('RedisChatFanout against redis-server', () => {
  const fx = useRedisServer();
  const keys = new ClusterKeys();
  const clients: ClusterRedis[] = [];
  const fanouts: RedisChatFanout[] = [];
  const managers: LeaseManager[] = [];
  let proxy: SocketProxy | null = null;

  async function client(url = fx.server.url): Promise<ClusterRedis> {
    const redis = await connectRedis({ url, commandTimeoutMs: 300, reconnectMaxMs: 100, probeIntervalMs: 50 });
    clients.push(redis);
    return redis;
  }

  /** One node: its own connection, lease manager and fan-out. */
  async function node(nodeId: string, url?: string, onWriterLost?: (room: string, reason: ChatWriterLostReason) => void) {
    const redis = await client(url);
    const leases = new LeaseManager({ redis, keys, nodeId });
    managers.push(leases);
    const fanout = new RedisChatFanout({ redis, keys, onWriterLost, positionCheckMs: 200 });
    fanouts.push(fanout);
    return { redis, leases, fanout };
  }



  afterEach(async () => {
    fx.server.resume();
    await Promise.all(fanouts.splice(0).map((f) => f.close()));
    await Promise.all(managers.splice(0).map((m) => m.close()));
    await proxy?.close();
    proxy = null;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
  });

  it('delivers every line once, in order, on the owner and on another node', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const lease = await own(a.leases, 'room-1');
    expect(await a.fanout.openWriter('room-1', lease)).toMatchObject({ top: 0 });
    const onA: ChatMessage[] = [];
    const onB: ChatMessage[] = [];
    a.fanout.subscribe('room-1', (m) => onA.push(m));
    b.fanout.subscribe('room-1', (m) => onB.push(m));
    await until('b knows its position', () => b.fanout.stats.delivered === 0 && b.redis.state === 'ready');
    await new Promise((r) => setTimeout(r, 50));
    // The game's own ChatRoom assigns the ids and publishes through the fan-out.
    // Bursts as fast as the outbox takes them (a room posts only while writable()).
    const chat = new ChatRoom({ roomId: 'room-1', fanout: a.fanout, burst: 1_000, refillPerSecond: 1_000 });
    for (let i = 0; i < 200; i++) {
      await until('writable', () => a.fanout.writable('room-1'));
      expect(chat.submit({ playerId: 'p', entityId: 1, name: 'ann' }, `hello ${i}`, 1_000).ok).toBe(true);
    }
    await until('both have 200 lines', () => onA.length === 200 && onB.length === 200);
    expect(a.fanout.stats.dropped).toEqual({ overflow: 0, no_writer: 0, out_of_order: 0, writer_lost: 0 });
    await new Promise((r) => setTimeout(r, 300));
    expect(ids(onA)).toEqual(range(1, 200));
    expect(ids(onB)).toEqual(range(1, 200));
    expect(onB.map((m) => m.text)).toEqual(Array.from({ length: 200 }, (_, i) => `hello ${i}`));
    expect(a.fanout.stats.appendCalls).toBeLessThan(200); // batched while one append was in flight
    expect(await fx.admin.command('XLEN', keys.chat('room-1'))).toBe(200);
  });

  it('shows a line only once Redis stored it; queues a bounded outbox meanwhile', async () => {
    const lost: string[] = [];
    const a = await node('node-a', undefined, (room, reason) => lost.push(`${room}:${reason}`));
    const lease = await own(a.leases, 'room-2');
    await a.fanout.openWriter('room-2', lease);
    const seen: ChatMessage[] = [];
    a.fanout.subscribe('room-2', (m) => seen.push(m));
    a.fanout.publish('room-2', line(1));
    await until('first line', () => seen.length === 1);
    fx.server.pause();
    a.fanout.publish('room-2', line(2));
    await until('redis seen down', () => a.redis.state === 'down');
    expect(a.fanout.writable('room-2')).toBe(false);
    for (let id = 3; id <= CHAT_OUTBOX_LIMIT + 5; id++) a.fanout.publish('room-2', line(id));
    await new Promise((r) => setTimeout(r, 300));
    expect(ids(seen)).toEqual([1]);
    expect(a.fanout.stats.dropped.overflow).toBe(4); // the outbox holds 2..65
    expect(lost).toEqual([]);
    fx.server.resume();
    // What was queued is stored and shown; then the writer ends ('overflow': its ids have a hole).
    await until('outbox stored', () => seen.length === CHAT_OUTBOX_LIMIT + 1);
    expect(ids(seen)).toEqual(range(1, CHAT_OUTBOX_LIMIT + 1));
    await until('writer ended', () => lost.length === 1);
    expect(lost).toEqual(['room-2:overflow']);
    expect(await fx.admin.command('XLEN', keys.chat('room-2'))).toBe(CHAT_OUTBOX_LIMIT + 1);
    expect(a.fanout.stats.appendRetries).toBeGreaterThan(0);
    // Reopening continues after the stored top.
    expect(await a.fanout.openWriter('room-2', lease)).toMatchObject({ top: CHAT_OUTBOX_LIMIT + 1 });
    expect(a.fanout.writable('room-2')).toBe(true);
  });

  it('a fenced writer stores nothing more, shows nothing more, and says so', async () => {
    const lost: string[] = [];
    const a = await node('node-a', undefined, (room, reason) => lost.push(`${room}:${reason}`));
    const b = await node('node-b');
    const lease = await own(a.leases, 'room-3');
    await a.fanout.openWriter('room-3', lease);
    const seen: ChatMessage[] = [];
    a.fanout.subscribe('room-3', (m) => seen.push(m));
    a.fanout.publish('room-3', line(1));
    await until('first line', () => seen.length === 1);
    // Another node takes the room (e.g. this one's lease lapsed unseen): its token is newer.
    await fx.admin.command('DEL', keys.lease('room-3'));
    await own(b.leases, 'room-3');
    a.fanout.publish('room-3', line(2));
    await until('writer lost', () => lost.length === 1);
    expect(lost).toEqual(['room-3:fenced']);
    expect(ids(seen)).toEqual([1]);
    expect(a.fanout.writable('room-3')).toBe(false);
    expect(await fx.admin.command('XLEN', keys.chat('room-3'))).toBe(1);
  });

  it('a node that missed pub/sub messages catches up from the stream, once and in order', async () => {
    proxy = await startSocketProxy(fx.server.socketPath, dirname(fx.server.socketPath), 'follower');
    const a = await node('node-a');
    const b = await node('node-b', proxy.url);
    const lease = await own(a.leases, 'room-4');
    await a.fanout.openWriter('room-4', lease);
    const onB: ChatMessage[] = [];
    b.fanout.subscribe('room-4', (m) => onB.push(m));
    await new Promise((r) => setTimeout(r, 100));
    for (let id = 1; id <= 5; id++) a.fanout.publish('room-4', line(id));
    await until('b got 5', () => onB.length === 5);
    proxy.cut(); // b's connections drop: what is published now never reaches its subscriber
    for (let id = 6; id <= 40; id++) a.fanout.publish('room-4', line(id));
    await until('b caught up', () => onB.length === 40);
    for (let id = 41; id <= 45; id++) a.fanout.publish('room-4', line(id));
    await until('b live again', () => onB.length === 45);
    await new Promise((r) => setTimeout(r, 300));
    expect(ids(onB)).toEqual(range(1, 45));
    expect(b.fanout.stats.filled).toBeGreaterThan(0);
  });

  it('follows from a last id: the missed lines first, then live, none twice', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const lease = await own(a.leases, 'room-5');
    const position = await a.fanout.openWriter('room-5', lease);
    for (let id = 1; id <= 30; id++) a.fanout.publish('room-5', line(id));
    await until('stored', () => a.fanout.writerPosition('room-5')?.top === 30);
    const onB: ChatMessage[] = [];
    b.fanout.follow('room-5', { epoch: position!.epoch, afterId: 12 }, (m) => onB.push(m));
    for (let id = 31; id <= 35; id++) a.fanout.publish('room-5', line(id));
    await until('b has 13..35', () => onB.length === 23);
    await new Promise((r) => setTimeout(r, 300));
    expect(ids(onB)).toEqual(range(13, 35));
  });

  it('a lost history gets a new epoch that continues the ids; followers are told', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const lease = await own(a.leases, 'room-6');
    const first = await a.fanout.openWriter('room-6', lease);
    const onB: ChatMessage[] = [];
    const resets: string[] = [];
    b.fanout.follow('room-6', { epoch: first!.epoch, afterId: 0 }, (m) => onB.push(m), (epoch) => resets.push(epoch));
    for (let id = 1; id <= 3; id++) a.fanout.publish('room-6', line(id));
    await until('b got 3', () => onB.length === 3);
    await fx.admin.command('DEL', keys.chat('room-6'), keys.chatMeta('room-6'));
    for (let id = 4; id <= 6; id++) a.fanout.publish('room-6', line(id));
    await until('b got 6', () => onB.length === 6);
    expect(ids(onB)).toEqual(range(1, 6));
    expect(a.fanout.stats.reopened).toBe(1);
    const second = a.fanout.writerPosition('room-6')!;
    expect(second.epoch).not.toBe(first!.epoch);
    expect(resets).toEqual([second.epoch]);
    expect(await fx.admin.command('HGET', keys.chatMeta('room-6'), 'epoch')).toBe(second.epoch);
  });

  it('refuses lines out of sequence and lines for rooms it does not write', async () => {
    const a = await node('node-a');
    const lease = await own(a.leases, 'room-7');
    await a.fanout.openWriter('room-7', lease);
    a.fanout.publish('room-7', line(2));
    a.fanout.publish('room-8', line(1));
    expect(a.fanout.stats.dropped).toMatchObject({ out_of_order: 1, no_writer: 1 });
    expect(a.fanout.writable('room-8')).toBe(false);
  });
});
