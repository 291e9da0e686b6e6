/**
 * Writes a run's outputs: raw CSV, summary CSV and JSON, SVG plots and a Markdown report.
 * Rendering is pure (strings from data); only `writeOutputs` touches the file system.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cdfPoints, percentileOfSorted, sortedCopy } from '../tools/lib/stats.js';
import { lineChart, type Series } from './svg.js';
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
} as const;

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
  ].join(','));
  return `${SUMMARY_COLUMNS.join(',')}\n${rows.join('\n')}\n`;
}

/** The distinct RTT values in the results, ascending. */
function rtts(results: readonly ArmResult[]): number[] {
  return [...new Set(results.map((r) => r.condition.rttMs))].sort((a, b) => a - b);
}

function armsIn(results: readonly ArmResult[]): ArmId[] {
  return (Object.keys(ARMS) as ArmId[]).filter((a) => results.some((r) => r.arm === a));
}

/** p99 snapshot age (or staleness) against loss, one line per arm (per RTT when several were run). */
export function p99Chart(results: readonly ArmResult[], metric: 'snapshotAgeMs' | 'stalenessMs' = 'snapshotAgeMs'): string {
  const series: Series[] = [];
  const rttList = rtts(results);
  for (const rtt of rttList) {
    for (const arm of armsIn(results)) {
      const pts = results
        .filter((r) => r.arm === arm && r.condition.rttMs === rtt)
        .map((r) => [r.condition.lossPct, r[metric].p99] as const)
        .sort((a, b) => a[0] - b[0]);
      const name = rttList.length > 1 ? `${ARMS[arm].label}, RTT+${rtt}` : ARMS[arm].label;
      series.push({ name, points: pts, markers: true });
    }
  }
  const what = metric === 'snapshotAgeMs' ? 'snapshot age' : 'staleness';
  return lineChart({ title: `p99 ${what} vs packet loss`, xLabel: 'packet loss each way (%)', yLabel: `${what} p99 (ms)`, series });
}

/** The loss level to draw the CDF at: 5 % when run, else the nearest level run. */
export function cdfLossLevel(conditions: readonly Condition[]): number | null {
  if (conditions.length === 0) return null;
  return [...conditions].sort((a, b) => Math.abs(a.lossPct - 5) - Math.abs(b.lossPct - 5) || a.lossPct - b.lossPct)[0].lossPct;
}

