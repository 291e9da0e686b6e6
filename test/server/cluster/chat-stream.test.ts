import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatAuthor, ChatMessage } from '../../../server/chat/types.js';
import {
  CHAT_READ_LIMIT, CHAT_SESSION_TAG_CHARS, ChatStream, chatAuthorKey, decodeChatEntry, decodeChatPayload, encodeChatPayload,
} from '../../../server/cluster/chat-stream.js';
import { U32_MAX } from '../../../shared/limits.js';
import { ClusterKeys } from '../../../server/cluster/keys.js';
import { LeaseManager } from '../../../server/cluster/lease.js';
import { connectRedis, type ClusterRedis } from '../../../server/cluster/redis.js';
import { describeWithRedis, own } from './redis-server.js';
import { useRedisServer } from './fixture.js';

const line = (id: number, text = `line ${id}`): ChatMessage => ({ id, entityId: id % 7, name: `p${id % 3}`, text, t: 1_700_000_000_000 + id });
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => line(from + i));

describe('chat payload and entry codecs', () => {
  it('round-trip and refuse malformed input', () => {
    const payload = { epoch: 'ep1', messages: [line(1), line(2, 'émoji ✓ "quoted"')] };
    expect(decodeChatPayload(encodeChatPayload(payload))).toEqual(payload);
    expect(decodeChatEntry(['3-0', ['e', '4', 'n', 'ann', 'x', 'hi', 't', '12']])).toEqual({ id: 3, entityId: 4, name: 'ann', text: 'hi', t: 12 });
    for (const bad of ['', '{}', '{"ep":"","m":[]}', '{"ep":"e","m":[[0,1,"n","x",1]]}', '{"ep":"e","m":[[1,70000,"n","x",1]]}', '{"ep":"e","m":[[1,1,5,"x",1]]}']) {
      expect(decodeChatPayload(bad)).toBeNull();
    }
    for (const bad of [null, ['3-1', []], ['x-0', []], ['3-0', ['e', 'nan', 'n', 'a', 'x', 'b', 't', '1']], ['3-0', ['e', '1', 'x', 'b', 't', '1']]]) {
      expect(decodeChatEntry(bad)).toBeNull();
    }
  });

  it('never throw on arbitrary input', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.json()), (s) => { decodeChatPayload(s); }), { numRuns: 300 });
    fc.assert(fc.property(fc.anything(), (v) => { decodeChatEntry(v); }), { numRuns: 300 });
  });
});

