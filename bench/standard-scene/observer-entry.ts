/**
 * Observer process: one standard-scene player (a one-bot fleet of tools/bots/fleet.ts) that
 * joins first, decodes every snapshot (the real GameClient) and measures, over the window: snapshot arrival gaps, entity staleness
 * (staleness.ts), application and wire bytes each way, snapshots per second and unreliable
 * messages per snapshot tick. Started by run.ts with
 *   --url <http origin> --transport webtransport|websocket
 * and driven by its commands (reports.ts).
 */
import type { SnapshotEvent } from '../../client/net/game-client-types.js';
import { BotFleet } from '../../tools/bots/fleet.js';
import { NodeWebTransportConstructor } from '../../tools/bots/node-webtransport.js';
import { flag, parseFlags } from '../../tools/lib/args.js';
import { emit, fail } from '../../tools/lib/child-entry.js';
import { epochNow, sleep } from '../../tools/lib/clock.js';
import { mean, SampleReservoir, summarize } from '../../tools/lib/stats.js';
import { unwrapTime32 } from '../../shared/time32.js';
import type { ObserverReport } from './reports.js';
import { serveWindow } from './window.js';
import { StalenessTracker } from './staleness.js';
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
/** Time for the leave message to go out when stopped. */
const CLOSE_FLUSH_MS = 50;

const { values: args } = parseFlags(process.argv.slice(2), {
  url: flag.origin(),
  transport: flag.choice(['webtransport', 'websocket'] as const),
});
if (!args.url || !args.transport) throw new Error('observer-entry needs --url and --transport');
const transport = args.transport;
installUdpCounters();

const fleet = new BotFleet({
  url: args.url,
  transport,
  count: 1,
  name: () => 'observer',
  steering: { kind: 'every-input' },
  WebSocket: CountingWebSocket,
  WebTransport: NodeWebTransportConstructor,
  errorLimit: ERROR_LIMIT,
});
const client = fleet.bots[0].client!;
const stalenessSamples = new SampleReservoir(STALENESS_SAMPLE_LIMIT);
const windowStaleness = new StalenessTracker(stalenessSamples);

interface Window {
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
client.on('reconnecting', (r) => {
  fleet.errors.note(`reconnecting: ${r.reason}`);
  windowStaleness.clear();
});

serveWindow<Window>({
  begin() {
    const stats0 = client.stats();
    stalenessSamples.reset();
    win = {
      stats0, wire0: wireTotals(), gaps: new SampleReservoir(GAP_SAMPLE_LIMIT), sizes: [], snapshots: 0,
      ticks: new Set(), lastArrival: null, lastUnreliableBytes: stats0.bytesDown.unreliable,
      sampler: setInterval(() => windowStaleness.sample(epochNow()), STALENESS_SAMPLE_MS),
    };
    return win;
  },
  end(w, load): ObserverReport {
    win = null;
    clearInterval(w.sampler);
    const wallS = load.wallMs / 1000;
    const s = client.stats();
    const wire = wireTotals();
    const bytes = (x: typeof s, dir: 'bytesDown' | 'bytesUp') => x[dir].reliable + x[dir].unreliable;
    const udp = transport === 'webtransport';
    const sizes = w.sizes.slice(1); // the first difference spans the time before the window's first snapshot
    return {
      wallS,
      transport: s.transport,
      downAppBps: (bytes(s, 'bytesDown') - bytes(w.stats0, 'bytesDown')) / wallS,
      upAppBps: (bytes(s, 'bytesUp') - bytes(w.stats0, 'bytesUp')) / wallS,
      downWireBps: ((udp ? wire.udpIn - w.wire0.udpIn : wire.tcpIn - w.wire0.tcpIn)) / wallS,
      upWireBps: ((udp ? wire.udpOut - w.wire0.udpOut : wire.tcpOut - w.wire0.tcpOut)) / wallS,
      snapshots: w.snapshots,
      snapshotsPerSec: w.snapshots / wallS,
      snapshotTicks: w.ticks.size,
      snapshotBytesMean: mean(sizes),
      snapshotBytesMax: sizes.length ? Math.max(...sizes) : null,
      snapshotsUndecodable: s.snapshotsDropped - w.stats0.snapshotsDropped,
      gapMs: summarize(w.gaps.values()),
      stalenessMs: summarize(stalenessSamples.values()),
      entitiesSeen: windowStaleness.size,
      reconnects: s.reconnects - w.stats0.reconnects,
      errors: fleet.errors.samples,
    };
  },
  onStop: async () => {
    fleet.close('bench finished');
    await sleep(CLOSE_FLUSH_MS);
  },
});

const joined = await fleet.join({ timeoutMs: CONNECT_TIMEOUT_MS });
if (joined.joined === 1) emit('joined', { clients: 1, joinMs: joined.elapsedMs });
else fail(`observer could not join: ${fleet.errors.samples.join('; ')}`);
