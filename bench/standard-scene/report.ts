/**
 * The benchmark's output model and its pure formatting: one `run` line per (system, transport,
 * P, run), `median` lines over runs, `ratio` lines of ours against Colyseus, `target` lines for
 * the goals of issue 5, and a Markdown table for humans. Everything here is I/O-free.
 */
import type { LoadReport, ObserverReport, ServerReport } from './reports.js';
import { median } from '../../tools/lib/stats.js';

export type SystemName = 'tickwire' | 'colyseus';
export type BenchTransport = 'webtransport' | 'websocket';

/** Every number a run reports; null when it was not measurable for that system or transport. */
export interface RunMetrics {
  /** Observer's application payload bytes received per second (message bytes, one client). */
  downAppBps: number | null;
  /** Observer's bytes received per second on the wire: UDP payload (QUIC) or TCP payload (WebSocket). */
  downWireBps: number | null;
  upAppBps: number | null;
  upWireBps: number | null;
  /** Mean application bytes/s received per load client (checks the observer is typical). */
  loadDownAppBpsMean: number | null;
  /** Server process CPU seconds (user + system) per wall second during the window. */
  serverCpuSps: number | null;
  /** serverCpuSps / P, in milliseconds of CPU per second per client. */
  serverCpuMsPerClient: number | null;
  /** Server event-loop utilisation over the window (0..1); null for the peer. */
  serverElu: number | null;
  /** Simulation steps per second achieved by the server's tick loop. */
  simHz: number | null;
  tickMsMean: number | null;
  tickMsP99: number | null;
  /** Snapshots (patches for Colyseus) per second at the observer. */
  snapshotsPerSec: number | null;
  gapP50Ms: number | null;
  gapP99Ms: number | null;
  gapMaxMs: number | null;
  /** Age of the newest information the observer holds per entity, sampled over the window. */
  stalenessP50Ms: number | null;
  stalenessP99Ms: number | null;
  /** Unreliable messages carrying snapshots per distinct snapshot tick at the observer. */
  datagramsPerSnapshot: number | null;
  snapshotBytesMean: number | null;
  snapshotBytesMax: number | null;
  /** Snapshots the observer could not decode during the window (should be 0). */
  snapshotsUndecodable: number | null;
  /** Entities in the observer's view at the end of the window (should be P). */
  entitiesSeen: number | null;
  serverRssMB: number | null;
  /** CPU s/s of the load process (P-1 clients); tells whether the load generator kept up. */
  loadCpuSps: number | null;
  /** Unreliable messages per second the server received from all clients (inputs, plus rare pings/pongs). */
  inputsPerSec: number | null;
  /** UDP packets per second the server's QUIC endpoint received / sent (WebTransport runs only). */
  udpPacketsInPerSec: number | null;
  udpPacketsOutPerSec: number | null;
  /** Datagrams the kernel dropped at the server's UDP socket in the window: the server fell behind. */
  udpSocketDrops: number | null;
  /** Snapshot encodings per second at the server, and the share of snapshots that reused one. */
  snapshotEncodesPerSec: number | null;
  snapshotShareRatio: number | null;
}

export const METRIC_KEYS: readonly (keyof RunMetrics)[] = [
  'downAppBps', 'downWireBps', 'upAppBps', 'upWireBps', 'loadDownAppBpsMean', 'serverCpuSps', 'serverCpuMsPerClient', 'serverElu',
  'simHz', 'tickMsMean', 'tickMsP99', 'snapshotsPerSec', 'gapP50Ms', 'gapP99Ms', 'gapMaxMs', 'stalenessP50Ms',
  'stalenessP99Ms', 'datagramsPerSnapshot', 'snapshotBytesMean', 'snapshotBytesMax', 'snapshotsUndecodable', 'entitiesSeen', 'serverRssMB',
  'loadCpuSps', 'inputsPerSec', 'udpPacketsInPerSec', 'udpPacketsOutPerSec', 'udpSocketDrops',
  'snapshotEncodesPerSec', 'snapshotShareRatio',
];