/** Snapshot age CDF per arm at one condition; the x axis stops at the largest p99.9 so the body stays readable. */
export function cdfChart(agesByArm: ReadonlyMap<ArmId, readonly number[]>, lossPct: number): string {
  const series: Series[] = [];
  let xMax = 0;
  for (const [arm, ages] of agesByArm) {
    const sorted = sortedCopy(ages);
    if (sorted.length) xMax = Math.max(xMax, percentileOfSorted(sorted, 99.9)!);
    series.push({ name: ARMS[arm].label, points: cdfPoints(sorted) });
  }
  return lineChart({
    title: `Snapshot age CDF at ${lossPct}% loss`,
    xLabel: 'snapshot age at the client (ms), axis cut at the largest p99.9',
    yLabel: 'share of snapshots',
    series,
    xMax: xMax || undefined,
    yMax: 1,
    step: true,
  });
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

function chatCell(r: ArmResult): string {
  const c = r.chat;
  const extra = [c.lost ? `${c.lost} lost` : '', c.duplicates ? `${c.duplicates} dup` : ''].filter(Boolean).join(', ');
  return `${c.delivered}/${c.expected}${extra ? ` (${extra})` : ''}`;
}

/** The Markdown report. `relPlots` are the SVG file names next to it. */
export function renderMarkdown(summary: Summary, cdfLoss: number | null): string {
  const { info, results } = summary;
  const out: string[] = [];
  out.push('# tickwire packet-loss experiment', '');
  out.push('Snapshot freshness of the same game server when snapshots travel as WebTransport datagrams, on a reliable WebTransport stream, and over WebSocket (TCP), under packet loss.', '');
  out.push('## Machine and run', '');
  out.push('| | |', '|---|---|');
  out.push(`| started | ${info.startedAt} |`, `| finished | ${info.finishedAt} |`);
  out.push(`| command | \`${info.command}\` |`);
  out.push(`| kernel | ${info.kernel} |`, `| CPU | ${info.cpu} (${info.cpus} cores), ${info.memGiB} GiB RAM |`);
  out.push(`| node | ${info.node} |`, `| commit | ${info.gitCommit} |`);
  out.push(`| impairment | **${info.method}** ${info.method === 'netem'
    ? '(tc netem on both veth ends: loss, delay, jitter)'
    : '(this kernel has no netem: nftables `numgen random` drop at each veth ingress, loss only, no added delay)'}${info.jitterMs ? `; jitter ${info.jitterMs} ms per direction` : ''} |`);
  out.push(`| bots | ${info.bots} in one process, in their own network namespace |`);
  const sched = info.realtime > 0
    ? `SCHED_FIFO priority ${info.realtime} for the server and bots processes, so other work on this shared machine adds no scheduler delay to the ages`
    : `nice ${info.nice} for the server and bots processes${info.nice < 0 ? ' (so other work on this shared machine adds less scheduler delay)' : ''}`;
  out.push(`| process priority | ${sched} |`);
  out.push(`| per condition and arm | ${info.warmupS} s warm-up without loss, then ${info.durationS} s measured under loss |`);
  out.push(`| snapshots | ${info.snapshotHz} Hz; standard scene (60 Hz simulation, 20 Hz inputs) |`);
  out.push(`| seed | ${info.seed} (bots' movement and chat timing; the kernel's drop decisions are not seeded) |`, '');
  out.push('## Setup', '');
  out.push('The harness creates two network namespaces joined by a veth pair (a /30 that exists only inside them). The server runs in one, the bots in the other, each as its own process; every packet between them crosses the veth, where loss is applied independently in both directions. A fresh server process is started for every arm and condition. Loss is switched on after every bot has joined and warmed up, so the measurement is steady-state play, not connection setup.', '');
  out.push('Arms:', '');
  out.push('- **WebTransport datagrams**: snapshots as HTTP/3 datagrams (QUIC DATAGRAM frames), chat on a WebTransport bidirectional stream. The normal path.');
  out.push('- **WebTransport stream**: the same server and client with the server option `snapshotChannel: \'reliable\'`, so snapshots go on the reliable stream. Same protocol and congestion controller as the datagram arm; only head-of-line blocking differs.');
  out.push('- **WebSocket (TCP)**: the fallback path; snapshots ride the socket.', '');
  out.push('Metrics:', '');
  out.push('- *snapshot age*: receipt time at the client minus the server time stamped in the snapshot; both namespaces share the machine clock.');
  out.push('- *staleness*: every 10 ms, the age of the newest snapshot the client holds (now minus its server time). Per-receipt age cannot see a lost datagram (it never arrives); staleness charges it, since the view ages until the next snapshot. This is what a player sees before interpolation delay.');
  out.push('- *stalls*: share of snapshot intervals (1 / snapshot rate) in which no new snapshot arrived; a gap of g ms counts round(g / interval) - 1 stalled intervals.');
  out.push('- *chat*: each bot sends a line every couple of seconds; each line must reach every other bot exactly once (delivered / expected, lost, duplicates) and its latency is send to receipt.');
  out.push('- *wire bytes*: the veth interface counters (IP packets incl. headers and retransmissions) per bot and second; *app bytes*: the clients\' own message byte counters.');
  out.push('- *realised drop*: the kernel\'s drop counters over the packets actually sent in that arm.', '');
  if (summary.linkCheck.length) {
    out.push('## Link check', '');
    out.push('Before the arms ran, a plain UDP echo pair (sequence-numbered probes) crossed the impaired link at each condition:', '');
    out.push('| configured loss % | RTT+ ms | probes | realised loss client→server % | server→client % |', '|---:|---:|---:|---:|---:|');
    for (const l of summary.linkCheck) {
      out.push(`| ${l.condition.lossPct} | ${l.condition.rttMs} | ${l.probes} | ${l.upLossPct.toFixed(2)} | ${l.downLossPct.toFixed(2)} |`);
    }
    out.push('');
  }
  out.push('## Findings', '');
  out.push(...findings(results), '');
  out.push('## Results', '');
  out.push('| loss % | RTT+ ms | arm | age p50 | p95 | p99 | max | staleness p50 | p99 | stalls | snaps/s/bot | chat delivered | chat p50 | chat p99 | wire down B/s/bot | wire up B/s/bot | realised drop c→s / s→c % |');
  out.push('|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|');
  for (const r of results) {
    out.push(`| ${r.condition.lossPct} | ${r.condition.rttMs} | ${ARMS[r.arm].label} | ${ms(r.snapshotAgeMs.p50)} | ${ms(r.snapshotAgeMs.p95)} | ${ms(r.snapshotAgeMs.p99)} | ${ms(r.snapshotAgeMs.max)} | ${ms(r.stalenessMs.p50)} | ${ms(r.stalenessMs.p99)} | ${(100 * r.stallShare).toFixed(1)}% | ${r.snapshotsPerSecPerBot.toFixed(1)} | ${chatCell(r)} | ${ms(r.chat.latency.p50)} | ${ms(r.chat.latency.p99)} | ${r.wireDownBytesPerSecPerBot.toFixed(0)} | ${r.wireUpBytesPerSecPerBot.toFixed(0)} | ${realisedDropPct(r, 'client->server').toFixed(1)} / ${realisedDropPct(r, 'server->client').toFixed(1)} |`);
  }
  out.push('', 'Ages and latencies in ms.', '');
  out.push('Process load during each window (CPU seconds per second; event-loop delay p99 in ms). A saturated process would inflate ages for reasons other than the network:', '');
  out.push('| loss % | RTT+ ms | arm | server CPU | server loop p99 | bots CPU | bots loop p99 | app down B/s/bot | app up B/s/bot | reconnects |');
  out.push('|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    out.push(`| ${r.condition.lossPct} | ${r.condition.rttMs} | ${ARMS[r.arm].label} | ${r.serverCpuPerSec.toFixed(2)} | ${ms(r.serverLoopDelayP99Ms)} | ${r.botsCpuPerSec.toFixed(2)} | ${ms(r.botsLoopDelayP99Ms)} | ${r.appDownBytesPerSecPerBot.toFixed(0)} | ${r.appUpBytesPerSecPerBot.toFixed(0)} | ${r.reconnects} |`);
  }
  out.push('');
  const problems = results.filter((r) => r.errors.length || r.reconnects || r.chatRejected || r.transports.some((t) => t !== ARMS[r.arm].transport));
  if (problems.length) {
    out.push('### Irregularities', '');
    for (const r of problems) {
      const wrongTransport = r.transports.filter((t) => t !== ARMS[r.arm].transport);
      out.push(`- ${r.condition.lossPct}% ${ARMS[r.arm].label}: ${[
        r.reconnects ? `${r.reconnects} reconnects` : '',
        r.chatRejected ? `${r.chatRejected} chat lines rate-limited` : '',
        wrongTransport.length ? `${wrongTransport.length} bots on ${wrongTransport[0]}` : '',
        r.errors.length ? `errors: ${r.errors.slice(0, 3).join('; ')}` : '',
      ].filter(Boolean).join(', ')}`);
    }
    out.push('');
  }
  out.push('## Plots', '');
  out.push(`![p99 snapshot age vs loss](${FILES.p99Plot})`, '');
  out.push(`![p99 staleness vs loss](${FILES.stalenessPlot})`, '');
  if (cdfLoss !== null) out.push(`![snapshot age CDF at ${cdfLoss}% loss](${FILES.cdfPlot})`, '');
  out.push('## Files', '');
  out.push(`- \`${FILES.snapshotsCsv}\`: every snapshot receipt (arm, condition, bot, id, server time, receipt time, age, new or late/duplicate).`);
  out.push(`- \`${FILES.chatCsv}\`: every chat receipt with its send time.`);
  out.push(`- \`${FILES.summaryCsv}\`, \`${FILES.summaryJson}\`: the table above, machine-readable.`, '');
  return `${out.join('\n')}\n`;
}

/** Write summary CSV/JSON, the plots and the report into `dir`. */
export function writeOutputs(dir: string, summary: Summary, cdfAges: ReadonlyMap<ArmId, readonly number[]>, cdfLoss: number | null): void {
  writeFileSync(join(dir, FILES.summaryJson), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(dir, FILES.summaryCsv), summaryCsv(summary.results));
  writeFileSync(join(dir, FILES.p99Plot), p99Chart(summary.results));
  writeFileSync(join(dir, FILES.stalenessPlot), p99Chart(summary.results, 'stalenessMs'));
  if (cdfLoss !== null && cdfAges.size > 0) writeFileSync(join(dir, FILES.cdfPlot), cdfChart(cdfAges, cdfLoss));
  writeFileSync(join(dir, FILES.report), renderMarkdown(summary, cdfAges.size > 0 ? cdfLoss : null));
}
