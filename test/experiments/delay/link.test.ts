/**
 * The delay stage on a real veth pair between two namespaces, measured by the link check:
 * it adds the configured RTT within a stated tolerance, loss composes with it (nftables drops
 * before the stage ever sees a packet), TCP congestion control is set per namespace, a dead
 * stage is noticed, and stopping leaves no rule or process behind.
 *
 * Timing-sensitive: `npm test` runs under the heavy lock; the stages run under SCHED_FIFO (their
 * default) and so do the probe processes, so other tests' CPU load cannot pose as link delay.
 */
import { describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { createTopology, destroyTopology, findLeftovers, netnsTag, newRunPrefix, type Topology } from '../../../experiments/netns.js';
import { LinkShaper } from '../../../experiments/delay/conditions.js';
import { runLinkCheck } from '../../../experiments/delay/link-check.js';
import { nfqueueRules } from '../../../experiments/delay/stage.js';
import { availableCongestionControls, tcpCongestionOf } from '../../../experiments/delay/tcp-cc.js';
import { canRunNetnsTests } from '../can-run.js';
import { canBuildDelayStage } from './can-build.js';

const netns = await canRunNetnsTests();
const build = netns.run ? await canBuildDelayStage() : { binary: null };
/**
 * SCHED_FIFO priority of the probe processes: below the stages' default of 20, above the
 * harness's measured processes (10), which other tests in the same run may have going.
 */
const RT = 15;

/**
 * The stated tolerance: at 100 ms configured, the measured RTT p50 within +/- 5 ms of it, and
 * p99 at most 10 ms above it plus the machine's own tail (p99 - p50 of the same probes without
 * delay, measured just before; about 1 ms on a quiet machine). Measured here: p50 100.6-101.0,
 * p99 101.7-107.3 ms.
 *
 * The p99 gets a second run if the first misses: on this shared VM a stall of 20-60 ms now and
 * then hits every process at once, real-time ones and the probes at 0 ms RTT included (seen in
 * the per-probe samples as runs of consecutive slow probes), and one such stall in a 2-second
 * run moves p99. A stage that adds a tail of its own misses both runs; p50 must hold in each.
 */
const RTT_MS = 100;
const P50_TOLERANCE_MS = 5;
const P99_ALLOWANCE_MS = 10;
const P99_ATTEMPTS = 2;

async function withTopology(fn: (topo: Topology, shaper: LinkShaper) => Promise<void>): Promise<void> {
  const topo = await createTopology(newRunPrefix(netnsTag(process.env)));
  const shaper = await LinkShaper.open(topo, { binary: build.binary ?? undefined, mechanism: 'nfqueue' });
  try {
    await fn(topo, shaper);
  } finally {
    await shaper.clear();
    await destroyTopology(topo);
  }
  expect(await findLeftovers(topo.prefix)).toEqual({ namespaces: [], links: [], nftTables: [] });
}

describe.skipIf(!netns.run || !build.binary)('NFQUEUE delay stage on a veth pair', () => {
  it(`adds ${RTT_MS} ms of RTT: p50 within ${P50_TOLERANCE_MS} ms, p99 within +${P99_ALLOWANCE_MS} ms, half each way, in order`, async () => {
    await withTopology(async (topo, shaper) => {
      const base = await runLinkCheck(topo, { probes: 1000, realtime: RT });
      expect(base.rttMs.p50).toBeLessThan(5);
      const machineTailMs = Math.max(0, base.rttMs.p99 - base.rttMs.p50);

      const applied = await shaper.apply({ rttMs: RTT_MS });
      expect(applied.mechanism).toEqual({ delay: 'nfqueue', loss: 'none', reason: 'the nfqueue mechanism was asked for' });
      expect(applied.stages.map((s) => s.direction)).toEqual(['client->server', 'server->client']);
      for (const s of applied.stages) expect(await nfqueueRules(s.ns)).toHaveLength(1);

      const p99Limit = RTT_MS + P99_ALLOWANCE_MS + machineTailMs;
      const p99s: number[] = [];
      for (let attempt = 0; attempt < P99_ATTEMPTS; attempt++) {
        const lc = await runLinkCheck(topo, { probes: 1000, expectedRttMs: RTT_MS, realtime: RT });
        expect(Math.abs(lc.rttMs.p50 - RTT_MS)).toBeLessThan(P50_TOLERANCE_MS);
        expect(lc.rttMs.min!).toBeGreaterThanOrEqual(RTT_MS);
        for (const dir of [lc.up, lc.down]) {
          expect(Math.abs(dir.oneWayMs.p50 - RTT_MS / 2)).toBeLessThan(P50_TOLERANCE_MS / 2);
          expect(dir.lossPct).toBe(0);
        }
        expect(lc.reordered).toBe(0);
        expect(lc.duplicates).toBe(0);
        p99s.push(lc.rttMs.p99);
        if (lc.rttMs.p99 < p99Limit) break;
      }
      expect(Math.min(...p99s), `RTT p99 per run: ${p99s.join(', ')} ms; limit ${p99Limit.toFixed(2)} ms`).toBeLessThan(p99Limit);

      shaper.checkHealthy();
      const stats = await shaper.stageStats();
      for (const { stats: s } of stats) {
        expect(s.received).toBeGreaterThanOrEqual(1000);
        expect(s).toMatchObject({ droppedCap: 0, reordered: 0, enobufs: 0, verdictErrors: 0, kernelQueueDropped: 0, kernelUserDropped: 0 });
        expect(s.delayMs.min).toBe(RTT_MS / 2);
      }

      // Clearing stops both stages gracefully (final stats) and removes their rules.
      const finals = await shaper.clear();
      expect(finals.map((f) => [f.direction, f.stats?.final, f.failure])).toEqual([
        ['client->server', true, null],
        ['server->client', true, null],
      ]);
      for (const s of applied.stages) {
        expect(await nfqueueRules(s.ns)).toEqual([]);
        expect(existsSync(`/proc/${s.pid}`)).toBe(false);
      }
      const after = await runLinkCheck(topo, { probes: 200, realtime: RT });
      expect(after.rttMs.p50).toBeLessThan(5);
    });
  }, 90_000);

  it('composes with nftables loss: 5 % each way is measured within the binomial tolerance, and dropped packets never reach the stage', async () => {
    await withTopology(async (topo, shaper) => {
      const applied = await shaper.apply({ rttMs: RTT_MS, lossPct: 5 });
      expect(applied.mechanism).toMatchObject({ delay: 'nfqueue', loss: 'nftables' });
      const probes = 3000;
      const lc = await runLinkCheck(topo, { probes, intervalMs: 1, expectedRttMs: RTT_MS, realtime: RT });
      // 4.5 standard deviations of a binomial proportion: fails on a broken link, not on chance.
      const band = (n: number) => 4.5 * 100 * Math.sqrt((0.05 * 0.95) / n);
      expect(Math.abs(lc.up.lossPct - 5)).toBeLessThan(band(lc.up.sent));
      expect(Math.abs(lc.down.lossPct - 5)).toBeLessThan(band(lc.down.sent));
      // The delay is unchanged by the loss (its tail is the first test's business).
      expect(Math.abs(lc.rttMs.p50 - RTT_MS)).toBeLessThan(P50_TOLERANCE_MS);
      expect(lc.rttMs.min!).toBeGreaterThanOrEqual(RTT_MS);

      const stats = await shaper.stageStats();
      const kernel = await shaper.lossCounters();
      // The stage in the server's namespace saw exactly the probes that survived the drop on the
      // way in, and the client's stage exactly the echoes that survived on the way back.
      const up = stats.find((s) => s.direction === 'client->server')!.stats;
      const down = stats.find((s) => s.direction === 'server->client')!.stats;
      expect(up.received).toBe(lc.up.received);
      expect(down.received).toBe(lc.down.received);
      for (const k of kernel) expect(k.dropped).toBeGreaterThan(0);
    });
  }, 120_000);

  it('sets TCP congestion control per namespace (CUBIC by default, BBR on request) and reports it', async () => {
    await withTopology(async (topo, shaper) => {
      expect(await availableCongestionControls(topo.server.ns)).toEqual(expect.arrayContaining(['cubic', 'bbr']));
      const cubic = await shaper.apply({ rttMs: 0 });
      expect(cubic.tcpCongestion).toMatchObject({ server: 'cubic', client: 'cubic' });
      expect(await tcpCongestionOf(topo.client.ns)).toBe('cubic');
      const bbr = await shaper.apply({ rttMs: 0, tcpCongestion: 'bbr' });
      expect(bbr.tcpCongestion).toMatchObject({ server: 'bbr', client: 'bbr' });
      expect(await tcpCongestionOf(topo.server.ns)).toBe('bbr');
    });
  }, 60_000);

  it('notices a stage that died, and cleans up after it', async () => {
    await withTopology(async (_topo, shaper) => {
      const applied = await shaper.apply({ rttMs: 20 });
      shaper.checkHealthy();
      process.kill(applied.stages[0].pid!, 'SIGKILL');
      await expect.poll(() => {
        try {
          shaper.checkHealthy();
          return 'healthy';
        } catch (err) {
          return (err as Error).message;
        }
      }, { timeout: 5_000 }).toMatch(/delay stage in .*-srv exited unexpectedly \(SIGKILL\)/);
      const finals = await shaper.clear();
      expect(finals[0].failure).toMatch(/exited unexpectedly/);
      expect(finals[0].stats).toBeNull();
      for (const s of applied.stages) expect(await nfqueueRules(s.ns)).toEqual([]);
    });
  }, 60_000);
});