/** A metrics object with every field null (a failed run still prints a complete line). */
export function emptyMetrics(): RunMetrics {
  const m = {} as Record<keyof RunMetrics, number | null>;
  for (const k of METRIC_KEYS) m[k] = null;
  return m as RunMetrics;
}

export interface RunLine extends RunMetrics {
  kind: 'run';
  system: SystemName;
  transport: BenchTransport;
  P: number;
  run: number;
  windowS: number;
  /** Set when the run failed; metrics are then null. */
  error?: string;
}

export interface MedianLine extends RunMetrics {
  kind: 'median';
  system: SystemName;
  transport: BenchTransport;
  P: number;
  /** Runs that completed (failed runs are left out of the medians). */
  runs: number;
  failedRuns: number;
}

export interface RatioLine {
  kind: 'ratio';
  /** Ours over theirs; < 1 means tickwire is smaller (better for all three). */
  transport: BenchTransport;
  P: number;
  against: 'colyseus/websocket';
  downBytes: number | null;
  cpuPerClient: number | null;
  gapP99: number | null;
}

export interface TargetLine {
  kind: 'target';
  P: number;
  transport: BenchTransport;
  name: string;
  value: number | null;
  limit: number;
  /** 'max': value must be <= limit; 'min': value must be >= limit. */
  direction: 'max' | 'min';
  /** Null when the value could not be measured. */
  pass: boolean | null;
}

export type OutputLine = RunLine | MedianLine | RatioLine | TargetLine;

/** Medians over the completed runs of one (system, transport, P). */
export function medianOf(lines: readonly RunLine[]): MedianLine {
  if (lines.length === 0) throw new RangeError('medianOf needs at least one run line');
  const { system, transport, P } = lines[0];
  if (lines.some((l) => l.system !== system || l.transport !== transport || l.P !== P)) {
    throw new RangeError('medianOf: lines must share system, transport and P');
  }
  const ok = lines.filter((l) => !l.error);
  const m = emptyMetrics();
  for (const k of METRIC_KEYS) m[k] = median(ok.map((l) => l[k]));
  return { kind: 'median', system, transport, P, runs: ok.length, failedRuns: lines.length - ok.length, ...m };
}

/** Groups run lines by (system, transport, P) in first-seen order and returns their medians. */
export function mediansOf(lines: readonly RunLine[]): MedianLine[] {
  const groups = new Map<string, RunLine[]>();
  for (const l of lines) {
    const key = `${l.system}|${l.transport}|${l.P}`;
    const g = groups.get(key);
    if (g) g.push(l);
    else groups.set(key, [l]);
  }
  return [...groups.values()].map(medianOf);
}

/** ours / theirs, null when either is missing or theirs is not positive. */
export function ratio(ours: number | null, theirs: number | null): number | null {
  if (ours === null || theirs === null || !Number.isFinite(ours) || !Number.isFinite(theirs) || theirs <= 0) return null;
  return ours / theirs;
}

/** Ratio lines: each of our (transport, P) medians against Colyseus's median at the same P. */
export function ratiosOf(medians: readonly MedianLine[]): RatioLine[] {
  const out: RatioLine[] = [];
  for (const ours of medians) {
    if (ours.system !== 'tickwire') continue;
    const theirs = medians.find((m) => m.system === 'colyseus' && m.P === ours.P);
    if (!theirs) continue;
    out.push({
      kind: 'ratio',
      transport: ours.transport,
      P: ours.P,
      against: 'colyseus/websocket',
      downBytes: ratio(ours.downAppBps, theirs.downAppBps),
      cpuPerClient: ratio(ours.serverCpuMsPerClient, theirs.serverCpuMsPerClient),
      gapP99: ratio(ours.gapP99Ms, theirs.gapP99Ms),
    });
  }
  return out;
}

function target(P: number, transport: BenchTransport, name: string, value: number | null, limit: number,
  direction: 'max' | 'min'): TargetLine {
  const pass = value === null ? null : direction === 'max' ? value <= limit : value >= limit;
  return { kind: 'target', P, transport, name, value, limit, direction, pass };
}

