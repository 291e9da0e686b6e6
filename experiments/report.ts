/**
 * Writes a run's outputs: raw CSV, summary CSV and JSON, SVG plots and a Markdown report.
 * Rendering is pure (strings from data); only `writeOutputs` touches the file system.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chatLatencyChart, cdfChart, conditionText, p99Chart, renderErrorChart } from './report-charts.js';
import { ARMS, type ArmId, type ArmResult, type BotsReport, type Condition, type Summary } from './types.js';

export const FILES = {
  snapshotsCsv: 'snapshots.csv',
  chatCsv: 'chat.csv',
  summaryCsv: 'summary.csv',
  summaryJson: 'summary.json',
  report: 'report.md',
  p99Plot: 'p99-age-vs-loss.svg',
  stalenessPlot: 'p99-staleness-vs-loss.svg',
  cdfPlot: 'age-cdf.svg',
  errorPlot: 'rendered-error-vs-loss.svg',
  stalenessCdf: 'staleness-cdf.svg',
  errorCdf: 'rendered-error-cdf.svg',
  chatPlot: 'chat-latency-vs-loss.svg',
  resultsJsonl: 'results.jsonl',
} as const;

/** Raw samples of every arm at the one condition the CDF plots show. */
export interface CdfData {
  condition: Condition | null;
  ages: Map<ArmId, number[]>;
  staleness: Map<ArmId, number[]>;
  errors: Map<ArmId, number[]>;
}

const SNAPSHOT_HEADER = 'loss_pct,rtt_ms,arm,bot,snapshot_id,server_time_ms,received_at_ms,age_ms,new\n';
const CHAT_HEADER = 'loss_pct,rtt_ms,arm,key,sender,receiver,sent_at_ms,received_at_ms,latency_ms\n';

/** Append one arm's raw samples to the run's CSV files (headers written on first use). */
export function appendRawCsv(dir: string, cond: Condition, report: BotsReport): void {
  const snapPath = join(dir, FILES.snapshotsCsv);
  const chatPath = join(dir, FILES.chatCsv);
  if (!existsSync(snapPath)) writeFileSync(snapPath, SNAPSHOT_HEADER);
  if (!existsSync(chatPath)) writeFileSync(chatPath, CHAT_HEADER);
  const pre = `${cond.lossPct},${cond.rttMs},${report.arm}`;
  const snapLines = report.snapshots.map(([bot, id, st, rt, isNew]) => `${pre},${bot},${id},${st.toFixed(3)},${rt.toFixed(3)},${(rt - st).toFixed(3)},${isNew}`);
  appendFileSync(snapPath, snapLines.length ? `${snapLines.join('\n')}\n` : '');
  const sent = new Map(report.chatSent.map((s) => [s.key, s]));
  const chatLines = report.chatReceived.map((r) => {
    const s = sent.get(r.key);
    const sentAt = s ? s.sentAt.toFixed(3) : '';
    const lat = s ? (r.receivedAt - s.sentAt).toFixed(3) : '';
    return `${pre},${r.key},${s?.sender ?? ''},${r.receiver},${sentAt},${r.receivedAt.toFixed(3)},${lat}`;
  });
  appendFileSync(chatPath, chatLines.length ? `${chatLines.join('\n')}\n` : '');
}

const SUMMARY_COLUMNS = [
  'loss_pct', 'rtt_ms', 'arm', 'bots', 'duration_s', 'age_p50_ms', 'age_p95_ms', 'age_p99_ms', 'age_max_ms',
  'staleness_p50_ms', 'staleness_p99_ms', 'stall_share', 'snapshots_per_s_per_bot', 'chat_sent', 'chat_expected', 'chat_delivered', 'chat_lost',
  'chat_duplicates', 'chat_p50_ms', 'chat_p99_ms', 'wire_down_Bps_per_bot', 'wire_up_Bps_per_bot',
  'app_down_Bps_per_bot', 'app_up_Bps_per_bot', 'dropped_c2s_pct', 'dropped_s2c_pct', 'reconnects',
  'server_cpu_per_s', 'server_loop_p99_ms', 'bots_cpu_per_s', 'bots_loop_p99_ms',
  'render_error_p50', 'render_error_p99', 'extrapolate_share', 'freeze_share', 'interp_delay_end_ms', 'interp_delay_mean_ms',
  'browser_error_p50', 'browser_error_p99', 'browser_extrapolate_share', 'browser_freeze_share', 'browser_interp_delay_end_ms',
] as const;