describeWithRedis('ChatStream against redis-server', () => {
  const fx = useRedisServer();
  let redis: ClusterRedis;
  let leases: LeaseManager;
  let other: LeaseManager;
  const keys = new ClusterKeys();
  let stream: ChatStream;


  beforeAll(async () => {
    redis = await connectRedis({ url: fx.server.url });
    leases = new LeaseManager({ redis, keys, nodeId: 'node-a' });
    other = new LeaseManager({ redis, keys, nodeId: 'node-b' });
    stream = new ChatStream({ redis, keys });
  });

  afterAll(async () => {
    await leases?.close({ release: false });
    await other?.close({ release: false });
    await redis?.close();
  });

  it('stores lines under stream ids equal to chat ids, with an epoch, and reads them back', async () => {
    const lease = await own(leases, 'basic');
    const opened = await stream.open('basic', lease.token, 'epoch-1');
    expect(opened).toEqual({ epoch: 'epoch-1', top: 0, created: true });
    expect(await stream.open('basic', lease.token, 'epoch-other')).toEqual({ epoch: 'epoch-1', top: 0, created: false });
    expect(await stream.append('basic', lease.token, 'epoch-1', lines(1, 3))).toEqual({ ok: true, top: 3 });
    expect(await fx.admin.command('XRANGE', keys.chat('basic'), '-', '+')).toEqual([
      ['1-0', ['e', '1', 'n', 'p1', 'x', 'line 1', 't', String(line(1).t)]],
      ['2-0', ['e', '2', 'n', 'p2', 'x', 'line 2', 't', String(line(2).t)]],
      ['3-0', ['e', '3', 'n', 'p0', 'x', 'line 3', 't', String(line(3).t)]],
    ]);
    expect(await fx.admin.command('HGETALL', keys.chatMeta('basic'))).toEqual(['epoch', 'epoch-1', 'top', '3']);
    expect(Number(await fx.admin.command('PTTL', keys.chat('basic')))).toBeGreaterThan(0);
    expect(Number(await fx.admin.command('PTTL', keys.chatMeta('basic')))).toBeGreaterThan(0);
    expect(await stream.read('basic', 1)).toEqual({ epoch: 'epoch-1', top: 3, messages: lines(2, 3), complete: true });
    expect(await stream.read('basic', 3)).toEqual({ epoch: 'epoch-1', top: 3, messages: [], complete: true });
    expect(await stream.read('nothing-here', 0)).toEqual({ epoch: null, top: 0, messages: [], complete: true });
  });

  it('stores a retried or overlapping batch once, and refuses one that leaves a hole', async () => {
    const lease = await own(leases, 'retry');
    await stream.open('retry', lease.token, 'e');
    expect(await stream.append('retry', lease.token, 'e', lines(1, 5))).toEqual({ ok: true, top: 5 });
    expect(await stream.append('retry', lease.token, 'e', lines(1, 5))).toEqual({ ok: true, top: 5 });
    expect(await stream.append('retry', lease.token, 'e', lines(4, 8))).toEqual({ ok: true, top: 8 });
    expect(await stream.append('retry', lease.token, 'e', lines(10, 11))).toEqual({ ok: false, reason: 'gap', top: 8 });
    expect(await fx.admin.command('XLEN', keys.chat('retry'))).toBe(8);
    expect((await stream.read('retry', 0)).messages.map((m) => m.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    await expect(stream.append('retry', lease.token, 'e', [line(9), line(11)])).rejects.toThrow(RangeError);
  });

  it('refuses a stale owner (fencing) and a writer on another epoch', async () => {
    const first = await own(leases, 'fenced');
    await stream.open('fenced', first.token, 'e1');
    expect(await stream.append('fenced', first.token, 'e1', [line(1)])).toEqual({ ok: true, top: 1 });
    await first.release();
    const r = await other.acquire('fenced');
    if (!r.ok) throw new Error(r.reason);
    expect(await stream.append('fenced', first.token, 'e1', [line(2)])).toEqual({ ok: false, reason: 'fenced' });
    expect(await stream.open('fenced', first.token, 'e9')).toBeNull();
    expect(await stream.append('fenced', r.lease.token, 'e-wrong', [line(2)])).toEqual({ ok: false, reason: 'epoch', current: 'e1' });
    expect(await stream.append('fenced', r.lease.token, 'e1', [line(2)])).toEqual({ ok: true, top: 2 });
    await r.lease.release();
  });

  it('keeps a capped history; reads say when lines are missing', async () => {
    const capped = new ChatStream({ redis, keys, maxLen: 100 });
    const lease = await own(leases, 'capped');
    await capped.open('capped', lease.token, 'e');
    for (let id = 1; id <= 1_100; id += 20) expect((await capped.append('capped', lease.token, 'e', lines(id, id + 19))).ok).toBe(true);
    const length = Number(await fx.admin.command('XLEN', keys.chat('capped')));
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThan(300); // MAXLEN ~ trims whole nodes
    const all = await capped.read('capped', 0);
    expect(all.complete).toBe(false);
    // The newest min(length, CHAT_READ_LIMIT) lines, contiguous up to the top.
    expect(all.messages).toHaveLength(Math.min(length, CHAT_READ_LIMIT));
    expect(all.messages.map((m) => m.id)).toEqual(Array.from({ length: all.messages.length }, (_, i) => 1_101 - all.messages.length + i));
    const recent = await capped.read('capped', 1_090);
    expect(recent).toMatchObject({ complete: true, top: 1_100 });
    expect(recent.messages.map((m) => m.id)).toEqual(Array.from({ length: 10 }, (_, i) => 1_091 + i));
  });

  it('resumes by last id exactly once, in order; a changed epoch restarts from the beginning', async () => {
    const lease = await own(leases, 'resume');
    await stream.open('resume', lease.token, 'e1');
    await stream.append('resume', lease.token, 'e1', lines(1, 10));
    expect((await stream.since('resume', 4, 'e1')).messages.map((m) => m.id)).toEqual([5, 6, 7, 8, 9, 10]);
    expect((await stream.since('resume', 4)).messages.map((m) => m.id)).toEqual([5, 6, 7, 8, 9, 10]);
    // The history is lost (expiry, or Redis lost the keys): the next open starts a new epoch.
    await fx.admin.command('DEL', keys.chat('resume'), keys.chatMeta('resume'));
    expect(await stream.open('resume', lease.token, 'e2', 0)).toEqual({ epoch: 'e2', top: 0, created: true });
    await stream.append('resume', lease.token, 'e2', lines(1, 3));
    const resumed = await stream.since('resume', 8, 'e1');
    expect(resumed.epochChanged).toBe(true);
    expect(resumed.epoch).toBe('e2');
    expect(resumed.messages.map((m) => m.id)).toEqual([1, 2, 3]);
  });

  it('reopening after a loss can continue the ids the owner already handed out', async () => {
    const lease = await own(leases, 'continue');
    await stream.open('continue', lease.token, 'e1');
    await stream.append('continue', lease.token, 'e1', lines(1, 4));
    await fx.admin.command('DEL', keys.chat('continue'), keys.chatMeta('continue'));
    expect(await stream.append('continue', lease.token, 'e1', [line(5)])).toEqual({ ok: false, reason: 'epoch', current: null });
    expect(await stream.open('continue', lease.token, 'e2', 4)).toEqual({ epoch: 'e2', top: 4, created: true });
    expect(await stream.append('continue', lease.token, 'e2', [line(5)])).toEqual({ ok: true, top: 5 });
    expect(await stream.read('continue', 0)).toMatchObject({ epoch: 'e2', top: 5, complete: false, messages: [line(5)] });
  });

  it('stores each numbered line\'s author and seq (not in what clients get) and reads back the highest seq per session after a position', async () => {
    const lease = await own(leases, 'authors');
    await stream.open('authors', lease.token, 'e1');
    // Two sessions of ann (seqs restart per session), one of bob; line 3 has no seq.
    const annOld = 'A'.repeat(43);
    const annNew = 'B'.repeat(43);
    const bob = 'C'.repeat(43);
    const authors = new Map<number, ChatAuthor>([
      [1, { playerId: 'ann', session: annOld, seq: 7 }],
      [2, { playerId: 'bob', session: bob, seq: 1 }],
      [4, { playerId: 'ann', session: annNew, seq: 1 }],
      [5, { playerId: 'bob', session: bob, seq: 2 }],
      [6, { playerId: 'ann', session: annNew, seq: 2 }],
    ]);
    expect(await stream.append('authors', lease.token, 'e1', lines(1, 6), authors)).toEqual({ ok: true, top: 6 });
    const entries = (await fx.admin.command('XRANGE', keys.chat('authors'), '-', '+')) as [string, string[]][];
    expect(entries[0][1]).toEqual(['e', '1', 'n', 'p1', 'x', 'line 1', 't', String(line(1).t), 'p', 'ann', 'k', annOld.slice(0, CHAT_SESSION_TAG_CHARS), 's', '7']);
    expect(entries[2][1]).toEqual(['e', '3', 'n', 'p0', 'x', 'line 3', 't', String(line(3).t)]);
    // Readers of the history see exactly the lines they saw before.
    expect((await stream.read('authors', 0)).messages).toEqual(lines(1, 6));

    const all = await stream.authorSeqs('authors', 0);
    expect(all.epoch).toBe('e1');
    expect(Object.fromEntries(all.seqs)).toEqual({
      [chatAuthorKey('ann', annOld)]: 7, [chatAuthorKey('ann', annNew)]: 2, [chatAuthorKey('bob', bob)]: 2,
    });
    // After a checkpoint at line 4: ann's old session has no line there, the new one its seq 2.
    expect(Object.fromEntries((await stream.authorSeqs('authors', 4)).seqs)).toEqual({ [chatAuthorKey('ann', annNew)]: 2, [chatAuthorKey('bob', bob)]: 2 });
    expect((await stream.authorSeqs('authors', 6)).seqs.size).toBe(0);
    expect(await stream.authorSeqs('no-such-room', 0)).toEqual({ epoch: null, seqs: new Map() });
    expect(stream.badAuthors).toBe(0);
  });

  it('reads lines an older node wrote (no seq: left out) and ignores, and counts, author fields that do not validate', async () => {
    const lease = await own(leases, 'bad-authors');
    await stream.open('bad-authors', lease.token, 'e1');
    const good = 'G'.repeat(CHAT_SESSION_TAG_CHARS);
    const key = keys.chat('bad-authors');
    const xadd = (id: number, ...extra: string[]) => fx.admin.command('XADD', key, `${id}-0`, 'e', '1', 'n', 'ann', 'x', `l${id}`, 't', '1', ...extra);
    await xadd(1); // an older node's line
    await xadd(2, 'p', 'ann', 'k', good, 's', '3');
    await xadd(3, 'p', 'ann', 'k', good, 's', 'abc');
    await xadd(4, 'p', 'ann', 'k', good, 's', String(U32_MAX + 1));
    await xadd(5, 'p', 'ann', 'k', good, 's', '-1');
    await xadd(6, 'p', 'has space', 'k', good, 's', '9');
    await xadd(7, 'p', 'ann', 'k', 'short', 's', '9');
    await xadd(8, 'k', good, 's', '9'); // no player id
    await xadd(9, 'p', 'ann', 'k', good, 's', '2');
    await fx.admin.command('HSET', keys.chatMeta('bad-authors'), 'top', '9');
    const before = stream.badAuthors;
    expect(Object.fromEntries((await stream.authorSeqs('bad-authors', 0)).seqs)).toEqual({ [`ann ${good}`]: 3 });
    expect(stream.badAuthors - before).toBe(6);
    // The history itself is unaffected: every line still reads.
    expect((await stream.read('bad-authors', 0)).messages.map((m) => m.text)).toEqual(['l1', 'l2', 'l3', 'l4', 'l5', 'l6', 'l7', 'l8', 'l9']);
  });
});
