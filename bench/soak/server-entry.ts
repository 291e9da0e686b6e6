/**
 * The soak's game server, run by the harness (in the server namespace in netns mode):
 *
 *   server-entry.ts --host H --loss 0.05 --seed S --rooms arena,churn1,... [--short-timings]
 *
 * The public embedding API with production settings, not a load generator's: every per-address
 * limit stays on (the soak gives each client an address of its own), `allowedOrigins: 'self'`,
 * `/metrics` on a listener of its own (read here in-process), dev tickets on (the bots mint their
 * own, as the demo page does) but only for the listed rooms and rate-limited per address. The
 * UDP path runs through the seeded link simulator with `loss` in both directions.
 * `--short-timings` shortens the timeouts a leak check must outwait (hello 2 s, resume window
 * 10 s, handshake timeout 3 s) for the smoke test; the full soak uses the defaults.
 *
 * Prints {"event":"ready",...}; answers {"cmd":"sample"} with {"event":"sample",...}: memory
 * after a full GC (node runs with --expose-gc), the session directory, the /metrics gauges, the
 * WebTransport and HTTP connection counts and every refusal counter.
 */
import { randomBytes } from 'node:crypto';
import { getHeapSpaceStatistics } from 'node:v8';
import { createDevCertificate } from '../../certs/dev-cert.js';
import { createGameServer, type GameServer } from '../../server/index.js';
import { flag, parseFlags } from '../../tools/lib/args.js';
import { emit, fail, serveCommands } from '../../tools/lib/child-entry.js';
import { epochNow } from '../../tools/lib/clock.js';
import { parseGauges, type ServerSample } from './samples.js';

const { values: args } = parseFlags(process.argv.slice(2), {
  host: flag.string(),
  loss: flag.number(0, 1),
  seed: flag.int(0, 2 ** 32 - 1),
  rooms: flag.string(),
  'short-timings': flag.boolean(),
});
const host = args.host ?? '127.0.0.1';
const rooms = (args.rooms ?? 'arena').split(',');
const short = args['short-timings'] ?? false;

/** Timeouts of the smoke test's server: short enough that a leak check settles in seconds. */
const SHORT_TIMINGS = { helloTimeoutMs: 2_000, resumeWindowMs: 10_000 };
const SHORT_HANDSHAKE_TIMEOUT_MS = 3_000;

const gc = (globalThis as { gc?: () => void }).gc;

async function sample(server: GameServer): Promise<ServerSample> {
  // A full collection first: the heap figure is then what is retained, not what awaits the GC.
  gc?.();
  const mem = process.memoryUsage();
  const sessions = server.sessions.list();
  const wt = server.webTransport?.stats();
  const text = await server.metrics.text();
  const httpSockets = await new Promise<number>((resolve) => {
    const s = server.http?.server;
    if (!s) resolve(0);
    else s.getConnections((err, n) => resolve(err ? -1 : n));
  });
  return {
    t: epochNow(),
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    heapTotalBytes: mem.heapTotal,
    heapCodeBytes: getHeapSpaceStatistics().filter((h) => h.space_name.startsWith('code')).reduce((n, h) => n + h.space_used_size, 0),
    externalBytes: mem.external,
    arrayBuffersBytes: mem.arrayBuffers,
    gcForced: gc !== undefined,
    sessions: {
      total: sessions.length,
      active: server.sessions.activeCount,
      suspended: sessions.filter((s) => s.state === 'suspended').length,
      pending: server.sessions.pendingCount,
    },
    rooms: server.rooms.list().length,
    roomPlayers: server.rooms.list().reduce((n, r) => n + r.playerCount, 0),
    gauges: parseGauges(text, ['tickwire_sessions', 'tickwire_sessions_suspended', 'tickwire_rooms']),
    webTransport: wt
      ? {
        connections: wt.connectionsActive,
        sessions: wt.sessionsActive,
        handshaking: wt.endpoint.connectionsHandshaking,
        peerBytesHeld: wt.peerBytes.held,
        peerBytesPeak: wt.peerBytes.peak,
        linkSimLost: wt.linkSim ? wt.linkSim.up.lost + wt.linkSim.down.lost : 0,
        linkSimSent: wt.linkSim ? wt.linkSim.up.sent + wt.linkSim.down.sent : 0,
      }
      : null,
    httpSockets,
    refusals: server.metrics.refusals(),
  };
}

async function main(): Promise<void> {
  const cert = createDevCertificate();
  const server = createGameServer({
    ticketSecret: randomBytes(32),
    host,
    httpPort: 0,
    rooms: Object.fromEntries(rooms.map((r) => [r, {}])),
    devTickets: { rooms },
    allowedOrigins: 'self',
    metrics: { port: 0 },
    timings: short ? SHORT_TIMINGS : undefined,
    webTransport: {
      port: 0,
      certPem: cert.certPem,
      keyPem: cert.keyPem,
      linkSim: args.loss ? `loss=${args.loss}` : undefined,
      linkSimSeed: args.seed ?? 1,
      handshakeTimeoutMs: short ? SHORT_HANDSHAKE_TIMEOUT_MS : undefined,
    },
  });
  const info = await server.listen();
  emit('ready', {
    url: info.httpUrl,
    webTransportUrl: info.webTransportUrl,
    webTransportPort: info.webTransportPort,
    certificateSha256: server.connectInfo().certificateHashes[0],
    pid: process.pid,
    gcForced: gc !== undefined,
  });
  serveCommands(async (c) => {
    if (c.cmd === 'sample') emit('sample', { ...(await sample(server)), tag: c.tag ?? null });
  }, { onStop: () => server.close() });
}

main().catch((err: unknown) => fail(err instanceof Error ? err.stack ?? err.message : String(err)));