/** Realised drop rate in percent for one direction, from the kernel counters. */
export function realisedDropPct(r: ArmResult, direction: 'client->server' | 'server->client'): number {
  const c = r.kernel.find((k) => k.direction === direction);
  if (!c || c.dropped + c.passed === 0) return 0;
  return (100 * c.dropped) / (c.dropped + c.passed);
}

function num(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '';
}

export function summaryCsv(results: readonly ArmResult[]): string {
  const rows = results.map((r) => [
    r.condition.lossPct, r.condition.rttMs, r.arm, r.bots, r.durationS,
    num(r.snapshotAgeMs.p50), num(r.snapshotAgeMs.p95), num(r.snapshotAgeMs.p99), num(r.snapshotAgeMs.max),
    num(r.stalenessMs.p50), num(r.stalenessMs.p99), num(r.stallShare, 4), num(r.snapshotsPerSecPerBot, 2), r.chat.sent, r.chat.expected, r.chat.delivered, r.chat.lost,
    r.chat.duplicates, num(r.chat.latency.p50), num(r.chat.latency.p99), num(r.wireDownBytesPerSecPerBot, 0),
    num(r.wireUpBytesPerSecPerBot, 0), num(r.appDownBytesPerSecPerBot, 0), num(r.appUpBytesPerSecPerBot, 0),
    num(realisedDropPct(r, 'client->server'), 2), num(realisedDropPct(r, 'server->client'), 2), r.reconnects,
    num(r.serverCpuPerSec, 3), num(r.serverLoopDelayP99Ms, 1), num(r.botsCpuPerSec, 3), num(r.botsLoopDelayP99Ms, 1),
    num(r.render?.errorUnits.p50 ?? NaN, 2), num(r.render?.errorUnits.p99 ?? NaN, 2), num(r.render?.extrapolateShare ?? NaN, 4),
    num(r.render?.freezeShare ?? NaN, 4), num(r.render?.interpDelayEndMs ?? NaN, 1), num(r.render?.interpDelayMeanMs ?? NaN, 1),
    num(r.browser?.errorUnits.p50 ?? NaN, 2), num(r.browser?.errorUnits.p99 ?? NaN, 2), num(r.browser?.extrapolateShare ?? NaN, 4),
    num(r.browser?.freezeShare ?? NaN, 4), num(r.browser?.interpDelayEndMs ?? NaN, 1),
  ].join(','));
  return `${SUMMARY_COLUMNS.join(',')}\n${rows.join('\n')}\n`;
}

/** The condition the CDFs show: 100 ms and 5 % when run, else the nearest (RTT first, then loss). */
export function cdfCondition(conditions: readonly Condition[]): Condition | null {
  if (conditions.length === 0) return null;
  return [...conditions].sort((a, b) =>
    Math.abs(a.rttMs - 100) - Math.abs(b.rttMs - 100) || Math.abs(a.lossPct - 5) - Math.abs(b.lossPct - 5) || a.rttMs - b.rttMs || a.lossPct - b.lossPct)[0];
}

function ms(v: number): string {
  return Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(1)) : 'n/a';
}

/** Sentences comparing the arms at each loss level, generated from the numbers. */
export function findings(results: readonly ArmResult[]): string[] {
  const lines: string[] = [];
  const conds = [...new Map(results.map((r) => [`${r.condition.lossPct}/${r.condition.rttMs}`, r.condition])).values()];
  for (const c of conds) {
    const at = (arm: ArmId) => results.find((r) => r.arm === arm && r.condition.lossPct === c.lossPct && r.condition.rttMs === c.rttMs);
    const dg = at('wt-datagram');
    const ws = at('websocket');
    const st = at('wt-stream');
    if (!dg || (!ws && !st)) continue;
    const parts = [`datagrams ${ms(dg.snapshotAgeMs.p99)} ms`];
    if (st) parts.push(`WebTransport stream ${ms(st.snapshotAgeMs.p99)} ms`);
    if (ws) parts.push(`WebSocket ${ms(ws.snapshotAgeMs.p99)} ms`);
    const stale = [`datagrams ${ms(dg.stalenessMs.p99)} ms`];
    if (st) stale.push(`stream ${ms(st.stalenessMs.p99)} ms`);
    if (ws) stale.push(`WebSocket ${ms(ws.stalenessMs.p99)} ms`);
    const rtt = c.rttMs ? `, RTT +${c.rttMs} ms` : '';
    let ratio = '';
    if (ws && dg.snapshotAgeMs.p99 > 0) ratio = ` (WebSocket/datagram p99 ratio ${(ws.snapshotAgeMs.p99 / dg.snapshotAgeMs.p99).toFixed(1)}x)`;
    lines.push(`- ${c.lossPct}% loss${rtt}: snapshot age p99 ${parts.join(', ')}${ratio}; staleness p99 ${stale.join(', ')}; stalls ${results
      .filter((r) => r.condition.lossPct === c.lossPct && r.condition.rttMs === c.rttMs)
      .map((r) => `${ARMS[r.arm].label} ${(100 * r.stallShare).toFixed(1)}%`)
      .join(', ')}.`);
  }
  return lines;
}