/**
 * The targets of issue 5, checked on medians for the P values that were run:
 * - P=64: down bytes per client at most 1/5 of Colyseus's; entity staleness p99 <= 100 ms.
 * - P=256 and 512: one datagram (message) per snapshot, 20 snapshots/s (>= 19.5 measured),
 *   staleness p99 <= 250 ms.
 * - P=512 over WebTransport: simulation >= 59.5 Hz, snapshot gap p99 <= 60 ms, server CPU per
 *   client no more than Colyseus's.
 */
export function targetsOf(medians: readonly MedianLine[], ratios: readonly RatioLine[]): TargetLine[] {
  const out: TargetLine[] = [];
  for (const m of medians) {
    if (m.system !== 'tickwire') continue;
    const r = ratios.find((x) => x.transport === m.transport && x.P === m.P);
    if (m.P === 64) {
      out.push(target(m.P, m.transport, 'downBytesVsColyseus', r?.downBytes ?? null, 0.2, 'max'));
      out.push(target(m.P, m.transport, 'stalenessP99Ms', m.stalenessP99Ms, 100, 'max'));
    }
    if (m.P === 256 || m.P === 512) {
      out.push(target(m.P, m.transport, 'datagramsPerSnapshot', m.datagramsPerSnapshot, 1, 'max'));
      out.push(target(m.P, m.transport, 'snapshotsPerSec', m.snapshotsPerSec, 19.5, 'min'));
      out.push(target(m.P, m.transport, 'stalenessP99Ms', m.stalenessP99Ms, 250, 'max'));
    }
    if (m.P === 512 && m.transport === 'webtransport') {
      out.push(target(m.P, m.transport, 'simHz', m.simHz, 59.5, 'min'));
      out.push(target(m.P, m.transport, 'gapP99Ms', m.gapP99Ms, 60, 'max'));
      out.push(target(m.P, m.transport, 'cpuPerClientVsColyseus', r?.cpuPerClient ?? null, 1, 'max'));
    }
  }
  return out;
}

/** Fixed-point number for tables; '-' for null. */
export function fmt(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '-';
  return value.toFixed(digits);
}

/** Markdown table of the medians, one row per (P, system/transport), plus the ratio columns. */
export function markdownTable(medians: readonly MedianLine[], ratios: readonly RatioLine[]): string {
  const header = '| P | system | runs | down app B/s/client | down wire B/s | up app B/s | server CPU s/s | CPU ms/s per client | sim Hz | snapshots/s | gap p50 / p99 ms | staleness p50 / p99 ms | dgrams/snapshot | snapshot B mean / max | server RSS MB | load CPU s/s | down x | CPU/client x | gap p99 x |';
  const rule = '|' + '---|'.repeat(header.split('|').length - 2);
  const rows = [...medians]
    .sort((a, b) => a.P - b.P || a.system.localeCompare(b.system) || b.transport.localeCompare(a.transport))
    .map((m) => {
      const r = ratios.find((x) => m.system === 'tickwire' && x.transport === m.transport && x.P === m.P);
      const name = m.system === 'colyseus' ? 'colyseus/ws' : m.transport === 'webtransport' ? 'tickwire/wt' : 'tickwire/ws';
      return `| ${m.P} | ${name} | ${m.runs}${m.failedRuns ? ` (+${m.failedRuns} failed)` : ''} | ${fmt(m.downAppBps)} | ${fmt(m.downWireBps)} | ${fmt(m.upAppBps)} | ${fmt(m.serverCpuSps, 3)} | ${fmt(m.serverCpuMsPerClient, 3)} | ${fmt(m.simHz, 1)} | ${fmt(m.snapshotsPerSec, 1)} | ${fmt(m.gapP50Ms, 1)} / ${fmt(m.gapP99Ms, 1)} | ${fmt(m.stalenessP50Ms, 1)} / ${fmt(m.stalenessP99Ms, 1)} | ${fmt(m.datagramsPerSnapshot, 2)} | ${fmt(m.snapshotBytesMean)} / ${fmt(m.snapshotBytesMax)} | ${fmt(m.serverRssMB)} | ${fmt(m.loadCpuSps, 2)} | ${fmt(r?.downBytes, 3)} | ${fmt(r?.cpuPerClient, 2)} | ${fmt(r?.gapP99, 2)} |`;
    });
  return [header, rule, ...rows].join('\n');
}

