import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemScheduler } from '../../../server/clock.js';
import { ClusterKeys } from '../../../server/cluster/keys.js';
import { LeaseManager, type AcquireResult, type LeaseLostReason, type RoomLease } from '../../../server/cluster/lease.js';
import {
  LEASE_TTL_MS, leaseDeadline, leaseTiming, outageToleranceMs, validFor, type LeaseTiming,
} from '../../../server/cluster/lease-timing.js';
import { connectRedis, type ClusterRedis } from '../../../server/cluster/redis.js';
import { describeWithRedis, until } from './redis-server.js';
import { useRedisServer } from './fixture.js';
import { startSocketProxy, type SocketProxy } from './socket-proxy.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');

/** Short leases so the tests take seconds: validFor = 1500 * 0.99 - 100 = 1385 ms. */
const FAST: Partial<LeaseTiming> = { ttlMs: 1_500, renewEveryMs: 500, retryMs: 100, marginMs: 100 };
/** Command timeout of the test clients: well inside one renewal period. */
const COMMAND_TIMEOUT_MS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => systemScheduler.now();


function leaseOf(result: AcquireResult): RoomLease {
  if (!result.ok) throw new Error(`expected a lease, got ${result.reason}`);
  return result.lease;
}

describe('lease timing', () => {
  it('stops a lease ttl*(1-drift)-margin after the renewal was sent', () => {
    const timing = leaseTiming();
    expect(timing.ttlMs).toBe(LEASE_TTL_MS);
    expect(validFor(timing)).toBe(9_800);
    expect(leaseDeadline(1_000, timing)).toBe(10_800);
    expect(timing.renewEveryMs).toBe(3_333);
  });

  it('rides out a 3 s Redis outage with the default lease in the worst case', () => {
    const { worst, best } = outageToleranceMs(leaseTiming());
    expect(worst).toBeGreaterThan(3_000);
    expect(worst).toBe(9_800 - 3_333);
    expect(best).toBe(9_800);
  });

  it('refuses timings that leave no room for a retry before the deadline', () => {
    expect(() => leaseTiming({ ttlMs: 300 })).toThrow(RangeError);
    expect(() => leaseTiming({ ttlMs: 1_500, renewEveryMs: 1_300 })).toThrow(RangeError);
    expect(() => leaseTiming({ driftBound: 0.6 })).toThrow(RangeError);
    expect(leaseTiming(FAST).renewEveryMs).toBe(500);
  });
});

