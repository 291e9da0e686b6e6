import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  LuaScript, RedisReplyError, RedisUnavailableError, connectRedis, parseRedisUrl, type ClusterRedis, type RedisState,
} from '../../../server/cluster/redis.js';
import { describeWithRedis, openAdmin, until } from './redis-server.js';
import { useRedisServer } from './fixture.js';

const echo = new LuaScript('echo', 1, "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])");


describe('parseRedisUrl', () => {
  it('accepts redis, rediss and unix URLs and refuses others', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({ url: 'redis://127.0.0.1:6379' });
    expect(parseRedisUrl('rediss://h:1/2')).toEqual({ url: 'rediss://h:1/2' });
    expect(parseRedisUrl('unix:///tmp/r.sock')).toEqual({ path: '/tmp/r.sock' });
    expect(parseRedisUrl('unix:/tmp/r.sock')).toEqual({ path: '/tmp/r.sock' });
    expect(() => parseRedisUrl('unix://relative')).toThrow(RangeError);
    expect(() => parseRedisUrl('http://x')).toThrow(RangeError);
  });
});

describeWithRedis('ClusterRedis against redis-server', () => {
  const fx = useRedisServer({ fresh: false });
  let redis: ClusterRedis;

  beforeAll(async () => {
    redis = await connectRedis({ url: fx.server.url, commandTimeoutMs: 300, probeIntervalMs: 50, reconnectMaxMs: 100 });
  });

  afterAll(async () => {
    await redis?.close();
  });

  it('runs scripts by SHA and sends the text again after the script cache is flushed', async () => {
    expect(await redis.run(echo, ['a'], ['1'])).toBe('1');
    await fx.admin.command('SCRIPT', 'FLUSH');
    expect(await redis.run(echo, ['a'], ['2'])).toBe('2');
    expect(await redis.get('a')).toBe('2');
    await expect(redis.run(echo, [], [])).rejects.toThrow(RangeError);
  });

  it('reports error replies as RedisReplyError', async () => {
    await fx.admin.command('RPUSH', 'list', 'x');
    await expect(redis.get('list')).rejects.toBeInstanceOf(RedisReplyError);
  });

  it('reads binary values and stream ranges', async () => {
    await fx.admin.command('SET', 'bin', '\u00ff');
    expect(await redis.getBuffer('bin')).toEqual(Buffer.from('\u00ff'));
    await fx.admin.command('XADD', 's', '1-0', 'f', 'a');
    await fx.admin.command('XADD', 's', '2-0', 'f', 'b');
    expect(await redis.xrange('s', '(1-0', '+', 10)).toEqual([['2-0', ['f', 'b']]]);
  });

  it('times out against a paused Redis, goes down, and comes back by itself when it answers', async () => {
    const states: RedisState[] = [];
    const off = redis.onStateChange((s) => states.push(s));
    fx.server.pause();
    try {
      await expect(redis.get('a')).rejects.toBeInstanceOf(RedisUnavailableError);
      expect(redis.state).toBe('down');
    } finally {
      fx.server.resume();
    }
    await until('ready again', () => redis.state === 'ready');
    off();
    expect(states).toEqual(['down', 'ready']);
    expect(await redis.get('a')).toBe('2');
  });

  it('fails at once while disconnected (no offline queue), reconnects after a restart, new epoch', async () => {
    const slow = await connectRedis({ url: fx.server.url, commandTimeoutMs: 20_000, reconnectBaseMs: 500, reconnectMaxMs: 500 });
    try {
      const epoch = slow.connectionEpoch;
      await fx.server.restart();
      await until('down', () => slow.state === 'down');
      const started = Date.now();
      await expect(slow.get('a')).rejects.toBeInstanceOf(RedisUnavailableError);
      // Rejected by the offline check, not by the 20 s command timeout.
      expect(Date.now() - started).toBeLessThan(20_000);
      await until('reconnected', () => slow.state === 'ready', 10_000);
      expect(slow.connectionEpoch).toBe(epoch + 1);
      expect(await slow.get('a')).toBeNull(); // a fresh, empty Redis
      expect(await slow.run(echo, ['b'], ['3'])).toBe('3'); // script cache was empty too
    } finally {
      await slow.close();
    }
    await until('main client back', () => redis.state === 'ready', 10_000);
  });

  it('delivers sharded pub/sub and subscribes again after a reconnect', async () => {
    const got: string[] = [];
    let resubscribed = 0;
    redis.onResubscribed(() => resubscribed++);
    const unsubscribe = await redis.ssubscribe('ch', (m) => got.push(m));
    const other: string[] = [];
    const unsubscribeOther = await redis.ssubscribe('ch', (m) => other.push(m));
    await fx.admin.command('SPUBLISH', 'ch', 'one');
    await until('first message', () => got.length === 1);
    await fx.server.restart();
    await until('resubscribed', () => resubscribed === 1, 10_000);
    const admin2 = await openAdmin(fx.server);
    try {
      await admin2.command('SPUBLISH', 'ch', 'two');
      await until('second message', () => got.length === 2);
      expect(got).toEqual(['one', 'two']);
      await unsubscribe();
      await admin2.command('SPUBLISH', 'ch', 'three');
      await until('the other listener still hears', () => other.length === 3);
      expect(got).toEqual(['one', 'two']);
      await unsubscribeOther();
      expect(await admin2.command('PUBSUB', 'SHARDNUMSUB', 'ch')).toEqual(['ch', 0]);
    } finally {
      await admin2.close();
    }
  });

  it('refuses to start when Redis does not answer within the startup timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickwire-noredis-'));
    try {
      await expect(connectRedis({ url: `unix://${join(dir, 'none.sock')}`, startupTimeoutMs: 300 })).rejects.toBeInstanceOf(RedisUnavailableError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
