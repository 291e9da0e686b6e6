/**
 * Server process of one benchmark run: `createGameServer` (server/index.ts, through
 * tools/lib/dev-server.ts) with the standard scene as every room's definition, on 127.0.0.1 with
 * OS-chosen ports, dev tickets on (the clients mint their own). Reports its ports (the tools'
 * JSON-line protocol), then over the window (window.ts): CPU (user + system) per wall second,
 * RSS, event-loop utilisation, simulation steps per second actually run by the room's tick loop
 * and the duration of each step (both from a timing wrapper around the scene's own `onTick`,
 * which changes nothing it does), garbage-collection pauses per second, and with
 * `--profile-dir DIR` (run.ts's --profile-server) CPU and heap profiles of the window
 * (window-profile.ts); `--wt-workers N` puts the QUIC endpoint on N worker threads.
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { standardScene } from '../../server/rooms/standard-scene.js';
import type { RoomContext, RoomDefinition } from '../../server/rooms/types.js';
import { flag, parseFlags } from '../../tools/lib/args.js';
import { emit } from '../../tools/lib/child-entry.js';
import { createDevServer } from '../../tools/lib/dev-server.js';
import { SampleReservoir, mean, percentile } from '../../tools/lib/stats.js';
import type { ServerReport } from './reports.js';
import { SERVER_LOOP_RESOLUTION_MS, serveWindow } from './window.js';
import { WindowProfiler } from './window-profile.js';

/** Longest wait for the server to close when the harness stops this process. */
const SERVER_CLOSE_LIMIT_MS = 1_000;
/** Step durations kept: 60 Hz for over a minute. */
const TICK_SAMPLE_LIMIT = 5_000;

/** `--wt-workers N` (run.ts passes bench:scene's flag): where the QUIC endpoint runs. */
const { values: args } = parseFlags(process.argv.slice(2), { 'profile-dir': flag.string(), 'wt-workers': flag.int(0, 16) });
const profiler = args['profile-dir'] ? new WindowProfiler(args['profile-dir']) : null;

/** Garbage-collection pause time (ms), summed from V8's gc performance entries. */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

let steps = 0;
let lastRoom: RoomContext | null = null;
const tickMs = new SampleReservoir(TICK_SAMPLE_LIMIT);

/** The standard scene, its `onTick` timed and counted. */
const timedScene: RoomDefinition = {
  ...standardScene,
  onTick(room, dtSeconds) {
    const t0 = performance.now();
    standardScene.onTick?.(room, dtSeconds);
    tickMs.add(performance.now() - t0);
    steps++;
    lastRoom = room;
  },
};

const server = createDevServer({
  host: '127.0.0.1',
  httpPort: 0,
  webTransportPort: 0,
  webTransportWorkers: args['wt-workers'],
  // Joining hundreds of QUIC clients saturates a 2-core box that also runs the load process; a
  // hello arriving after the default 5 s is then the load's delay, and refusing it only makes the
  // client retry. The window measures the steady state once everyone is in.
  timings: { helloTimeoutMs: 30_000 },
  // The dev ticket endpoint names room 'arena'; every room id gets the timed standard scene.
  defaultRoom: timedScene,
});
const address = await server.listen();

/** Skipped simulation steps of all rooms (the tick loop drops steps past its catch-up cap). */
function skippedSteps(): number {
  return server.rooms.list().reduce((sum, room) => sum + room.skippedSteps, 0);
}

/** Unreliable messages received (inputs, plus the rare ping/pong) and drops by reason, from the server's metrics. */
async function counters(): Promise<{ unreliableIn: number; drops: Record<string, number> }> {
  let unreliableIn = 0;
  for (const v of (await server.metrics.messages.get()).values) {
    if (v.labels.channel === 'unreliable' && v.labels.direction === 'in') unreliableIn += v.value;
  }
  const drops: Record<string, number> = {};
  for (const v of (await server.metrics.dropped.get()).values) {
    const reason = String(v.labels.reason);
    drops[reason] = (drops[reason] ?? 0) + v.value;
  }
  return { unreliableIn, drops };
}