describeWithRedis('room leases against redis-server', () => {
  const fx = useRedisServer({ fresh: false });
  const keys = new ClusterKeys();
  const opened: ClusterRedis[] = [];
  const managers: LeaseManager[] = [];
  let proxyDir: string;

  async function client(url = fx.server.url): Promise<ClusterRedis> {
    const redis = await connectRedis({ url, commandTimeoutMs: COMMAND_TIMEOUT_MS, reconnectMaxMs: 100, probeIntervalMs: 50 });
    opened.push(redis);
    return redis;
  }

  async function node(nodeId: string, timing: Partial<LeaseTiming> = FAST, url?: string): Promise<LeaseManager> {
    const manager = new LeaseManager({ redis: await client(url), keys, nodeId, timing });
    managers.push(manager);
    return manager;
  }

  beforeAll(async () => {
    proxyDir = dirname(fx.server.socketPath);
    const redis = await client();
    expect(await LeaseManager.declareFresh(redis, keys)).toBe(true);
    expect(await LeaseManager.declareFresh(redis, keys)).toBe(false);
  });

  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.close({ release: false })));
  });

  afterAll(async () => {
    await Promise.all(opened.map((r) => r.close()));
  });

  it('race: two nodes, 100 concurrent acquisitions, exactly one owner each time', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const wins = { 'node-a': 0, 'node-b': 0 };
    for (let round = 0; round < 100; round++) {
      const room = `race-${round}`;
      const [ra, rb] = await Promise.all([a.acquire(room), b.acquire(room)]);
      expect(Number(ra.ok) + Number(rb.ok)).toBe(1);
      const [winner, loser] = ra.ok ? [ra, rb] : [rb, ra];
      const lease = leaseOf(winner);
      wins[lease.nodeId as 'node-a' | 'node-b']++;
      expect(loser).toEqual({ ok: false, reason: 'held', owner: { nodeId: lease.nodeId, token: lease.token } });
      expect(await fx.admin.command('GET', keys.lease(room))).toBe(`${lease.token}:${lease.nodeId}`);
    }
    expect(wins['node-a'] + wins['node-b']).toBe(100);
  });

  it('race on one room, 100 rounds of acquire-both/release-winner: one owner per round, tokens strictly increase', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    let lastToken = 0;
    for (let round = 0; round < 100; round++) {
      const results = await Promise.all([a.acquire('contended'), b.acquire('contended')]);
      const winners = results.filter((r) => r.ok);
      expect(winners).toHaveLength(1);
      const lease = leaseOf(winners[0]);
      expect(lease.token).toBeGreaterThan(lastToken);
      lastToken = lease.token;
      expect(await lease.release()).toBe(true);
    }
    expect(Number(await fx.admin.command('GET', keys.fence('contended')))).toBe(lastToken);
  });

  it('race between two processes: 100 rooms acquired at once by both, one owner per room', async () => {
    const a = await node('node-a');
    const rooms = Array.from({ length: 100 }, (_, i) => `xproc-${i}`);
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'lease-race-child.ts'), fx.server.url, 'node-b'], {
      cwd: root, stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const next = async () => {
        const line = await Promise.race([lines.next(), sleep(30_000).then(() => ({ done: true, value: '' }))]);
        if (line.done) throw new Error('child gave no answer');
        return line.value as string;
      };
      expect(await next()).toBe('ready');
      child.stdin!.write(`${JSON.stringify(rooms)}\n`);
      const ours = await Promise.all(rooms.map((room) => a.acquire(room)));
      const theirs = JSON.parse(await next()) as Array<{ ok: boolean; token?: number }>;
      for (let i = 0; i < rooms.length; i++) {
        expect(Number(ours[i].ok) + Number(theirs[i].ok)).toBe(1);
        const owner = ours[i].ok ? `${leaseOf(ours[i]).token}:node-a` : `${theirs[i].token}:node-b`;
        expect(await fx.admin.command('GET', keys.lease(rooms[i]))).toBe(owner);
      }
    } finally {
      child.stdin!.end();
      await new Promise((r) => { if (child.exitCode !== null) r(null); else child.once('exit', r); });
    }
  });

  it('renews while Redis answers: still owned after three ttls', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const lease = leaseOf(await a.acquire('renewed'));
    let lost: LeaseLostReason | null = null;
    lease.onLost = (reason) => { lost = reason; };
    await sleep(3 * 1_500);
    expect(lost).toBeNull();
    expect(lease.valid()).toBe(true);
    expect(a.stats.renewed).toBeGreaterThanOrEqual(6);
    expect(await b.acquire('renewed')).toMatchObject({ ok: false, reason: 'held', owner: { nodeId: 'node-a' } });
  });

  it('release lets anyone in; handover lets only the named target in', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const c = await node('node-c');
    const first = leaseOf(await a.acquire('moving'));
    expect(await first.release()).toBe(true);
    expect(first.valid()).toBe(false);
    const second = leaseOf(await c.acquire('moving'));
    expect(second.token).toBeGreaterThan(first.token);
    let lostCalled = false;
    second.onLost = () => { lostCalled = true; };
    expect(await second.handover('node-b')).toBe(true);
    expect(second.valid()).toBe(false);
    expect(await a.locate('moving')).toMatchObject({ owner: null, target: 'node-b', ownerTtlMs: 0 });
    expect((await a.locate('moving')).targetTtlMs).toBeGreaterThan(0);
    expect(await a.acquire('moving')).toEqual({ ok: false, reason: 'reserved', target: 'node-b' });
    const third = leaseOf(await b.acquire('moving'));
    expect(third.token).toBeGreaterThan(second.token);
    const located = await a.locate('moving');
    expect(located).toMatchObject({ owner: { nodeId: 'node-b', token: third.token }, target: null, targetTtlMs: 0 });
    expect(located.ownerTtlMs).toBeGreaterThan(1_000);
    expect(located.ownerTtlMs).toBeLessThanOrEqual(1_500);
    expect(lostCalled).toBe(false);
    expect(await second.handover('node-a')).toBe(false); // no longer ours
  });

  it('reserve places a room without owner on one node', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    expect(await a.reserve('placed', 'node-b')).toEqual({ kind: 'target', nodeId: 'node-b' });
    expect(await a.reserve('placed', 'node-a')).toEqual({ kind: 'target', nodeId: 'node-b' });
    expect(await a.acquire('placed')).toEqual({ ok: false, reason: 'reserved', target: 'node-b' });
    const lease = leaseOf(await b.acquire('placed'));
    expect(await a.reserve('placed', 'node-a')).toEqual({ kind: 'owner', owner: { nodeId: 'node-b', token: lease.token } });
  });

  it('a fenced write ends the lease at once and frees it for the next owner', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    const lease = leaseOf(await a.acquire('fenced'));
    const reasons: LeaseLostReason[] = [];
    lease.onLost = (r) => reasons.push(r);
    lease.lose('fenced');
    lease.lose('expired');
    expect(reasons).toEqual(['fenced']);
    expect(lease.valid()).toBe(false);
    let next: AcquireResult = await b.acquire('fenced');
    for (let i = 0; i < 50 && !next.ok; i++) next = await b.acquire('fenced');
    expect(next.ok).toBe(true);
  });

  describe('when Redis is away', () => {
    let proxy: SocketProxy | null = null;
    afterEach(async () => {
      fx.server.resume();
      await proxy?.close();
      proxy = null;
    });

    it('a node cut off from Redis stops before the lease can pass to another node', async () => {
      proxy = await startSocketProxy(fx.server.socketPath, proxyDir, 'partition');
      const a = await node('node-a', FAST, proxy.url);
      const b = await node('node-b');
      const lease = leaseOf(await a.acquire('partitioned'));
      await until('a renewal', () => a.stats.renewed >= 1);
      let lostAt = 0;
      let lostReason: LeaseLostReason | null = null;
      lease.onLost = (reason) => { lostAt = now(); lostReason = reason; };
      const cutAt = now();
      proxy.freeze();
      // Node B tries every 20 ms (at most 400 tries, 8 s) and notes when its winning try was sent.
      let won: RoomLease | null = null;
      let wonSentAt = 0;
      let refusedWhileAValid = 0;
      for (let i = 0; i < 400 && !won; i++) {
        const sentAt = now();
        const r = await b.acquire('partitioned');
        if (r.ok) { won = r.lease; wonSentAt = sentAt; } else {
          expect(r.reason).toBe('held');
          if (lease.valid()) refusedWhileAValid++;
          await sleep(20);
        }
      }
      expect(won).not.toBeNull();
      expect(lostReason).toBe('expired');
      // Safety: A's last valid instant precedes the send of B's winning acquisition.
      expect(lease.validUntil).toBeLessThanOrEqual(wonSentAt);
      expect(lostAt).toBeLessThanOrEqual(now());
      expect(lease.valid()).toBe(false);
      // Liveness of the running room: A kept its room through at least validFor - renewEvery
      // - slack of the partition (1385 - 500 - 100 ms here).
      expect(lease.validUntil - cutAt).toBeGreaterThanOrEqual(validFor(leaseTiming(FAST)) - 500 - 100);
      expect(refusedWhileAValid).toBeGreaterThan(0);
      proxy.thaw();
      expect(await a.acquire('partitioned')).toMatchObject({ ok: false, reason: 'held', owner: { nodeId: 'node-b' } });
    });

    it('Redis stopped for 3 s: the room keeps its lease (ttl 6 s) and stays the only owner', async () => {
      const timing = { ttlMs: 6_000, renewEveryMs: 2_000, retryMs: 200, marginMs: 100 };
      const a = await node('node-a', timing);
      const b = await node('node-b', timing);
      const lease = leaseOf(await a.acquire('outage-short'));
      let lost: LeaseLostReason | null = null;
      lease.onLost = (r) => { lost = r; };
      // Worst phase: stop Redis just before a renewal is due.
      await sleep(1_900);
      fx.server.pause();
      const validSamples: boolean[] = [];
      for (let i = 0; i < 30; i++) { validSamples.push(lease.valid()); await sleep(100); }
      fx.server.resume();
      await until('renewed after the outage', () => a.stats.renewed >= 1 && a.stats.renewFailures >= 1, 5_000);
      expect(validSamples.every(Boolean)).toBe(true);
      expect(lost).toBeNull();
      expect(lease.valid()).toBe(true);
      expect(await b.acquire('outage-short')).toMatchObject({ ok: false, reason: 'held', owner: { nodeId: 'node-a', token: lease.token } });
    });

    it('Redis stopped longer than the ttl: the owner stops while Redis is still stopped; one owner afterwards', async () => {
      const a = await node('node-a');
      const b = await node('node-b');
      const lease = leaseOf(await a.acquire('outage-long'));
      let lostAt = 0;
      lease.onLost = () => { lostAt = now(); };
      fx.server.pause();
      const pausedAt = now();
      await sleep(2_000);
      const resumedAt = now();
      fx.server.resume();
      expect(lostAt).toBeGreaterThan(pausedAt);
      expect(lostAt).toBeLessThan(resumedAt);
      expect(lease.lost).toBe('expired');
      const results = await Promise.all([a.acquire('outage-long'), b.acquire('outage-long')]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(leaseOf(results.find((r) => r.ok)!).token).toBeGreaterThan(lease.token);
    });

    it('Redis restarted empty: the owner reclaims its room with a larger token, others wait out the grace', async () => {
      const a = await node('node-a');
      const b = await node('node-b');
      const lease = leaseOf(await a.acquire('reborn'));
      expect(await b.acquire('reborn-other')).toMatchObject({ ok: true }); // b has checked this incarnation
      const oldToken = lease.token;
      const tokens: number[] = [];
      lease.onTokenChanged = (t) => tokens.push(t);
      let lost: LeaseLostReason | null = null;
      lease.onLost = (r) => { lost = r; };
      await fx.server.restart();
      await until('reclaimed', () => a.stats.reclaimed === 1 || lost !== null, 5_000);
      expect(lost).toBeNull();
      expect(lease.valid()).toBe(true);
      expect(lease.token).toBeGreaterThan(oldToken);
      expect(tokens).toEqual([lease.token]);
      // Another room, free in the new Redis: b must wait until any old owner surely stopped.
      const waiting = await b.acquire('free-after-restart');
      expect(waiting).toMatchObject({ ok: false, reason: 'grace' });
      expect(b.stats.redisDataLoss).toBe(1);
      const retryAfterMs = (waiting as { retryAfterMs: number }).retryAfterMs;
      expect(retryAfterMs).toBeGreaterThan(0);
      expect(retryAfterMs).toBeLessThanOrEqual(1_500);
      expect(await b.acquire('reborn')).toMatchObject({ ok: false });
      await sleep(retryAfterMs + 10);
      expect((await b.acquire('free-after-restart')).ok).toBe(true);
      expect(await b.acquire('reborn')).toMatchObject({ ok: false, reason: 'held', owner: { nodeId: 'node-a', token: lease.token } });
    });
  });

  it('close() gives every lease back', async () => {
    const a = await node('node-a');
    const b = await node('node-b');
    leaseOf(await a.acquire('closing-1'));
    leaseOf(await a.acquire('closing-2'));
    expect(a.held()).toHaveLength(2);
    await a.close();
    expect(a.held()).toHaveLength(0);
    expect((await b.acquire('closing-1')).ok).toBe(true);
    expect((await b.acquire('closing-2')).ok).toBe(true);
    expect(await a.acquire('closing-3')).toEqual({ ok: false, reason: 'unavailable' });
  });
});
