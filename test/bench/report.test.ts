import { describe, expect, it } from 'vitest';
import { colyseusRunLine } from '../../bench/standard-scene/peer.js';
import {
  emptyMetrics, fmt, markdownTable, medianOf, mediansOf, METRIC_KEYS, ourRunLine, ratio, ratiosOf, targetList, targetsOf,
  type MedianLine, type RunLine,
} from '../../bench/standard-scene/report.js';
import type { LoadReport, ObserverReport, ServerReport } from '../../bench/standard-scene/reports.js';

function line(over: Partial<RunLine>): RunLine {
  return { kind: 'run', system: 'tickwire', transport: 'webtransport', P: 64, run: 1, windowS: 10, ...emptyMetrics(), ...over };
}

describe('medians of runs', () => {
  it('takes the median per metric and leaves failed runs out', () => {
    const m = medianOf([
      line({ run: 1, downAppBps: 4000, gapP99Ms: 55 }),
      line({ run: 2, downAppBps: 5000, gapP99Ms: 70 }),
      line({ run: 3, error: 'boom' }),
    ]);
    expect(m.kind).toBe('median');
    expect(m.runs).toBe(2);
    expect(m.failedRuns).toBe(1);
    expect(m.downAppBps).toBe(4500);
    expect(m.gapP99Ms).toBe(62.5);
    expect(m.stalenessP99Ms).toBeNull();
  });

  it('refuses mixed groups and empty input', () => {
    expect(() => medianOf([])).toThrow(RangeError);
    expect(() => medianOf([line({ P: 16 }), line({ P: 64 })])).toThrow(RangeError);
  });

  it('groups by system, transport and P in first-seen order', () => {
    const ms = mediansOf([
      line({ P: 64, transport: 'webtransport', downAppBps: 1 }),
      line({ P: 64, transport: 'websocket', downAppBps: 2 }),
      line({ P: 64, system: 'colyseus', transport: 'websocket', downAppBps: 3 }),
      line({ P: 64, transport: 'webtransport', run: 2, downAppBps: 5 }),
    ]);
    expect(ms.map((m) => [m.system, m.transport, m.P, m.downAppBps])).toEqual([
      ['tickwire', 'webtransport', 64, 3],
      ['tickwire', 'websocket', 64, 2],
      ['colyseus', 'websocket', 64, 3],
    ]);
  });
});

describe('ratios against Colyseus', () => {
  it('ratio is ours/theirs and null when undefined', () => {
    expect(ratio(10, 40)).toBe(0.25);
    expect(ratio(null, 40)).toBeNull();
    expect(ratio(10, null)).toBeNull();
    expect(ratio(10, 0)).toBeNull();
    expect(ratio(Number.NaN, 1)).toBeNull();
  });

  it('pairs each of our transports with the peer at the same P', () => {
    const ms = mediansOf([
      line({ P: 64, transport: 'webtransport', downAppBps: 4400, serverCpuMsPerClient: 0.5, gapP99Ms: 55 }),
      line({ P: 64, transport: 'websocket', downAppBps: 4600, serverCpuMsPerClient: 1, gapP99Ms: 60 }),
      line({ P: 64, system: 'colyseus', transport: 'websocket', downAppBps: 22000, serverCpuMsPerClient: 2, gapP99Ms: 110 }),
      line({ P: 16, transport: 'webtransport', downAppBps: 1000 }),
    ]);
    const rs = ratiosOf(ms);
    expect(rs).toEqual([
      { kind: 'ratio', transport: 'webtransport', P: 64, against: 'colyseus/websocket', downBytes: 0.2, cpuPerClient: 0.25, gapP99: 0.5 },
      { kind: 'ratio', transport: 'websocket', P: 64, against: 'colyseus/websocket', downBytes: 4600 / 22000, cpuPerClient: 0.5, gapP99: 60 / 110 },
    ]);
  });
});

