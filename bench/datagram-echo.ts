/**
 * Datagram echo benchmark: server CPU per datagram and echo throughput for 1, 200 and 1000
 * sessions over our WebTransport stack, beside a plain node:dgram echo of the same traffic (the
 * floor) in the same run. The load runs in a child process (bench/datagram-echo-load.ts) so the
 * server's CPU (process.cpuUsage of this process) is measured alone.
 *
 * Prints JSON lines: per session count, WebTransport, plain UDP at full speed (the floor), and
 * plain UDP capped at the rate WebTransport achieved (the same traffic), then a ratio line:
 * `cpuPerDatagramRatio` = WebTransport / same-traffic UDP (target <= 2.5 at 200 sessions, issue
 * 12), and the ratio against full-speed UDP, whose per-datagram cost is lowest because each
 * wake-up handles many packets.
 *
 * `--pin SERVER:CLIENTS` (tools/lib/pin.ts, as bench:scene): this process, where the echo server
 * runs, moves every thread to the SERVER CPUs at start (`taskset -a -p`; threads started later,
 * the QUIC binding's and the --workers threads among them, inherit them), and every load child
 * starts under `taskset -c CLIENTS`. The header line prints the plan, and each measured line
 * the CPUs every thread of the server and of the load child is allowed, read back from /proc.
 *
 *   npm run bench:datagram                   # 1, 200, 1000 sessions, 3 s each
 *   npm run bench:datagram -- --seconds 5 --sessions 200 --inflight 2 --payload 200
 *   npm run bench:datagram -- --runs 3          # medians over three runs (noisy shared boxes)
 *   npm run bench:datagram -- --workers 1       # the endpoint on a worker thread, the echo on the
 *                                               # main thread through the hand-off (the game's path)
 *   npm run bench:datagram -- --pin 0:1 --sessions 200 --seconds 4 --runs 3
 *                                               # the server on CPU 0, the load on CPU 1
 *   npm run bench:datagram -- --pin 0:1 --sessions 200 --seconds 4 --runs 3 --layers
 *                                               # also our QUIC layer alone and the bare binding
 *
 * `--layers` splits the WebTransport echo's cost into layers (bench/datagram-echo-quic.ts): the
 * same echo over raw QUIC through our QUIC layer (no HTTP/3), and over the least JavaScript that
 * can drive the binding (`bare`). Each prints its own line; the ratio and median lines then carry
 * `quicLayerUsPerDatagram` and `bareBindingUsPerDatagram` and their ratios to the same-rate UDP
 * floor: what a server on this binding can reach at best, against what ours costs.
 */
import dgram from 'node:dgram';
import { createDevCertificate, type DevCertificate } from '../certs/dev-cert.js';
import { WebTransportServer } from '../server/h3/server.js';
import { MAX_CONNECTIONS } from '../server/h3/quic/limits.js';
import { WebTransportWorkers } from '../server/transports/wt-worker/worker-pool.js';
import { startBareEchoServer, startQuicEchoServer, type EchoServer } from './datagram-echo-quic.js';
import { cliArgs, flag, parseFlags } from '../tools/lib/args.js';
import { ToolChild } from '../tools/lib/child.js';
import { sleep } from '../tools/lib/clock.js';
import { writeJsonLine } from '../tools/lib/json-lines.js';
import { checkPinCpus, pinFlag, pinProcess, threadCpus, type PinPlan } from '../tools/lib/pin.js';
import { median } from '../tools/lib/stats.js';

interface Args {
  help: boolean;
  /** Run only one side (profiling); the ratio line needs wt and udp. */
  only: 'wt' | 'udp' | 'quic' | 'bare' | null;
  /** Repetitions of the whole set; with more than one, median lines close the output. */
  runs: number;
  seconds: number;
  sessions: number[];
  inflight: number;
  payload: number;
  /** 0: the echo on the endpoint's thread; n: the endpoint on n workers, the echo on the main thread. */
  workers: number;
  /** Count the Node timers this process arms (setTimeout calls) per echoed datagram. */
  countTimers: boolean;
  /** `--pin`: CPUs of the echo server (this process) and of the load children; null = no pinning. */
  pin: PinPlan | null;
  /** `--layers`: also measure our QUIC layer alone and the bare binding (bench/datagram-echo-quic.ts). */
  layers: boolean;
}

const USAGE = `usage: npm run bench:datagram -- [--seconds 3] [--sessions 1,200,1000] [--inflight 1] [--payload 100]
                                 [--runs 1] [--only wt|udp|quic|bare] [--workers 0] [--count-timers] [--pin SERVER:CLIENTS] [--layers]
  --pin SERVER:CLIENTS  taskset CPU lists: this process (the echo server, every thread) on SERVER,
                        each load child on CLIENTS, e.g. --pin 0:1`;

