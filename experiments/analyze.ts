/**
 * Turns one arm's raw bots report plus the link counters into an `ArmResult`. Pure.
 */
import { analyzeChat, stalenessSamples, stalls, summarize } from './metrics.js';

/** Staleness sampling step, ms: fine against the 50 ms snapshot interval. */
export const STALENESS_STEP_MS = 10;
import type { DirectionCounters } from './impair.js';
import type { ArmResult, BotsReport, Condition, ServerLoad, WireBytes } from './types.js';

export interface WireDelta {
  /** Server-side veth transmit counters over the window (server -> client traffic). */
  server: WireBytes;
  /** Bot-side veth transmit counters over the window (client -> server traffic). */
  client: WireBytes;
}

/** Snapshot ages (ms) of every snapshot received inside the window, late and duplicate ones included. */
export function windowAges(report: BotsReport): number[] {
  return report.snapshots
    .filter(([, , , rt]) => rt >= report.windowStart && rt <= report.windowEnd)
    .map(([, , st, rt]) => rt - st);
}

export function analyzeArm(
  report: BotsReport,
  condition: Condition,
  wire: WireDelta,
  kernel: DirectionCounters[],
  server: ServerLoad,
): ArmResult {
  const durationS = Math.max(1e-3, (report.windowEnd - report.windowStart) / 1000);
  const periodMs = 1000 / report.snapshotHz;
  const bots = Array.from({ length: report.bots }, (_, i) => i);
  let intervals = 0;
  let stalled = 0;
  let newCount = 0;
  const staleness: number[] = [];
  for (const bot of bots) {
    const mine = report.snapshots.filter((s) => s[0] === bot).map((s) => [s[2], s[3], s[1]] as const);
    for (const v of stalenessSamples(mine, report.windowStart, report.windowEnd, STALENESS_STEP_MS)) staleness.push(v);
    const times = report.snapshots.filter((s) => s[0] === bot && s[4] === 1).map((s) => s[3]);
    const st = stalls(times, report.windowStart, report.windowEnd, periodMs);
    intervals += st.intervals;
    stalled += st.stalled;
    newCount += times.filter((t) => t >= report.windowStart && t <= report.windowEnd).length;
  }
  const perBotSec = report.bots * durationS;
  return {
    arm: report.arm,
    condition,
    bots: report.bots,
    durationS,
    snapshotHz: report.snapshotHz,
    transports: report.transports,
    snapshotAgeMs: summarize(windowAges(report)),
    stalenessMs: summarize(staleness),
    stallShare: intervals ? stalled / intervals : 1,
    stalledIntervals: stalled,
    intervals,
    snapshotsPerSecPerBot: newCount / perBotSec,
    chat: analyzeChat(report.chatSent, report.chatReceived, bots),
    chatRejected: report.chatRejected,
    wireDownBytesPerSecPerBot: wire.server.txBytes / perBotSec,
    wireUpBytesPerSecPerBot: wire.client.txBytes / perBotSec,
    appDownBytesPerSecPerBot: report.appBytesDown / perBotSec,
    appUpBytesPerSecPerBot: report.appBytesUp / perBotSec,
    kernel,
    reconnects: report.reconnects,
    errors: report.errors,
    botsLoopDelayP99Ms: report.loopDelayP99Ms,
    botsCpuPerSec: report.cpuPerSec,
    serverLoopDelayP99Ms: server.loopDelayP99Ms,
    serverCpuPerSec: server.cpuPerSec,
  };
}