/**
 * The head-to-head table the study is about: per condition, datagrams against the reliable
 * stream (and WebSocket) on staleness p99, rendered error p50/p99 and chat p99, with the
 * stream-minus-datagram difference (positive: datagrams better).
 */
export function armComparison(results: readonly ArmResult[]): string[] {
  const conds = [...new Map(results.map((r) => [`${r.condition.rttMs}/${r.condition.lossPct}`, r.condition])).values()]
    .sort((a, b) => a.rttMs - b.rttMs || a.lossPct - b.lossPct);
  const at = (arm: ArmId, c: Condition) => results.find((r) => r.arm === arm && r.condition.lossPct === c.lossPct && r.condition.rttMs === c.rttMs);
  const out: string[] = [];
  for (const c of conds) {
    const dg = at('wt-datagram', c);
    const st = at('wt-stream', c);
    const ws = at('websocket', c);
    if (!dg || !st) continue;
    const d = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? `${b - a >= 0 ? '+' : ''}${ms(b - a)}` : 'n/a');
    const e = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) ? `${b - a >= 0 ? '+' : ''}${(b - a).toFixed(1)}` : 'n/a');
    out.push(`| ${c.rttMs} | ${c.lossPct} | ${ms(dg.stalenessMs.p99)} / ${ms(st.stalenessMs.p99)} / ${ws ? ms(ws.stalenessMs.p99) : 'n/a'} | ${d(dg.stalenessMs.p99, st.stalenessMs.p99)} | ${units(dg.render?.errorUnits.p50)} / ${units(st.render?.errorUnits.p50)} / ${units(ws?.render?.errorUnits.p50)} | ${e(dg.render?.errorUnits.p50, st.render?.errorUnits.p50)} | ${units(dg.render?.errorUnits.p99)} / ${units(st.render?.errorUnits.p99)} / ${units(ws?.render?.errorUnits.p99)} | ${e(dg.render?.errorUnits.p99, st.render?.errorUnits.p99)} | ${ms(dg.render?.interpDelayEndMs ?? NaN)} / ${ms(st.render?.interpDelayEndMs ?? NaN)} / ${ms(ws?.render?.interpDelayEndMs ?? NaN)} | ${ms(dg.chat.latency.p99)} / ${ms(st.chat.latency.p99)} / ${ws ? ms(ws.chat.latency.p99) : 'n/a'} |`);
  }
  if (out.length === 0) return [];
  return [
    '| RTT+ ms | loss % | staleness p99 ms: datagrams / stream / WebSocket | stream − datagrams | rendered error p50: datagrams / stream / WebSocket | stream − datagrams | rendered error p99 | stream − datagrams | interp delay ms | chat p99 ms |',
    '|---:|---:|---|---:|---|---:|---|---:|---|---|',
    ...out,
  ];
}

function chatCell(r: ArmResult): string {
  const c = r.chat;
  const extra = [c.lost ? `${c.lost} lost` : '', c.duplicates ? `${c.duplicates} dup` : ''].filter(Boolean).join(', ');
  return `${c.delivered}/${c.expected}${extra ? ` (${extra})` : ''}`;
}

function pct(v: number | undefined): string {
  return v !== undefined && Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : 'n/a';
}

function units(v: number | undefined): string {
  return v !== undefined && Number.isFinite(v) ? v.toFixed(1) : 'n/a';
}