const FLAGS = {
  seconds: flag.number(1, 60),
  sessions: flag.ints(1, 5000),
  inflight: flag.int(1, 16),
  runs: flag.int(1, 9),
  only: flag.choice(['wt', 'udp', 'quic', 'bare'] as const),
  payload: flag.int(1, 1100),
  workers: flag.int(0, 8),
  'count-timers': flag.boolean(),
  pin: flag.string(),
  layers: flag.boolean(),
};

/** The flags; throws UsageError on a bad command line. */
function parseArgs(argv: readonly string[]): Args {
  const { values: v, help } = parseFlags(argv, FLAGS);
  return {
    help,
    only: v.only ?? null,
    runs: v.runs ?? 1,
    seconds: v.seconds ?? 3,
    sessions: v.sessions ?? [1, 200, 1000],
    inflight: v.inflight ?? 1,
    payload: v.payload ?? 100,
    workers: v.workers ?? 0,
    countTimers: v['count-timers'] ?? false,
    pin: v.pin === undefined ? null : pinFlag(v.pin),
    layers: v.layers ?? false,
  };
}

/**
 * The echo server's limits: every load session comes from 127.0.0.1, so the per-address share of
 * QUIC connections (MAX_CONNECTIONS_PER_ADDRESS, meant for the open internet) is lifted to the
 * endpoint's total, as in the tools' dev server.
 */
const ECHO_LIMITS = { maxSessions: 100_000, maxConnectionsPerAddress: MAX_CONNECTIONS };

/** Issue 12's target for this bench (the ratio line and the header print it). */
const TARGET = 'cpuPerDatagramRatio (WebTransport vs plain UDP carrying the same traffic) <= 2.5 at 200 sessions';

/** Upper bound for one phase (connect + measure); the whole run is bounded by the phases. */
const PHASE_TIMEOUT_MS = 90_000;

interface Measured {
  echoesPerSec: number;
  serverCpuUsPerDatagram: number;
  serverCpuPercent: number;
  datagramsAtServer: number;
  refills: number;
  /** UDP packets the server received and sent per echoed datagram (the QUIC servers, not plain UDP). */
  packetsInPerDatagram?: number;
  packetsOutPerDatagram?: number;
  /** With --count-timers: setTimeout calls of this process per echoed datagram (in-thread only). */
  serverTimersPerDatagram?: number;
  /** With --pin: the distinct CPU lists of the server's and the load child's threads, read back during the window. */
  serverThreadCpus?: string[];
  loadThreadCpus?: string[];
}

/** setTimeout calls of this process so far, once `countTimers()` wrapped it. */
let timersArmed = 0;

/**
 * Wraps the global setTimeout with a counter (--count-timers): a count, free of the box's noise,
 * of the timers the server arms per datagram. Node's own modules keep their own reference and
 * are not counted; ours (server/h3) call the global.
 */
function countTimers(): void {
  const original = globalThis.setTimeout;
  globalThis.setTimeout = ((...a: Parameters<typeof setTimeout>) => {
    timersArmed++;
    return original(...a);
  }) as typeof setTimeout;
}

/** The server's UDP packet counters (received, sent), where the server keeps them. */
type PacketCounts = () => { packetsIn: number; packetsOut: number };

async function measure(mode: 'wt' | 'quic' | 'udp', port: number, sessions: number, args: Args, serverCount: () => number, hash?: string, rate = 0, packets?: PacketCounts): Promise<Measured> {
  const child = ToolChild.script('bench/datagram-echo-load.ts', [], { label: `load ${mode}`, echo: true, cpus: args.pin?.clients });
  try {
    child.send({ cmd: 'start', mode, port, sessions, inflight: args.inflight, payload: args.payload, hash, rate });
    await child.waitFor('ready', PHASE_TIMEOUT_MS);
    // Warm up (JIT, congestion windows), then measure.
    child.send({ cmd: 'go' });
    await child.waitFor('going', PHASE_TIMEOUT_MS);
    await sleep(500);
    const c0 = serverCount();
    const p0 = packets?.();
    const timers0 = timersArmed;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(args.seconds * 1000);
    const cpu = process.cpuUsage(cpu0);
    const elapsed = (performance.now() - t0) / 1000;
    const n = serverCount() - c0;
    const p1 = packets?.();
    const timers = timersArmed - timers0;
    // Read back while every thread (the binding's, the workers', the child's) is running.
    const pinned = args.pin && child.pid ? { serverThreadCpus: threadCpus('self'), loadThreadCpus: threadCpus(child.pid) } : {};
    child.send({ cmd: 'stop' });
    const stop = await child.waitFor('stopped', PHASE_TIMEOUT_MS);
    const cpuUs = cpu.user + cpu.system;
    return {
      echoesPerSec: Math.round(n / elapsed),
      serverCpuUsPerDatagram: n > 0 ? +(cpuUs / n).toFixed(2) : NaN,
      serverCpuPercent: +((cpuUs / 1e6 / elapsed) * 100).toFixed(1),
      datagramsAtServer: n,
      refills: Number(stop.refills ?? 0),
      ...(p0 && p1 && n > 0
        ? { packetsInPerDatagram: +((p1.packetsIn - p0.packetsIn) / n).toFixed(3), packetsOutPerDatagram: +((p1.packetsOut - p0.packetsOut) / n).toFixed(3) }
        : {}),
      ...(args.countTimers && n > 0 ? { serverTimersPerDatagram: +(timers / n).toFixed(3) } : {}),
      ...pinned,
    };
  } finally {
    await child.stop();
  }
}

