/**
 * Turns one arm's raw bots report plus the link counters into an `ArmResult`. Pure.
 */
import { analyzeChat, stalenessSamples, stalls, summarize } from './metrics.js';
import { renderedError } from './render-error.js';

/** Staleness sampling step, ms: fine against the 50 ms snapshot interval. */
export const STALENESS_STEP_MS = 10;
import type { DirectionCounters } from './impair.js';
import type { ArmResult, BotsReport, Condition, FrameLog, RenderResult, ServerLoad, WireBytes } from './types.js';

/** Median of a list (NaN when empty). */
function median(v: readonly number[]): number {
  return summarize(v).p50;
}

/**
 * What observers would draw, against the truth: rendered error, extrapolating and frozen
 * frames, the interpolation delay they settled on. `observers` limits it to some observers
 * (the browser's rows share a frame log format with the bots').
 */
export function analyzeRender(
  frames: FrameLog,
  truth: readonly number[],
  world: { w: number; h: number },
  start: number,
  end: number,
): { render: RenderResult; errors: number[] } {
  const r = renderedError({ frames: frames.values, truth, world, start, end });
  const obs = frames.observers;
  const totalFrames = obs.reduce((n, o) => n + o.frames, 0);
  const starved = obs.reduce((n, o) => n + o.starvedFrames, 0);
  const seconds = Math.max(1e-3, (end - start) / 1000);
  const render: RenderResult = {
    errorUnits: r.summary,
    extrapolateShare: totalFrames ? starved / totalFrames : Number.NaN,
    freezeShare: r.freezeCandidates ? r.frozen / r.freezeCandidates : Number.NaN,
    interpDelayEndMs: median(obs.map((o) => o.interpDelayEndMs)),
    interpDelayMeanMs: obs.length ? obs.reduce((n, o) => n + o.interpDelayMeanMs, 0) / obs.length : Number.NaN,
    framesPerSec: obs.length ? totalFrames / obs.length / seconds : 0,
    observers: obs.length,
  };
  return { render, errors: r.errors };
}

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

/** Staleness samples of every bot over the window (all bots pooled). */
export function windowStaleness(report: BotsReport): number[] {
  const out: number[] = [];
  for (let bot = 0; bot < report.bots; bot++) {
    const mine = report.snapshots.filter((s) => s[0] === bot).map((s) => [s[2], s[3], s[1]] as const);
    for (const v of stalenessSamples(mine, report.windowStart, report.windowEnd, STALENESS_STEP_MS)) out.push(v);
  }
  return out;
}

export function analyzeArm(
  report: BotsReport,
  condition: Condition,
  wire: WireDelta,
  kernel: DirectionCounters[],
  server: ServerLoad,
  render: RenderResult | null = null,
  browser: ArmResult['browser'] = null,
): ArmResult {
  const durationS = Math.max(1e-3, (report.windowEnd - report.windowStart) / 1000);
  const periodMs = 1000 / report.snapshotHz;
  const bots = Array.from({ length: report.bots }, (_, i) => i);
  let intervals = 0;
  let stalled = 0;
  let newCount = 0;
  const staleness = windowStaleness(report);
  for (const bot of bots) {
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
    render,
    browser,
    botsLoopDelayP99Ms: report.loopDelayP99Ms,
    botsCpuPerSec: report.cpuPerSec,
    serverLoopDelayP99Ms: server.loopDelayP99Ms,
    serverCpuPerSec: server.cpuPerSec,
  };
}