interface Baseline {
  steps0: number;
  skipped0: number;
  counters0: Awaited<ReturnType<typeof counters>>;
  udp0: ReturnType<typeof udpPackets>;
  enc0: { encoded: number; shared: number };
  gc0: number;
}

/** Snapshot encodings done vs handed over from another member's encoding, over live sessions. */
function snapshotEncodes(): { encoded: number; shared: number } {
  let encoded = 0;
  let shared = 0;
  for (const s of server.sessions.list()) {
    const st = s.snapshotStats();
    if (st) {
      encoded += st.encoded;
      shared += st.shared;
    }
  }
  return { encoded, shared };
}

function udpPackets(): { packetsIn: number; packetsOut: number; drops: number | null } | null {
  const ep = server.webTransport?.stats().endpoint;
  return ep ? { packetsIn: ep.packetsIn, packetsOut: ep.packetsOut, drops: server.webTransport!.udpSocketDrops() } : null;
}
serveWindow<Baseline>({
  async begin() {
    tickMs.reset();
    const counters0 = await counters();
    await profiler?.start();
    return { gc0: gcMs, steps0: steps, skipped0: skippedSteps(), counters0, udp0: udpPackets(), enc0: snapshotEncodes() };
  },
  async end(w, load): Promise<ServerReport> {
    const wallS = load.wallMs / 1000;
    const gcWindowMs = gcMs - w.gc0;
    const profiled = await profiler?.stop();
    const stepsRun = steps - w.steps0;
    const skipped = skippedSteps() - w.skipped0;
    const ticks = tickMs.values();
    const c1 = await counters();
    const udp1 = udpPackets();
    const enc1 = snapshotEncodes();
    const encoded = enc1.encoded - w.enc0.encoded;
    const sharedEnc = enc1.shared - w.enc0.shared;
    const drops: Record<string, number> = {};
    for (const [reason, n] of Object.entries(c1.drops)) {
      const d = n - (w.counters0.drops[reason] ?? 0);
      if (d > 0) drops[reason] = d;
    }
    return {
      wallS,
      cpuPerWallS: load.cpuPerSec,
      gcMsPerSec: gcWindowMs / wallS,
      allocatedMiBPerSec: profiled ? profiled.allocatedBytes / 2 ** 20 / wallS : null,
      rssMB: process.memoryUsage().rss / 2 ** 20,
      eventLoopUtilization: load.eventLoopUtilization,
      simHz: stepsRun / wallS,
      skippedSteps: skipped,
      tickMsMean: mean(ticks),
      tickMsP99: percentile(ticks, 99),
      players: lastRoom ? (lastRoom as RoomContext).players.size : 0,
      inputsPerSec: (c1.unreliableIn - w.counters0.unreliableIn) / wallS,
      udpPacketsInPerSec: udp1 && w.udp0 ? (udp1.packetsIn - w.udp0.packetsIn) / wallS : null,
      udpPacketsOutPerSec: udp1 && w.udp0 ? (udp1.packetsOut - w.udp0.packetsOut) / wallS : null,
      udpSocketDrops: udp1?.drops != null && w.udp0?.drops != null ? udp1.drops - w.udp0.drops : null,
      snapshotEncodesPerSec: encoded / wallS,
      snapshotShareRatio: encoded + sharedEnc > 0 ? sharedEnc / (encoded + sharedEnc) : null,
      drops,
    };
  },
  loopResolutionMs: SERVER_LOOP_RESOLUTION_MS,
  // Close cleanly (a CPU profile is written at exit), but never hang the harness on it.
  onStop: () => Promise.race([Promise.resolve(server.close()), new Promise((r) => setTimeout(r, SERVER_CLOSE_LIMIT_MS).unref())]),
});

emit('ready', { httpPort: address.httpPort, wtPort: address.webTransportPort, baseUrl: address.httpUrl });