/** Markdown list of the target checks. */
export function targetList(targets: readonly TargetLine[]): string {
  return targets
    .map((t) => `- P=${t.P} ${t.transport} ${t.name}: ${fmt(t.value, 3)} (${t.direction === 'max' ? '<=' : '>='} ${t.limit}) ${t.pass === null ? 'NOT MEASURED' : t.pass ? 'PASS' : 'FAIL'}`)
    .join('\n');
}

/**
 * Our run line from the server, observer and load reports, with notes on anything that makes
 * the run suspect (wrong transport, disconnects, reconnects, client errors).
 */
export function ourRunLine(
  base: Pick<RunLine, 'kind' | 'system' | 'transport' | 'P' | 'run' | 'windowS'>,
  s: ServerReport, o: ObserverReport, l: LoadReport,
): { line: RunLine; notes: string[] } {
  const problems: string[] = [];
  if (o.transport !== base.transport) problems.push(`observer ran over ${o.transport}`);
  if (l.connected < l.clients) problems.push(`${l.clients - l.connected} load clients disconnected`);
  if (o.reconnects > 0) problems.push(`observer reconnected ${o.reconnects}x`);
  if (s.skippedSteps) problems.push(`server tick loop skipped ${s.skippedSteps} steps`);
  const drops = Object.entries(s.drops ?? {}).filter(([, n]) => n > 0);
  if (drops.length) problems.push(`server dropped ${drops.map(([r, n]) => `${n} ${r}`).join(', ')}`);
  if (o.snapshotsUndecodable > 0) problems.push(`observer could not decode ${o.snapshotsUndecodable} snapshots`);
  const line: RunLine = {
    ...base,
    downAppBps: o.downAppBps,
    downWireBps: o.downWireBps,
    upAppBps: o.upAppBps,
    upWireBps: o.upWireBps,
    loadDownAppBpsMean: l.downAppBpsMean,
    serverCpuSps: s.cpuPerWallS,
    serverCpuMsPerClient: (s.cpuPerWallS * 1000) / base.P,
    serverElu: s.eventLoopUtilization,
    simHz: s.simHz,
    tickMsMean: s.tickMsMean,
    tickMsP99: s.tickMsP99,
    snapshotsPerSec: o.snapshotsPerSec,
    gapP50Ms: o.gapMs.p50,
    gapP99Ms: o.gapMs.p99,
    gapMaxMs: o.gapMs.max,
    stalenessP50Ms: o.stalenessMs.p50,
    stalenessP99Ms: o.stalenessMs.p99,
    datagramsPerSnapshot: o.snapshotTicks > 0 ? o.snapshots / o.snapshotTicks : null,
    snapshotBytesMean: o.snapshotBytesMean,
    snapshotBytesMax: o.snapshotBytesMax,
    snapshotsUndecodable: o.snapshotsUndecodable,
    entitiesSeen: o.entitiesSeen,
    serverRssMB: s.rssMB,
    loadCpuSps: l.cpuPerWallS,
    inputsPerSec: s.inputsPerSec,
    udpPacketsInPerSec: s.udpPacketsInPerSec,
    udpPacketsOutPerSec: s.udpPacketsOutPerSec,
    udpSocketDrops: s.udpSocketDrops,
    snapshotEncodesPerSec: s.snapshotEncodesPerSec,
    snapshotShareRatio: s.snapshotShareRatio,
  };
  const notes = [...problems, ...o.errors.map((e) => `observer: ${e}`), ...l.errors.map((e) => `load: ${e}`)];
  return { line, notes };
}