describe('targets of issue 5', () => {
  const medians = (): MedianLine[] => mediansOf([
    line({ P: 64, downAppBps: 4000, stalenessP99Ms: 90 }),
    line({ P: 64, system: 'colyseus', transport: 'websocket', downAppBps: 22000 }),
    line({ P: 512, datagramsPerSnapshot: 1, snapshotsPerSec: 19.9, stalenessP99Ms: 260, simHz: 59.9, gapP99Ms: 58, serverCpuMsPerClient: 0.7 }),
    line({ P: 512, system: 'colyseus', transport: 'websocket', serverCpuMsPerClient: 0.62 }),
  ]);

  it('checks each goal with the right direction and reports pass/fail', () => {
    const ms = medians();
    const ts = targetsOf(ms, ratiosOf(ms));
    const get = (P: number, name: string) => ts.find((t) => t.P === P && t.name === name)!;
    expect(get(64, 'downBytesVsColyseus').value).toBeCloseTo(4000 / 22000);
    expect(get(64, 'downBytesVsColyseus').pass).toBe(true);
    expect(get(64, 'stalenessP99Ms').pass).toBe(true);
    expect(get(512, 'datagramsPerSnapshot').pass).toBe(true);
    expect(get(512, 'snapshotsPerSec')).toMatchObject({ direction: 'min', limit: 19.5, pass: true });
    expect(get(512, 'stalenessP99Ms')).toMatchObject({ limit: 250, pass: false });
    expect(get(512, 'simHz').pass).toBe(true);
    expect(get(512, 'gapP99Ms').pass).toBe(true);
    expect(get(512, 'cpuPerClientVsColyseus').value).toBeCloseTo(0.7 / 0.62);
    expect(get(512, 'cpuPerClientVsColyseus').pass).toBe(false);
    expect(ts.filter((t) => t.P === 64)).toHaveLength(2);
  });

  it('an unmeasured value is neither pass nor fail', () => {
    const ms = mediansOf([line({ P: 256 })]);
    const ts = targetsOf(ms, ratiosOf(ms));
    expect(ts.every((t) => t.pass === null)).toBe(true);
    expect(targetList(ts)).toContain('NOT MEASURED');
  });
});

describe('formatting', () => {
  it('fmt rounds and shows missing values as a dash', () => {
    expect(fmt(1234.567)).toBe('1235');
    expect(fmt(0.12345, 3)).toBe('0.123');
    expect(fmt(null)).toBe('-');
    expect(fmt(undefined)).toBe('-');
    expect(fmt(Number.NaN)).toBe('-');
  });

  it('the Markdown table has one row per median, sorted by P, with ratios on our rows', () => {
    const ms = mediansOf([
      line({ P: 64, downAppBps: 4400, serverCpuMsPerClient: 0.5, gapP99Ms: 55 }),
      line({ P: 64, system: 'colyseus', transport: 'websocket', downAppBps: 22000, serverCpuMsPerClient: 2, gapP99Ms: 110 }),
      line({ P: 16, transport: 'websocket', downAppBps: 1000 }),
    ]);
    const table = markdownTable(ms, ratiosOf(ms)).split('\n');
    expect(table).toHaveLength(5);
    const columns = table[0].split('|').length;
    for (const row of table) expect(row.split('|').length).toBe(columns);
    expect(table[2]).toMatch(/^\| 16 \| tickwire\/ws \| 1 \| 1000 \|/);
    expect(table[3]).toMatch(/^\| 64 \| colyseus\/ws \|/);
    expect(table[4]).toMatch(/^\| 64 \| tickwire\/wt \| 1 \| 4400 \|/);
    expect(table[4]).toMatch(/\| 0\.200 \| 0\.25 \| 0\.50 \|$/);
    expect(table[3]).toMatch(/\| - \| - \| - \|$/);
  });
});

