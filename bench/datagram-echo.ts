/**
 * Datagram echo benchmark: server CPU per datagram and echo throughput for 1, 200 and 1000
 * sessions over our WebTransport stack, beside a plain node:dgram echo of the same traffic (the
 * floor) in the same run. The load runs in a child process (bench/datagram-echo-load.ts) so the
 * server's CPU (process.cpuUsage of this process) is measured alone.
 *
 * Prints JSON lines: per session count, WebTransport, plain UDP at full speed (the floor), and
 * plain UDP capped at the rate WebTransport achieved (the same traffic), then a ratio line:
 * `cpuPerDatagramRatio` = WebTransport / same-traffic UDP (target <= 2), and the ratio against
 * full-speed UDP, whose per-datagram cost is lowest because each wake-up handles many packets.
 *
 *   npm run bench:datagram                   # 1, 200, 1000 sessions, 3 s each
 *   npm run bench:datagram -- --seconds 5 --sessions 200 --inflight 2 --payload 200
 *   npm run bench:datagram -- --runs 3          # medians over three runs (noisy shared boxes)
 */
import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { WebTransportServer } from '../server/h3/server.js';
import { testCert } from '../test/server/h3/helpers/cert.js';

interface Args {
  /** Run only one side (profiling); the ratio line needs both. */
  only: 'wt' | 'udp' | null;
  /** Repetitions of the whole set; with more than one, median lines close the output. */
  runs: number;
  seconds: number;
  sessions: number[];
  inflight: number;
  payload: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { only: null, runs: 1, seconds: 3, sessions: [1, 200, 1000], inflight: 1, payload: 100 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--seconds') a.seconds = Math.min(60, Math.max(1, Number(v)));
    else if (argv[i] === '--sessions') a.sessions = v.split(',').map(Number).filter((n) => n > 0 && n <= 5000);
    else if (argv[i] === '--inflight') a.inflight = Math.min(16, Math.max(1, Number(v)));
    else if (argv[i] === '--runs') a.runs = Math.min(9, Math.max(1, Number(v)));
    else if (argv[i] === '--only') a.only = v === 'wt' || v === 'udp' ? v : null;
    else if (argv[i] === '--payload') a.payload = Math.min(1100, Math.max(1, Number(v)));
    else continue;
    i++;
  }
  return a;
}

/** Upper bound for one phase (connect + measure); the whole run is bounded by the phases. */
const PHASE_TIMEOUT_MS = 90_000;

function request(child: ChildProcess, msg: object, key: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`load child: no '${key}' within ${PHASE_TIMEOUT_MS} ms`)), PHASE_TIMEOUT_MS);
    const on = (m: Record<string, unknown>) => {
      if ('error' in m) {
        clearTimeout(t);
        child.off('message', on);
        reject(new Error(String(m.error)));
      } else if (key in m) {
        clearTimeout(t);
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    child.send(msg);
  });
}

interface Measured {
  echoesPerSec: number;
  serverCpuUsPerDatagram: number;
  serverCpuPercent: number;
  datagramsAtServer: number;
  refills: number;
}

