/**
 * Observer process: one standard-scene player that joins first, decodes every snapshot (the
 * real GameClient) and measures, over the window: snapshot arrival gaps, entity staleness
 * (staleness.ts), application and wire bytes each way, snapshots per second and unreliable
 * messages per snapshot tick. Started by run.ts with
 *   --url <http origin> --transport webtransport|websocket
 * and driven over IPC (ipc.ts).
 */
import type { SnapshotEvent } from '../../client/net/game-client-types.js';
import { argMap, createBenchClient, epochNow, transportArg, webTransportFor, withTimeout } from './bench-client.js';
import { childIpc, type ObserverReport } from './ipc.js';
import { unwrapTime32 } from '../../shared/time32.js';
import { StalenessTracker } from './staleness.js';
import { SampleReservoir, summarize } from './stats.js';
import { CountingWebSocket, installUdpCounters, wireTotals, type WireTotals } from './wire-counters.js';

/**
 * Staleness sampling period. 7 ms is not a divisor of the 50 ms snapshot interval, so the
 * samples sweep every phase of it instead of hitting the same few.
 */
const STALENESS_SAMPLE_MS = 7;
/** Staleness samples kept (a window of 10 s at P=512 offers ~730k; the rest is sampled uniformly). */
const STALENESS_SAMPLE_LIMIT = 250_000;
/** Gap samples kept: 20 Hz for two minutes. */
const GAP_SAMPLE_LIMIT = 2_400;
/** Snapshot sizes kept for the mean and max. */
const SIZE_SAMPLE_LIMIT = 2_400;
const CONNECT_TIMEOUT_MS = 20_000;
const ERROR_LIMIT = 10;

const args = argMap(process.argv.slice(2));
const baseUrl = args.get('url') ?? '';
const transport = transportArg(args.get('transport'));
installUdpCounters();

const errors: string[] = [];
const noteError = (s: string) => {
  if (errors.length < ERROR_LIMIT) errors.push(s);
};

const client = createBenchClient({
  baseUrl, transport, name: 'observer', WebSocket: CountingWebSocket, WebTransport: await webTransportFor(transport),
});
const stalenessSamples = new SampleReservoir(STALENESS_SAMPLE_LIMIT);
const windowStaleness = new StalenessTracker(stalenessSamples);

interface Window {
  t0: number;
  stats0: ReturnType<typeof client.stats>;
  wire0: WireTotals;
  gaps: SampleReservoir;
  sizes: number[];
  snapshots: number;
  ticks: Set<number>;
  lastArrival: number | null;
  lastUnreliableBytes: number;
  sampler: NodeJS.Timeout;
}
let win: Window | null = null;

client.on('snapshot', (s: SnapshotEvent) => {
  const serverTime = unwrapTime32(s.serverTime, s.receivedAt);
  windowStaleness.onSnapshot(serverTime, s.entities, s.omitted);
  const w = win;
  if (!w) return;
  w.snapshots++;
  w.ticks.add(serverTime);
  if (w.lastArrival !== null) w.gaps.add(s.receivedAt - w.lastArrival);
  w.lastArrival = s.receivedAt;
  const unreliable = client.stats().bytesDown.unreliable;
  // Unreliable bytes since the previous snapshot: this snapshot plus any ping/pong between.
  if (w.sizes.length < SIZE_SAMPLE_LIMIT) w.sizes.push(unreliable - w.lastUnreliableBytes);
  w.lastUnreliableBytes = unreliable;
});
client.on('error', (e) => noteError(`error ${e.code ?? ''} ${e.message}`));
client.on('close', (c) => noteError(`closed ${c.code} ${c.reason}`));
client.on('reconnecting', (r) => {
  noteError(`reconnecting: ${r.reason}`);
  windowStaleness.clear();
});

const send = childIpc((c) => {
  if (c.cmd === 'start') {
    const stats0 = client.stats();
    win = {
      t0: epochNow(), stats0, wire0: wireTotals(), gaps: new SampleReservoir(GAP_SAMPLE_LIMIT), sizes: [], snapshots: 0,
      ticks: new Set(), lastArrival: null, lastUnreliableBytes: stats0.bytesDown.unreliable,
      sampler: setInterval(() => windowStaleness.sample(epochNow()), STALENESS_SAMPLE_MS),
    };
    stalenessSamples.reset();
    send({ ev: 'started' });
  } else if (c.cmd === 'stop') {
    const w = win;
    if (!w) throw new Error('stop before start');
    win = null;
    clearInterval(w.sampler);
    const wallS = (epochNow() - w.t0) / 1000;
    const s = client.stats();
    const wire = wireTotals();
    const bytes = (x: typeof s, dir: 'bytesDown' | 'bytesUp') => x[dir].reliable + x[dir].unreliable;
    const udp = transport === 'webtransport';
    const sizes = w.sizes.slice(1); // the first difference spans the time before the window's first snapshot
    const report: ObserverReport = {
      wallS,
      transport: s.transport,
      downAppBps: (bytes(s, 'bytesDown') - bytes(w.stats0, 'bytesDown')) / wallS,
      upAppBps: (bytes(s, 'bytesUp') - bytes(w.stats0, 'bytesUp')) / wallS,
      downWireBps: ((udp ? wire.udpIn - w.wire0.udpIn : wire.tcpIn - w.wire0.tcpIn)) / wallS,
      upWireBps: ((udp ? wire.udpOut - w.wire0.udpOut : wire.tcpOut - w.wire0.tcpOut)) / wallS,
      snapshots: w.snapshots,
      snapshotsPerSec: w.snapshots / wallS,
      snapshotTicks: w.ticks.size,
      snapshotBytesMean: sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : null,
      snapshotBytesMax: sizes.length ? Math.max(...sizes) : null,
      snapshotsUndecodable: s.snapshotsDropped - w.stats0.snapshotsDropped,
      gapMs: summarize(w.gaps.values()),
      stalenessMs: summarize(stalenessSamples.values()),
      entitiesSeen: windowStaleness.size,
      reconnects: s.reconnects - w.stats0.reconnects,
      errors: [...errors],
    };
    send({ ev: 'stopped', report });
  } else if (c.cmd === 'exit') {
    client.close('bench finished');
    setTimeout(() => process.exit(0), 50);
  }
});

const t0 = epochNow();
try {
  await withTimeout(client.connect(), CONNECT_TIMEOUT_MS, 'observer connect');
  send({ ev: 'joined', clients: 1, joinMs: epochNow() - t0 });
} catch (err) {
  send({ ev: 'fatal', message: `observer could not join: ${err instanceof Error ? err.message : String(err)}; ${errors.join('; ')}` });
  setTimeout(() => process.exit(1), 100);
}
