/**
 * Load process: P-1 standard-scene players in one process (a fleet of tools/bots/fleet.ts),
 * each sending a random direction 20 times a second, joined JOIN_CONCURRENCY at a time. Started
 * by run.ts with
 *   --url <http origin> --transport webtransport|websocket --count <n> --client light|full
 * and driven by its commands (reports.ts). `full` runs real GameClients (every snapshot
 * reconstructed); `light` runs LightClients (same transports and messages, snapshots acked but
 * not decoded; tools/bots/light-client.ts). Reports mean bytes per client, how many stayed
 * connected, and its own CPU (a saturated load generator would make the server look better than
 * it is).
 */
import { BotFleet, type FleetTotals } from '../../tools/bots/fleet.js';
import { NodeWebTransportConstructor, sharedEndpointWebTransport } from '../../tools/bots/node-webtransport.js';
import { flag, parseFlags } from '../../tools/lib/args.js';
import { emit, fail } from '../../tools/lib/child-entry.js';
import { sleep } from '../../tools/lib/clock.js';
import type { LoadReport } from './reports.js';
import { serveWindow } from './window.js';

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
/** Time for the clients' leave messages to go out when stopped. */
const CLOSE_FLUSH_MS = 100;

const { values: args } = parseFlags(process.argv.slice(2), {
  url: flag.origin(),
  transport: flag.choice(['webtransport', 'websocket'] as const),
  count: flag.int(1, 10_000),
  client: flag.choice(['light', 'full'] as const),
});
if (!args.url || !args.transport || !args.count) throw new Error('load-entry needs --url, --transport and --count');
const transport = args.transport;
const count = args.count;
const kind = args.client ?? 'light';

// All clients of this process share one UDP socket (node-webtransport.ts says why).
const WebTransport = transport === 'webtransport' ? await sharedEndpointWebTransport() : NodeWebTransportConstructor;
const fleet = new BotFleet({
  url: args.url,
  transport,
  count,
  kind,
  name: (i) => `load${i + 1}`,
  steering: { kind: 'every-input' },
  WebTransport,
  errorLimit: ERROR_LIMIT,
});

serveWindow<FleetTotals>({
  begin: () => fleet.totals(),
  end(totals0, load): LoadReport {
    const wallS = load.wallMs / 1000;
    const t = fleet.totals();
    const n = fleet.bots.length;
    return {
      wallS,
      clients: n,
      connected: fleet.connected,
      downAppBpsMean: n ? (t.down - totals0.down) / n / wallS : null,
      upAppBpsMean: n ? (t.up - totals0.up) / n / wallS : null,
      cpuPerWallS: load.cpuPerSec,
      rssMB: process.memoryUsage().rss / 2 ** 20,
      errors: fleet.errors.summary(),
    };
  },
  onStop: async () => {
    fleet.close('bench finished');
    await sleep(CLOSE_FLUSH_MS);
  },
});

const joined = await fleet.join({ timeoutMs: JOIN_ALL_TIMEOUT_MS, concurrency: JOIN_CONCURRENCY, attempts: JOIN_ATTEMPTS,
  progress: { every: JOIN_PROGRESS_EVERY, log: (line) => process.stderr.write(`load: ${line}\n`) },
});
const ms = Math.round(joined.elapsedMs);
if (joined.failedAttempts > 0) process.stderr.write(`load: ${joined.failedAttempts} connect attempts failed and were retried or given up\n`);
if (joined.joined < count) {
  fail(`load: only ${joined.joined}/${count} clients joined in ${ms} ms (${joined.failedAttempts} failed attempts): ${fleet.errors.samples.join('; ')}`);
} else {
  process.stderr.write(`load: ${joined.joined} ${kind} clients joined over ${transport} in ${ms} ms\n`);
  emit('joined', { clients: joined.joined, joinMs: joined.elapsedMs });
}