async function main(): Promise<void> {
  const args = cliArgs(() => {
    const parsed = parseArgs(process.argv.slice(2));
    if (parsed.pin) checkPinCpus(parsed.pin);
    return parsed;
  }, USAGE);
  // Before the certificate, the endpoint and any worker: every thread started later inherits.
  if (args.pin) pinProcess(process.pid, args.pin.server);
  writeJsonLine({
    bench: 'datagram-echo', header: true, sessions: args.sessions, seconds: args.seconds, runs: args.runs, workers: args.workers,
    pin: args.pin ? { server: args.pin.server, clients: args.pin.clients } : null,
    ...(args.pin ? { serverThreadCpus: threadCpus('self') } : {}),
    target: TARGET,
  });
  const cert = createDevCertificate();
  if (args.countTimers) countTimers();
  const summary = new Map<number, { ratio: number[]; ratioUnpaced: number[]; wtUs: number[]; udpUs: number[]; quicUs: number[]; bareUs: number[] }>();
  for (let run = 0; run < args.runs; run++) {
    for (const sessions of args.sessions) {
      let udp: Measured | null = null;
      let paced: Measured | null = null;
      let wt: Measured | null = null;
      if (args.only === null || args.only === 'wt') wt = await runWt(sessions, args, cert);
      const layers = (which: 'quic' | 'bare') => args.only === which || (args.layers && args.only === null);
      const quic = layers('quic') ? await runLayer('quic-layer', sessions, args, () => startQuicEchoServer(cert)) : null;
      const bare = layers('bare') ? await runLayer('bare-binding', sessions, args, () => startBareEchoServer(cert)) : null;
      if (args.only === null || args.only === 'udp') udp = await runUdp(sessions, args, 0);
      // The same traffic as the WebTransport run: plain UDP at the rate WebTransport achieved.
      if (wt && args.only === null) paced = await runUdp(sessions, args, wt.echoesPerSec);
      if (udp && wt && paced) {
        const ratio = +(wt.serverCpuUsPerDatagram / paced.serverCpuUsPerDatagram).toFixed(2);
        const ratioUnpaced = +(wt.serverCpuUsPerDatagram / udp.serverCpuUsPerDatagram).toFixed(2);
        writeJsonLine({
          bench: 'datagram-echo', ratio: true, run, sessions,
          cpuPerDatagramRatio: ratio,
          cpuPerDatagramRatioVsUnpacedUdp: ratioUnpaced,
          throughputRatio: +(wt.echoesPerSec / udp.echoesPerSec).toFixed(2),
          ...(quic && bare ? layerFields(quic.serverCpuUsPerDatagram, bare.serverCpuUsPerDatagram, paced.serverCpuUsPerDatagram) : {}),
          target: TARGET,
        });
        const e = summary.get(sessions) ?? { ratio: [], ratioUnpaced: [], wtUs: [], udpUs: [], quicUs: [], bareUs: [] };
        e.ratio.push(ratio);
        e.ratioUnpaced.push(ratioUnpaced);
        e.wtUs.push(wt.serverCpuUsPerDatagram);
        e.udpUs.push(paced.serverCpuUsPerDatagram);
        if (quic && bare) {
          e.quicUs.push(quic.serverCpuUsPerDatagram);
          e.bareUs.push(bare.serverCpuUsPerDatagram);
        }
        summary.set(sessions, e);
      }
    }
  }
  if (args.runs > 1) {
    for (const [sessions, e] of summary) {
      writeJsonLine({
        bench: 'datagram-echo', median: true, runs: args.runs, sessions,
        wtServerCpuUsPerDatagram: median2(e.wtUs),
        udpSameRateServerCpuUsPerDatagram: median2(e.udpUs),
        cpuPerDatagramRatio: median2(e.ratio),
        cpuPerDatagramRatioVsUnpacedUdp: median2(e.ratioUnpaced),
        ...(e.bareUs.length > 0 ? layerFields(median2(e.quicUs) ?? NaN, median2(e.bareUs) ?? NaN, median2(e.udpUs) ?? NaN) : {}),
      });
    }
  }
}