describe('run lines from the children', () => {
  const server: ServerReport = {
    wallS: 10, cpuPerWallS: 0.32, rssMB: 90, eventLoopUtilization: 0.3, simHz: 60, skippedSteps: 0, tickMsMean: 0.2, tickMsP99: 0.9, players: 64, inputsPerSec: 1280,
    udpPacketsInPerSec: 2600, udpPacketsOutPerSec: 1400, udpSocketDrops: 0,
    snapshotEncodesPerSec: 300, snapshotShareRatio: 0.75, drops: {},
  };
  const observer: ObserverReport = {
    wallS: 10, transport: 'webtransport', downAppBps: 4000, upAppBps: 700, downWireBps: 4600, upWireBps: 1100, snapshots: 200,
    snapshotsPerSec: 20, snapshotTicks: 200, snapshotBytesMean: 198, snapshotBytesMax: 240, snapshotsUndecodable: 0,
    gapMs: { count: 199, p50: 50, p99: 56, max: 60 }, stalenessMs: { count: 90000, p50: 30, p99: 70, max: 80 }, entitiesSeen: 64,
    reconnects: 0, errors: [],
  };
  const load: LoadReport = { wallS: 10, clients: 63, connected: 63, downAppBpsMean: 4010, upAppBpsMean: 700, cpuPerWallS: 0.5, rssMB: 200, errors: [] };
  const base = { kind: 'run' as const, system: 'tickwire' as const, transport: 'webtransport' as const, P: 64, run: 1, windowS: 10 };

  it('maps every metric and derives CPU per client and datagrams per snapshot', () => {
    const { line: l, notes } = ourRunLine(base, server, observer, load);
    expect(notes).toEqual([]);
    expect(l.serverCpuMsPerClient).toBeCloseTo(5);
    expect(l.datagramsPerSnapshot).toBe(1);
    expect(l.stalenessP99Ms).toBe(70);
    expect(l.gapP99Ms).toBe(56);
    expect(l.loadDownAppBpsMean).toBe(4010);
    for (const k of METRIC_KEYS) expect(l[k], k).not.toBeUndefined();
  });

  it('notes a wrong transport, disconnects, reconnects and errors', () => {
    const { line: l, notes } = ourRunLine(base, { ...server, skippedSteps: 12, drops: { queue_full: 30, stale: 0 } },
      { ...observer, transport: 'websocket', reconnects: 1, errors: ['closed 4008 idle'], snapshotTicks: 100 },
      { ...load, connected: 60, errors: ['x'] });
    expect(l.datagramsPerSnapshot).toBe(2);
    expect(notes.join('\n')).toMatch(/observer ran over websocket/);
    expect(notes.join('\n')).toMatch(/3 load clients disconnected/);
    expect(notes.join('\n')).toMatch(/reconnected 1x/);
    expect(notes.join('\n')).toMatch(/observer: closed 4008 idle/);
    expect(notes.join('\n')).toMatch(/skipped 12 steps/);
    expect(notes.join('\n')).toMatch(/server dropped 30 queue_full$/m);
  });
});

describe('Colyseus results mapping', () => {
  // Shape of the peer's results/P64_run1.json (values from its RESULTS.md).
  const peerJson = {
    P: 64, run: 1,
    server: { cpuPerWallS: 0.0742, rssMB: 83.8, tickHz: 61.56, tickMeanMs: 0.1145, inputsPerS: 1267.8 },
    client: { observer: { downAppBps: 22589.4, upAppBps: 689.0, downSockBps: 22669.6, upSockBps: 809.0, patchHz: 19.89,
      patchBytes: { mean: 1135.9, min: 973, max: 1153 }, gapMs: { p50: 50.18, p99: 95.27, max: 117.42 }, playersInState: 64 } },
    load: { allClients: { downAppBpsMean: 22586.7 }, clientProcCpuPerWallS: 0.0737 },
  };

  it('maps the peer fields onto a run line', () => {
    const l = colyseusRunLine(peerJson, 2, 10);
    expect(l).toMatchObject({
      kind: 'run', system: 'colyseus', transport: 'websocket', P: 64, run: 2, windowS: 10,
      downAppBps: 22589.4, downWireBps: 22669.6, upAppBps: 689.0, upWireBps: 809.0, loadDownAppBpsMean: 22586.7,
      serverCpuSps: 0.0742, simHz: 61.56, tickMsMean: 0.1145, snapshotsPerSec: 19.89, gapP50Ms: 50.18, gapP99Ms: 95.27,
      gapMaxMs: 117.42, snapshotBytesMean: 1135.9, snapshotBytesMax: 1153, entitiesSeen: 64, serverRssMB: 83.8,
      loadCpuSps: 0.0737, inputsPerSec: 1267.8, stalenessP99Ms: null, datagramsPerSnapshot: null,
    });
    expect(l.serverCpuMsPerClient).toBeCloseTo((0.0742 * 1000) / 64);
    expect(l.error).toBeUndefined();
  });

  it('tolerates missing or mistyped fields (null, never a throw)', () => {
    const l = colyseusRunLine({ P: 16, server: { cpuPerWallS: 'x' }, client: null }, 1, 3);
    expect(l.P).toBe(16);
    expect(l.serverCpuSps).toBeNull();
    expect(l.downAppBps).toBeNull();
    expect(colyseusRunLine(null, 1, 3).P).toBe(0);
  });
});
