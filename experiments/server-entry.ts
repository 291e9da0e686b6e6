/**
 * The server side of one experiment arm, run by the harness inside the server's namespace:
 *
 *   server-entry.ts --host 10.x.y.1 --http-port 8080 --wt-port 4433
 *                   --snapshot-channel unreliable|reliable --seed S
 *
 * Starts the standard-scene game server through the public embedding API (`createGameServer`)
 * with dev tickets on (the bots mint their own) and prints {"event":"ready","url":...}. Takes
 * `mark` (start a load window) and `stats` (print {"event":"stats",...} for the window) on
 * stdin, and closes cleanly on SIGTERM.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { createGameServer } from '../server/index.js';
import { createDevCertificate } from '../certs/dev-cert.js';
import { emit, parseArgs } from './child.js';

/** Event-loop delay sampling resolution: fine enough to see a 5 ms stall. */
const LOOP_DELAY_RESOLUTION_MS = 5;

const args = parseArgs(process.argv.slice(2));
const host = args.get('host') ?? '127.0.0.1';
const httpPort = Number(args.get('http-port') ?? 8080);
const wtPort = Number(args.get('wt-port') ?? 4433);
const snapshotChannel = args.get('snapshot-channel') === 'reliable' ? 'reliable' : 'unreliable';
const seed = Number(args.get('seed') ?? 1);

async function main(): Promise<void> {
  // A fresh in-memory certificate per run: pinned by hash (connect-info publishes it), so its
  // name does not matter, and nothing is written to certs/.
  const cert = createDevCertificate();
  const server = createGameServer({
    // Dev tickets only, so the secret never leaves this process; a fresh one per run.
    ticketSecret: randomBytes(32),
    host,
    httpPort,
    webTransport: { port: wtPort, certPem: cert.certPem, keyPem: cert.keyPem },
    snapshotChannel,
    // All bots run on one machine (one address): lift the per-address shares meant for the
    // open internet, so joining the fleet is not mistaken for a flood.
    devTickets: { limitPerAddress: false },
    admission: { maxPendingPerAddress: 1_000 },
    seed,
  });
  const info = await server.listen();
  emit('ready', { url: info.httpUrl, webTransportUrl: info.webTransportUrl, snapshotChannel });

  let loop = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  createInterface({ input: process.stdin }).on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'mark') {
      loop.disable();
      loop = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
      loop.enable();
      cpu0 = process.cpuUsage();
      t0 = performance.now();
    } else if (cmd === 'stats') {
      const cpu = process.cpuUsage(cpu0);
      const elapsedMs = Math.max(1, performance.now() - t0);
      emit('stats', { loopDelayP99Ms: loop.percentile(99) / 1e6, cpuPerSec: (cpu.user + cpu.system) / 1e3 / elapsedMs });
    }
  });

  let closing = false;
  process.on('SIGTERM', () => {
    if (closing) return;
    closing = true;
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((err: unknown) => {
  emit('fatal', { message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