/** `--layers`' fields of a ratio or median line: µs per datagram of each layer and its ratio to the UDP floor. */
function layerFields(quicUs: number, bareUs: number, udpUs: number): Record<string, number> {
  return {
    quicLayerUsPerDatagram: quicUs,
    bareBindingUsPerDatagram: bareUs,
    quicLayerRatio: +(quicUs / udpUs).toFixed(2),
    bareBindingRatio: +(bareUs / udpUs).toFixed(2),
  };
}

/** Median of runs, to two decimals (the per-run figures carry two). */
function median2(xs: number[]): number | null {
  const m = median(xs);
  return m === null ? null : +m.toFixed(2);
}

/** Plain UDP echo: the floor. `rate` > 0 caps the load at that many echoes/s. */
async function runUdp(sessions: number, args: Args, rate: number): Promise<Measured> {
  {
    const sock = dgram.createSocket('udp4');
    let udpCount = 0;
    sock.on('message', (msg, rinfo) => {
      udpCount++;
      sock.send(msg, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const udp = await measure('udp', sock.address().port, sessions, args, () => udpCount, undefined, rate);
    await new Promise<void>((r) => sock.close(() => r()));
    writeJsonLine({ bench: 'datagram-echo', transport: rate ? 'udp-same-rate' : 'udp', sessions, rateCap: rate || null, inflight: args.inflight, payload: args.payload, seconds: args.seconds, ...udp });
    return udp;
  }
}

/** One of `--layers`' echo servers (bench/datagram-echo-quic.ts), loaded over raw QUIC. */
async function runLayer(transport: 'quic-layer' | 'bare-binding', sessions: number, args: Args, start: () => Promise<EchoServer>): Promise<Measured> {
  const server = await start();
  try {
    const m = await measure('quic', server.port, sessions, args, server.echoed, undefined, 0, server.packets);
    writeJsonLine({ bench: 'datagram-echo', transport, sessions, inflight: args.inflight, payload: args.payload, seconds: args.seconds, ...m });
    return m;
  } finally {
    await server.close();
  }
}

/** Our WebTransport server, echoing datagrams. */
async function runWt(sessions: number, args: Args, cert: DevCertificate): Promise<Measured> {
  if (args.workers > 0) return runWtWorkers(sessions, args, cert);
  {
    const server = new WebTransportServer({ ...ECHO_LIMITS, certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/echo'] });
    let wtCount = 0;
    server.onSession = (s) => {
      s.onDatagram = (d) => {
        wtCount++;
        s.sendDatagram(d);
      };
    };
    const { port } = await server.listen();
    const wt = await measure('wt', port, sessions, args, () => wtCount, cert.sha256Base64, 0, () => server.stats().endpoint);
    const dropped = server.stats().datagrams;
    await server.close();
    writeJsonLine({ bench: 'datagram-echo', transport: 'webtransport', sessions, inflight: args.inflight, payload: args.payload, seconds: args.seconds, ...wt, serverDatagramDrops: dropped.droppedQueueFull + dropped.droppedTooLarge });
    return wt;
  }
}

/**
 * The endpoint on worker threads: each datagram crosses to the main thread (a RemoteConnection,
 * as the game sees it) and its echo back, in the per-turn batches. process.cpuUsage counts
 * every thread of the process.
 */
async function runWtWorkers(sessions: number, args: Args, cert: DevCertificate): Promise<Measured> {
  // The echo sessions never open the game's reliable stream: give them the whole run.
  const pool = new WebTransportWorkers({ workers: args.workers, server: { ...ECHO_LIMITS, certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/echo'] }, streamOpenMs: PHASE_TIMEOUT_MS * 4 });
  let wtCount = 0;
  pool.onConnection = (c) => {
    c.onUnreliable = (d) => {
      wtCount++;
      c.sendUnreliable(d);
    };
  };
  const { port } = await pool.listen();
  const wt = await measure('wt', port, sessions, args, () => wtCount, cert.sha256Base64);
  const st = pool.stats();
  await pool.close(0, 'bench over');
  writeJsonLine({
    bench: 'datagram-echo', transport: 'webtransport', workers: args.workers, sessions, inflight: args.inflight, payload: args.payload, seconds: args.seconds, ...wt,
    serverDatagramDrops: st.datagrams.droppedQueueFull + st.datagrams.droppedTooLarge, batchesToWorkers: st.workers?.batchesToWorkers ?? null, batchesFromWorkers: st.workers?.batchesFromWorkers ?? null,
  });
  return wt;
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
