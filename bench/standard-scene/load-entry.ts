/**
 * Load process: P-1 standard-scene players in one process, each sending a random direction 20
 * times a second, joined JOIN_CONCURRENCY at a time. Started by run.ts with
 *   --url <http origin> --transport webtransport|websocket --count <n> --client light|full
 * and driven over IPC (ipc.ts). `full` runs real GameClients (every snapshot reconstructed);
 * `light` runs LightClients (same transports and messages, snapshots acked but not decoded; see
 * light-client.ts). Reports mean bytes per client, how many stayed connected, and its own CPU
 * (a saturated load generator would make the server look better than it is).
 */
import WebSocket from 'ws';
import type { FetchLike, WebSocketConstructor } from '../../client/net/transport-types.js';
import { argMap, createBenchClient, epochNow, INPUT_HZ, transportArg, webTransportFor } from './bench-client.js';
import { childIpc, type LoadReport } from './ipc.js';
import { LightClient } from './light-client.js';

/** What the load process needs of a player, full or light. */
interface LoadPlayer {
  connect(): Promise<unknown>;
  close(): void;
  readonly connected: boolean;
  totals(): { down: number; up: number };
}

/** Joins in flight at once: a burst of 500 handshakes would only measure the accept queue. */
const JOIN_CONCURRENCY = 16;
/** All clients must have joined within this (P=512 over QUIC on a busy 2-core box). */
const JOIN_ALL_TIMEOUT_MS = 150_000;
/**
 * Attempts per client: a handshake can time out while the box is busy with the joins before it
 * (the server, the load and the observer share two cores); a fresh client then tries again.
 */
const JOIN_ATTEMPTS = 3;
/** A progress line on stderr every this many joins. */
const JOIN_PROGRESS_EVERY = 64;
const ERROR_LIMIT = 10;

const args = argMap(process.argv.slice(2));
const baseUrl = args.get('url') ?? '';
const transport = transportArg(args.get('transport'));
const count = Number(args.get('count'));
if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive integer, got ${args.get('count')}`);
const kind = args.get('client') ?? 'light';
if (kind !== 'light' && kind !== 'full') throw new Error(`--client must be light or full, got ${kind}`);

const WebTransport = await webTransportFor(transport, { shareEndpoint: true });
const clients: LoadPlayer[] = [];
const errors: string[] = [];
let errorCount = 0;
const noteError = (s: string) => {
  errorCount++;
  if (errors.length < ERROR_LIMIT) errors.push(s);
};

interface Window {
  t0: number;
  cpu0: NodeJS.CpuUsage;
  down0: number[];
  up0: number[];
}
let win: Window | null = null;
const totals = (c: LoadPlayer) => c.totals();
const fetchImpl = globalThis.fetch.bind(globalThis) as FetchLike;

function createPlayer(i: number): LoadPlayer {
  const name = `load${i + 1}`;
  if (kind === 'light') {
    const c = new LightClient({
      baseUrl, transport, name, WebTransport, WebSocket: WebSocket as unknown as WebSocketConstructor, fetch: fetchImpl,
      inputHz: INPUT_HZ, onError: (m) => noteError(`${name}: ${m}`),
    });
    return { connect: () => c.connect(), close: () => c.close(), get connected() { return c.connected; }, totals: () => ({ down: c.bytesDown, up: c.bytesUp }) };
  }
  const c = createBenchClient({ baseUrl, transport, name, WebTransport });
  c.on('error', (e) => noteError(`${name}: error ${e.code ?? ''} ${e.message}`));
  c.on('close', (e) => noteError(`${name}: closed ${e.code} ${e.reason}`));
  return {
    connect: () => c.connect(),
    close: () => c.close('bench finished'),
    get connected() { return c.connected; },
    totals: () => {
      const s = c.stats();
      return { down: s.bytesDown.reliable + s.bytesDown.unreliable, up: s.bytesUp.reliable + s.bytesUp.unreliable };
    },
  };
}

const send = childIpc((c) => {
  if (c.cmd === 'start') {
    win = { t0: epochNow(), cpu0: process.cpuUsage(), down0: [], up0: [] };
    for (const cl of clients) {
      const t = totals(cl);
      win.down0.push(t.down);
      win.up0.push(t.up);
    }
    send({ ev: 'started' });
  } else if (c.cmd === 'stop') {
    const w = win;
    if (!w) throw new Error('stop before start');
    win = null;
    const wallS = (epochNow() - w.t0) / 1000;
    const cpu = process.cpuUsage(w.cpu0);
    let down = 0;
    let up = 0;
    clients.forEach((cl, i) => {
      const t = totals(cl);
      down += t.down - w.down0[i];
      up += t.up - w.up0[i];
    });
    const n = clients.length;
    const report: LoadReport = {
      wallS,
      clients: n,
      connected: clients.filter((cl) => cl.connected).length,
      downAppBpsMean: n ? down / n / wallS : null,
      upAppBpsMean: n ? up / n / wallS : null,
      cpuPerWallS: (cpu.user + cpu.system) / 1e6 / wallS,
      rssMB: process.memoryUsage().rss / 2 ** 20,
      errors: errorCount > errors.length ? [...errors, `... ${errorCount - errors.length} more`] : [...errors],
    };
    send({ ev: 'stopped', report });
  } else if (c.cmd === 'exit') {
    for (const cl of clients) cl.close();
    setTimeout(() => process.exit(0), 100);
  }
});

const t0 = epochNow();
let next = 0;
let failed = 0;
async function joinWorker(): Promise<void> {
  while (next < count && epochNow() - t0 < JOIN_ALL_TIMEOUT_MS) {
    const i = next++;
    for (let attempt = 1; attempt <= JOIN_ATTEMPTS && epochNow() - t0 < JOIN_ALL_TIMEOUT_MS; attempt++) {
      const client = createPlayer(i);
      try {
        await client.connect();
        clients.push(client);
        if (clients.length % JOIN_PROGRESS_EVERY === 0) {
          const live = clients.filter((c) => c.connected).length;
          process.stderr.write(`load: ${clients.length}/${count} joined, ${live} still connected, ${failed} failed attempts, ${Math.round(epochNow() - t0)} ms\n`);
        }
        break;
      } catch (err) {
        failed++;
        client.close();
        noteError(`load${i + 1}: connect attempt ${attempt} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}
await Promise.all(Array.from({ length: Math.min(JOIN_CONCURRENCY, count) }, joinWorker));
const joined = clients.filter((c) => c.connected).length;
if (failed > 0) process.stderr.write(`load: ${failed} connect attempts failed and were retried or given up\n`);
if (joined < count) {
  send({ ev: 'fatal', message: `load: only ${joined}/${count} clients joined in ${Math.round(epochNow() - t0)} ms (${failed} failed attempts): ${errors.join('; ')}` });
  setTimeout(() => process.exit(1), 100);
} else {
  process.stderr.write(`load: ${joined} ${kind} clients joined over ${transport} in ${Math.round(epochNow() - t0)} ms\n`);
  send({ ev: 'joined', clients: joined, joinMs: epochNow() - t0 });
}