/** Sentences on what the player sees: rendered error per arm at each condition. */
export function renderFindings(results: readonly ArmResult[]): string[] {
  const lines: string[] = [];
  const conds = [...new Map(results.map((r) => [`${r.condition.lossPct}/${r.condition.rttMs}`, r.condition])).values()];
  for (const c of conds) {
    const here = results.filter((r) => r.condition.lossPct === c.lossPct && r.condition.rttMs === c.rttMs && r.render);
    if (here.length === 0) continue;
    const parts = here.map((r) => `${ARMS[r.arm].label} ${units(r.render!.errorUnits.p50)} / ${units(r.render!.errorUnits.p99)} (delay ${ms(r.render!.interpDelayEndMs)} ms, extrapolating ${pct(r.render!.extrapolateShare)})`);
    lines.push(`- RTT +${c.rttMs} ms, ${c.lossPct}% loss: rendered error p50 / p99 ${parts.join('; ')}.`);
  }
  return lines;
}

/** The Markdown report; `rawFiles` false when the raw CSV files are not beside it (a committed copy). */
export function renderMarkdown(summary: Summary, cdf: Condition | null, rawFiles = true): string {
  const { info, results } = summary;
  const out: string[] = [];
  out.push('# tickwire delay, jitter and loss experiment', '');
  out.push('Snapshot freshness and what the player sees (rendered-position error) when snapshots travel as WebTransport datagrams, on a reliable WebTransport stream, and over WebSocket (TCP), under added round-trip time, jitter and packet loss.', '');
  out.push('## Machine and run', '');
  out.push('| | |', '|---|---|');
  out.push(`| started | ${info.startedAt} |`, `| finished | ${info.finishedAt} |`);
  out.push(`| command | \`${info.command}\` |`);
  out.push(`| kernel | ${info.kernel} (netem: ${info.method === 'netem' ? 'yes' : 'no'}) |`, `| CPU | ${info.cpu} (${info.cpus} cores), ${info.memGiB} GiB RAM |`);
  out.push(`| node | ${info.node} |`, `| commit | ${info.gitCommit} |`);
  const m = info.mechanism;
  out.push(`| delay and jitter | **${m.delay}**${m.delay === 'nfqueue' ? ' (the NFQUEUE delay stage, experiments/delay: one per namespace, holding packets at ingress, half the RTT each way)' : m.delay === 'netem' ? ' (tc netem on both veth ends)' : ''}; ${m.reason} |`);
  out.push(`| loss | **${m.loss}**${m.loss === 'nftables' ? ' (`numgen random` drop at each veth ingress, before the stage)' : ''} |`);
  out.push(`| jitter | ${info.jitterMs ? `${info.jitterMs} ms per direction (capped at the one-way delay), model \`${info.jitterMode}\`` : 'none'} |`);
  out.push(`| TCP congestion control | ${info.tcpCongestion} in both namespaces (QUIC uses quiche's own) |`);
  out.push(`| bots | ${info.bots} in one process, in their own network namespace; each runs the demo client's WorldView (interpolation buffer and prediction) sampled at 60 Hz |`);
  if (info.browserConditions.length) out.push(`| browser | a headless Chromium page (the demo client) in the bots' namespace at ${info.browserConditions.map(conditionText).join('; ')} |`);
  const sched = info.realtime > 0
    ? `SCHED_FIFO priority ${info.realtime} for the server and bots processes, so other work on this shared machine adds no scheduler delay to the ages`
    : `nice ${info.nice} for the server and bots processes${info.nice < 0 ? ' (so other work on this shared machine adds less scheduler delay)' : ''}`;
  out.push(`| process priority | ${sched} |`);
  out.push(`| per condition and arm | delay in force from connection setup; ${info.warmupS} s warm-up ${info.lossyWarmup ? 'with' : 'without'} loss, then ${info.durationS} s measured with loss |`);
  if (info.interp) out.push(`| bots' interpolation rule | overridden: base ${info.interp.baseIntervals ?? 'default'} snapshot intervals, loss residual ${info.interp.lossResidual ?? 'default'} (client/game/interpolation.ts) |`);
  out.push(`| snapshots | ${info.snapshotHz} Hz; standard scene (60 Hz simulation, 20 Hz inputs, 100 units/s in a 1000 x 1000 world) |`);
  out.push(`| seed | ${info.seed} (bots' movement and chat timing, jitter; the kernel's drop decisions are not seeded) |`, '');
  out.push('## Setup', '');
  out.push('Two network namespaces joined by a veth pair (a /30 that exists only inside them). The server runs in one, the bots (and the browser, where listed) in the other, each as its own process; every packet between them crosses the veth, where delay, jitter and loss act independently in both directions. A fresh server process per arm and condition. Delay and jitter are in force from connection setup on; loss is switched on after every bot has joined and warmed up.', '');
  out.push('Arms: **WebTransport datagrams** (snapshots as QUIC DATAGRAM frames, chat on a stream), **WebTransport stream** (server option `snapshotChannel: \'reliable\'`: same QUIC stack, only head-of-line blocking differs), **WebSocket (TCP)**.', '');
  out.push('Metrics:', '');
  out.push('- *snapshot age*: receipt time minus the server time stamped in the snapshot (one machine clock).');
  out.push('- *staleness*: every 10 ms, the age of the newest snapshot the client holds; charges lost datagrams too.');
  out.push('- *rendered error*: at 60 Hz, the distance (world units, the short way round the wrapping world) between where the client would draw each remote player and where the server had that player at that instant (the server logs every player after every simulation step). It includes the interpolation delay (the client draws the past on purpose: at 100 units/s, 100 ms of delay is 10 units), late and lost snapshots, and extrapolation errors. Players walk at 100 units/s and turn every 0.5-2.5 s.');
  out.push('- *extrapolating*: share of frames in which the interpolation buffer ran past its newest snapshot (it extrapolates up to one snapshot interval, then holds); *frozen*: share of (frame, remote player) pairs drawn exactly where the previous frame drew them although the player moved.');
  out.push('- *interp delay*: the buffering delay the client\'s adaptive buffer settled on (median over bots at the window\'s end).');
  out.push('- *chat*: each line must reach every other bot exactly once.', '');
  if (summary.linkCheck.length) {
    out.push('## Link check', '');
    out.push('Before the arms ran, UDP probes (200 bytes, 2 ms apart) crossed the link under each condition; a responder in the server\'s namespace stamped them, so one-way delay is measured each way (one machine clock).', '');
    out.push('| RTT+ ms | loss % | mechanism (delay / loss) | probes | RTT p50 | RTT p99 | one-way p50 up / down | loss up % | loss down % | reordered | TCP cc |', '|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---|');
    for (const l of summary.linkCheck) {
      const r = l.result;
      out.push(`| ${l.condition.rttMs} | ${l.condition.lossPct} | ${l.mechanism.delay} / ${l.mechanism.loss} | ${r.probes} | ${r.rttMs.p50.toFixed(2)} | ${r.rttMs.p99.toFixed(2)} | ${r.up.oneWayMs.p50.toFixed(2)} / ${r.down.oneWayMs.p50.toFixed(2)} | ${l.upLossPct.toFixed(2)} | ${l.downLossPct.toFixed(2)} | ${r.reordered} | ${l.tcpCongestion.server} / ${l.tcpCongestion.client} |`);
    }
    out.push('');
  }
  out.push('## Findings', '');
  out.push(...findings(results), '');
  out.push('What the player sees:', '');
  out.push(...renderFindings(results), '');
  const head = armComparison(results);
  if (head.length) {
    out.push('## Datagrams against the reliable stream', '');
    out.push('Per condition, the three arms side by side (rendered error in world units; a positive difference means datagrams did better by that much).', '');
    out.push(...head, '');
  }
  out.push('## Results', '');
  out.push('| RTT+ ms | loss % | arm | staleness p50 | p99 | age p50 | p99 | stalls | rendered error p50 | p99 | extrapolating | frozen | interp delay ms | chat delivered | chat p99 ms | realised drop c→s / s→c % |');
  out.push('|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|');
  for (const r of results) {
    const rr = r.render;
    out.push(`| ${r.condition.rttMs} | ${r.condition.lossPct} | ${ARMS[r.arm].label} | ${ms(r.stalenessMs.p50)} | ${ms(r.stalenessMs.p99)} | ${ms(r.snapshotAgeMs.p50)} | ${ms(r.snapshotAgeMs.p99)} | ${(100 * r.stallShare).toFixed(1)}% | ${units(rr?.errorUnits.p50)} | ${units(rr?.errorUnits.p99)} | ${pct(rr?.extrapolateShare)} | ${pct(rr?.freezeShare)} | ${ms(rr?.interpDelayEndMs ?? NaN)} | ${chatCell(r)} | ${ms(r.chat.latency.p99)} | ${realisedDropPct(r, 'client->server').toFixed(1)} / ${realisedDropPct(r, 'server->client').toFixed(1)} |`);
  }
  out.push('', 'Ages, staleness and latencies in ms; rendered error in world units.', '');
  const withBrowser = results.filter((r) => r.browser);
  if (withBrowser.length) {
    out.push('## Browser check', '');
    out.push('A headless Chromium page running the demo client, in the bots\' namespace, joined the same arm; the figures come from what the page publishes on `window.tickwire` (its drawn positions per frame, `starvedFrames`, `frames`, `interpDelayMs`), compared with the same ground truth. Beside them, the bots\' figures for the same window:', '');
    out.push('| RTT+ ms | loss % | arm | page transport | page frames/s | page error p50 | p99 | bots error p50 | p99 | page extrapolating | bots | page frozen | bots | page interp delay | bots |');
    out.push('|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of withBrowser) {
      const b = r.browser!;
      const rr = r.render;
      out.push(`| ${r.condition.rttMs} | ${r.condition.lossPct} | ${ARMS[r.arm].label} | ${b.transport ?? 'none'} | ${b.framesPerSec.toFixed(0)} | ${units(b.errorUnits.p50)} | ${units(b.errorUnits.p99)} | ${units(rr?.errorUnits.p50)} | ${units(rr?.errorUnits.p99)} | ${pct(b.extrapolateShare)} | ${pct(rr?.extrapolateShare)} | ${pct(b.freezeShare)} | ${pct(rr?.freezeShare)} | ${ms(b.interpDelayEndMs)} | ${ms(rr?.interpDelayEndMs ?? NaN)} |`);
    }
    out.push('');
  }
  out.push('Process load during each window (CPU seconds per second; event-loop delay p99 in ms):', '');
  out.push('| RTT+ ms | loss % | arm | server CPU | server loop p99 | bots CPU | bots loop p99 | wire down B/s/bot | wire up B/s/bot | reconnects |');
  out.push('|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    out.push(`| ${r.condition.rttMs} | ${r.condition.lossPct} | ${ARMS[r.arm].label} | ${r.serverCpuPerSec.toFixed(2)} | ${ms(r.serverLoopDelayP99Ms)} | ${r.botsCpuPerSec.toFixed(2)} | ${ms(r.botsLoopDelayP99Ms)} | ${r.wireDownBytesPerSecPerBot.toFixed(0)} | ${r.wireUpBytesPerSecPerBot.toFixed(0)} | ${r.reconnects} |`);
  }
  out.push('');
  const stageRows = (summary.stages ?? []).flatMap((s) => s.finals.filter((f) => f.stats).map((f) => ({ c: s.condition, f })));
  if (stageRows.length) {
    out.push('Delay stages over each condition (all arms): packets, verdict lateness, applied delay, CPU:', '');
    out.push('| RTT+ ms | loss % | direction | packets | dropped at cap | lateness p50 / p99 ms | applied delay mean ± sd ms | CPU share |', '|---:|---:|---|---:|---:|---|---|---:|');
    for (const { c, f } of stageRows) {
      const st = f.stats!;
      out.push(`| ${c.rttMs} | ${c.lossPct} | ${f.direction} | ${st.received} | ${st.droppedCap} | ${st.latenessMs.p50.toFixed(2)} / ${st.latenessMs.p99.toFixed(2)} | ${st.delayMs.mean.toFixed(2)} ± ${st.delayMs.sd.toFixed(2)} | ${(100 * st.cpuSeconds / Math.max(1e-9, st.wallSeconds)).toFixed(1)}% |`);
    }
    out.push('');
  }
  const problems = results.filter((r) => r.errors.length || r.reconnects || r.chatRejected || r.transports.some((t) => t !== ARMS[r.arm].transport));
  if (problems.length) {
    out.push('### Irregularities', '');
    for (const r of problems) {
      const wrongTransport = r.transports.filter((t) => t !== ARMS[r.arm].transport);
      out.push(`- ${conditionText(r.condition)} ${ARMS[r.arm].label}: ${[
        r.reconnects ? `${r.reconnects} reconnects` : '',
        r.chatRejected ? `${r.chatRejected} chat lines rate-limited` : '',
        wrongTransport.length ? `${wrongTransport.length} bots on ${wrongTransport[0]}` : '',
        r.errors.length ? `errors: ${r.errors.slice(0, 3).join('; ')}` : '',
      ].filter(Boolean).join(', ')}`);
    }
    out.push('');
  }
  out.push('## Plots', '');
  out.push(`![p99 staleness vs loss](${FILES.stalenessPlot})`, '');
  out.push(`![rendered error vs loss](${FILES.errorPlot})`, '');
  out.push(`![chat latency vs loss](${FILES.chatPlot})`, '');
  out.push(`![p99 snapshot age vs loss](${FILES.p99Plot})`, '');
  if (cdf !== null) {
    out.push(`![staleness CDF at ${conditionText(cdf)}](${FILES.stalenessCdf})`, '');
    out.push(`![rendered error CDF at ${conditionText(cdf)}](${FILES.errorCdf})`, '');
    out.push(`![snapshot age CDF at ${conditionText(cdf)}](${FILES.cdfPlot})`, '');
  }
  out.push('## Files', '');
  const raw = rawFiles ? '' : ' (in the run\'s output folder only: too large to commit)';
  out.push(`- \`${FILES.snapshotsCsv}\`: every snapshot receipt (arm, condition, bot, id, server time, receipt time, age, new or late/duplicate)${raw}.`);
  out.push(`- \`${FILES.chatCsv}\`: every chat receipt with its send time${raw}.`);
  out.push(`- \`${FILES.summaryCsv}\`, \`${FILES.summaryJson}\`: the tables above, machine-readable (the link check and stage counters in full in the JSON).`);
  out.push(`- \`${FILES.resultsJsonl}\`: the same as JSON lines, written while the run went (one line per arm; the CDF condition's lines carry 1,001 quantiles per distribution); \`npx tsx experiments/report-cli.ts --from ${FILES.resultsJsonl}\` generates this report from it.`, '');
  return `${out.join('\n')}\n`;
}

/** Where a hand-written analysis sits in a generated report; kept when the report is generated again. */
export const ANALYSIS_BEGIN = '<!-- analysis: written by hand, kept when the report is generated again -->';
export const ANALYSIS_END = '<!-- /analysis -->';

/**
 * `generated` with the analysis block of `previous` (an earlier version of the same report, if
 * any) inserted after its title line. Without a block in `previous`, the report is unchanged.
 */
export function keepAnalysis(generated: string, previous: string | null): string {
  const from = previous?.indexOf(ANALYSIS_BEGIN) ?? -1;
  const to = previous?.indexOf(ANALYSIS_END) ?? -1;
  if (previous === null || from < 0 || to < from) return generated;
  const block = previous.slice(from, to + ANALYSIS_END.length);
  const nl = generated.indexOf('\n');
  return `${generated.slice(0, nl + 1)}\n${block}\n${generated.slice(nl + 1)}`;
}

export interface OutputOptions {
  /** File name of the Markdown report (default `report.md`). */
  reportName?: string;
}

/** Write summary CSV/JSON, the plots and the report into `dir` (an analysis block already in the report is kept). */
export function writeOutputs(dir: string, summary: Summary, cdf: CdfData, o: OutputOptions = {}): void {
  writeFileSync(join(dir, FILES.summaryJson), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(dir, FILES.summaryCsv), summaryCsv(summary.results));
  writeFileSync(join(dir, FILES.p99Plot), p99Chart(summary.results));
  writeFileSync(join(dir, FILES.stalenessPlot), p99Chart(summary.results, 'stalenessMs'));
  writeFileSync(join(dir, FILES.errorPlot), renderErrorChart(summary.results));
  writeFileSync(join(dir, FILES.chatPlot), chatLatencyChart(summary.results));
  const c = cdf.condition;
  if (c !== null && cdf.ages.size > 0) {
    writeFileSync(join(dir, FILES.cdfPlot), cdfChart(cdf.ages, c));
    writeFileSync(join(dir, FILES.stalenessCdf), cdfChart(cdf.staleness, c, 'Staleness', 'age of the newest snapshot held (ms)'));
    writeFileSync(join(dir, FILES.errorCdf), cdfChart(cdf.errors, c, 'Rendered-position error', 'distance drawn to true position (world units)'));
  }
  const reportPath = join(dir, o.reportName ?? FILES.report);
  const previous = existsSync(reportPath) ? readFileSync(reportPath, 'utf8') : null;
  const rawFiles = existsSync(join(dir, FILES.snapshotsCsv));
  writeFileSync(reportPath, keepAnalysis(renderMarkdown(summary, cdf.ages.size > 0 ? c : null, rawFiles), previous));
}