async function measure(mode: 'wt' | 'udp', port: number, sessions: number, args: Args, serverCount: () => number, hash?: string, rate = 0): Promise<Measured> {
  const child = fork(fileURLToPath(new URL('./datagram-echo-load.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    await request(child, { cmd: 'start', mode, port, sessions, inflight: args.inflight, payload: args.payload, hash, rate }, 'ready');
    // Warm up (JIT, congestion windows), then measure.
    await request(child, { cmd: 'go' }, 'ok');
    await new Promise((r) => setTimeout(r, 500));
    const c0 = serverCount();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, args.seconds * 1000));
    const cpu = process.cpuUsage(cpu0);
    const elapsed = (performance.now() - t0) / 1000;
    const n = serverCount() - c0;
    const stop = await request(child, { cmd: 'stop' }, 'echoes');
    const cpuUs = cpu.user + cpu.system;
    return {
      echoesPerSec: Math.round(n / elapsed),
      serverCpuUsPerDatagram: n > 0 ? +(cpuUs / n).toFixed(2) : NaN,
      serverCpuPercent: +((cpuUs / 1e6 / elapsed) * 100).toFixed(1),
      datagramsAtServer: n,
      refills: Number(stop.refills ?? 0),
    };
  } finally {
    child.send({ cmd: 'exit' });
    await new Promise((r) => setTimeout(r, 100));
    child.kill();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const cert = testCert();
  const summary = new Map<number, { ratio: number[]; ratioUnpaced: number[]; wtUs: number[]; udpUs: number[] }>();
  for (let run = 0; run < args.runs; run++) {
    for (const sessions of args.sessions) {
      let udp: Measured | null = null;
      let paced: Measured | null = null;
      let wt: Measured | null = null;
      if (args.only !== 'udp') wt = await runWt(sessions, args, cert);
      if (args.only !== 'wt') udp = await runUdp(sessions, args, 0);
      // The same traffic as the WebTransport run: plain UDP at the rate WebTransport achieved.
      if (wt && args.only === null) paced = await runUdp(sessions, args, wt.echoesPerSec);
      if (udp && wt && paced) {
        const ratio = +(wt.serverCpuUsPerDatagram / paced.serverCpuUsPerDatagram).toFixed(2);
        const ratioUnpaced = +(wt.serverCpuUsPerDatagram / udp.serverCpuUsPerDatagram).toFixed(2);
        console.log(JSON.stringify({
          bench: 'datagram-echo', ratio: true, run, sessions,
          cpuPerDatagramRatio: ratio,
          cpuPerDatagramRatioVsUnpacedUdp: ratioUnpaced,
          throughputRatio: +(wt.echoesPerSec / udp.echoesPerSec).toFixed(2),
          target: 'cpuPerDatagramRatio (WebTransport vs plain UDP carrying the same traffic) <= 2',
        }));
        const e = summary.get(sessions) ?? { ratio: [], ratioUnpaced: [], wtUs: [], udpUs: [] };
        e.ratio.push(ratio);
        e.ratioUnpaced.push(ratioUnpaced);
        e.wtUs.push(wt.serverCpuUsPerDatagram);
        e.udpUs.push(paced.serverCpuUsPerDatagram);
        summary.set(sessions, e);
      }
    }
  }
  if (args.runs > 1) {
    for (const [sessions, e] of summary) {
      console.log(JSON.stringify({
        bench: 'datagram-echo', median: true, runs: args.runs, sessions,
        wtServerCpuUsPerDatagram: median(e.wtUs),
        udpSameRateServerCpuUsPerDatagram: median(e.udpUs),
        cpuPerDatagramRatio: median(e.ratio),
        cpuPerDatagramRatioVsUnpacedUdp: median(e.ratioUnpaced),
      }));
    }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : +((s[m - 1] + s[m]) / 2).toFixed(2);
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
    console.log(JSON.stringify({ bench: 'datagram-echo', transport: rate ? 'udp-same-rate' : 'udp', sessions, rateCap: rate || null, inflight: args.inflight, payload: args.payload, seconds: args.seconds, ...udp }));
    return udp;
  }
}

/** Our WebTransport server, echoing datagrams. */
async function runWt(sessions: number, args: Args, cert: ReturnType<typeof testCert>): Promise<Measured> {
  {
    const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/echo'], maxSessions: 100_000 });
    let wtCount = 0;
    server.onSession = (s) => {
      s.onDatagram = (d) => {
        wtCount++;
        s.sendDatagram(d);
      };
    };
    const { port } = await server.listen();
    const wt = await measure('wt', port, sessions, args, () => wtCount, Buffer.from(cert.hash).toString('base64'));
    const dropped = server.stats().datagrams;
    await server.close();
    console.log(JSON.stringify({ bench: 'datagram-echo', transport: 'webtransport', sessions, inflight: args.inflight, payload: args.payload, seconds: args.seconds, ...wt, serverDatagramDrops: dropped.droppedQueueFull + dropped.droppedTooLarge }));
    return wt;
  }
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
