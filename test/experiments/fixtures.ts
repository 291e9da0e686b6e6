/**
 * Made-up experiment results for the report tests: an arm result whose every figure follows
 * from the ages given, and a run summary around a list of them.
 */
import { summarize } from '../../experiments/metrics.js';
import type { LinkCheckResult } from '../../experiments/delay/link-check.js';
import type { ArmId, ArmResult, Summary } from '../../experiments/types.js';

/** Staleness = age + 25, rendered error = age / 10, chat latency p50/p99 2/3 ms; the datagram arm has a browser row. */
export function result(arm: ArmId, lossPct: number, ages: number[], rttMs = 0): ArmResult {
  const render = {
    errorUnits: summarize(ages.map((a) => a / 10)), extrapolateShare: 0.02, freezeShare: 0.01, interpDelayEndMs: 150, interpDelayMeanMs: 148,
    framesPerSec: 60, observers: 4,
  };
  return {
    arm, condition: { lossPct, rttMs }, render, browser: arm === 'wt-datagram' ? { ...render, transport: 'webtransport', snapshots: 100, errors: [] } : null, bots: 4, durationS: 5, snapshotHz: 20, transports: [arm === 'websocket' ? 'websocket' : 'webtransport'],
    snapshotAgeMs: summarize(ages), stalenessMs: summarize(ages.map((a) => a + 25)), stallShare: 0.05, stalledIntervals: 20, intervals: 400, snapshotsPerSecPerBot: 19,
    chat: { sent: 10, expected: 30, delivered: 30, lost: 0, duplicates: 0, unknown: 0, latency: summarize([1, 2, 3]) },
    chatRejected: 0, wireDownBytesPerSecPerBot: 1000, wireUpBytesPerSecPerBot: 500, appDownBytesPerSecPerBot: 800,
    appUpBytesPerSecPerBot: 300, kernel: [{ direction: 'client->server', dropped: 10, passed: 90 }, { direction: 'server->client', dropped: 5, passed: 95 }],
    reconnects: 0, errors: [], botsLoopDelayP99Ms: 12, botsCpuPerSec: 0.3, serverLoopDelayP99Ms: 8, serverCpuPerSec: 0.2,
  };
}

/** A two-condition run (0 and 10 % loss at 0 ms) around `results`, with one link-check row and a browser condition. */
export function fixtureSummary(results: ArmResult[]): Summary {
  return {
    info: {
      startedAt: 's', finishedAt: 'f', command: 'npm run experiment -- --quick', method: 'nftables', kernel: 'Linux 6', cpu: 'EPYC',
      cpus: 2, memGiB: 24, node: 'v20', gitCommit: 'abc', seed: 1, bots: 4, durationS: 5, warmupS: 2,
      conditions: [{ lossPct: 0, rttMs: 0 }, { lossPct: 10, rttMs: 0 }], arms: ['wt-datagram', 'websocket'], snapshotHz: 20, nice: -10, realtime: 0, jitterMs: 0,
      jitterMode: 'order', tcpCongestion: 'cubic', mechanism: { delay: 'nfqueue', loss: 'nftables', reason: 'the kernel has no sch_netem' },
      browserConditions: [{ lossPct: 10, rttMs: 0 }],
    },
    linkCheck: [{
      condition: { lossPct: 10, rttMs: 0 }, probes: 3000, upLossPct: 9.5, downLossPct: 10.25,
      mechanism: { delay: 'none', loss: 'nftables', reason: 'the kernel has no sch_netem' }, tcpCongestion: { server: 'cubic', client: 'cubic' },
      result: {
        probes: 3000, intervalMs: 2, sizeBytes: 200, rttMs: { ...summarize([0.3, 0.4]), min: 0.3 },
        up: { sent: 3000, received: 2715, lossPct: 9.5, oneWayMs: summarize([0.15]) },
        down: { sent: 2715, received: 2437, lossPct: 10.25, oneWayMs: summarize([0.2]) },
        duplicates: 0, reordered: 0, elapsedMs: 7000,
      } satisfies LinkCheckResult,
    }],
    results,
    stages: [],
  };
}
