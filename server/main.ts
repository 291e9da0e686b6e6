/**
 * The demo server CLI (`npm start`): HTTP + WebSocket on TICKWIRE_HTTP_PORT (8080), HTTP/3
 * WebTransport on TICKWIRE_WT_PORT (4433), both on TICKWIRE_HOST (127.0.0.1), the dev
 * certificate from certs/, dev tickets on, and the Pixi client built when missing or stale.
 * The only module that reads the environment.
 *
 * Environment:
 *   TICKWIRE_HTTP_PORT, TICKWIRE_WT_PORT, TICKWIRE_HOST
 *   TICKWIRE_NETSIM            link simulator on the UDP path, e.g. "loss=0.05,delay=40,jitter=10"
 *   TICKWIRE_NETSIM_SEED       its seed (default 1)
 *   TICKWIRE_TICKET_SECRET     ticket HMAC key (default: random per run; the demo mints its own)
 *   TICKWIRE_SNAPSHOT_CHANNEL  'unreliable' (default) or 'reliable'
 *   TICKWIRE_WT=0              serve WebSocket only
 *   TICKWIRE_BUILD_CLIENT=0    do not build the client bundle
 *   TICKWIRE_DRAIN_MS          drain deadline on SIGTERM/SIGINT (default 10000)
 *   TICKWIRE_DRAIN_JITTER_MS   window over which the drain notice spreads the clients' reconnects
 *                              (default 3000; `npm run bench:cluster` sets 0 to make a storm)
 *   TICKWIRE_QUIC_RETRY        'under-load' (default), 'always' or 'never': when QUIC Initials get
 *                              a stateless Retry (docs/architecture.md "QUIC endpoint: admission")
 *   TICKWIRE_STATELESS_RESET_KEY  hex, at least 32 digits: a fixed key for QUIC stateless reset
 *                              tokens, so a restarted server resets its predecessor's connections
 *                              (default: random per run)
 *   TICKWIRE_WT_WORKERS        worker threads for the QUIC endpoint (0: on the main thread; default
 *                              DEFAULT_WEBTRANSPORT_WORKERS; docs/architecture.md "WebTransport on
 *                              worker threads")
 *   TICKWIRE_ORIGINS           comma-separated web origins allowed to open sessions (default:
 *                              this server's own HTTP origin, the page it serves)
 *   TICKWIRE_DEV_ROOMS         comma-separated rooms dev tickets may name (default arena)
 *   TICKWIRE_MAX_SESSIONS_PER_ADDRESS  live sessions one IPv4 address or IPv6 /64 may hold
 *                              (default 64: server/session/admission.ts); a load generator on
 *                              one host (bench:cluster) raises it
 *   TICKWIRE_METRICS_PORT      serve /metrics on its own listener (127.0.0.1) instead of the
 *                              public port; TICKWIRE_METRICS_TOKEN requires a bearer token
 *
 * Cluster (docs/cluster.md; on when TICKWIRE_REDIS_URL is set; every node needs the same
 * TICKWIRE_TICKET_SECRET):
 *   TICKWIRE_REDIS_URL         redis://host:port, rediss://..., unix:///path/redis.sock; with
 *                              TICKWIRE_REDIS_CLUSTER=1 a comma-separated list of Cluster nodes
 *   TICKWIRE_NODE_ID           unique per process (default: host name and HTTP port)
 *   TICKWIRE_PUBLIC_HTTP_URL   this node's HTTP base as clients reach it (default: the bound one)
 *   TICKWIRE_PUBLIC_WT_URL     its WebTransport URL (default: the bound one)
 *   TICKWIRE_PUBLIC_WS_URL     its WebSocket URL (default: from TICKWIRE_PUBLIC_HTTP_URL)
 *   TICKWIRE_KEY_PREFIX        first segment of every Redis key (default tw)
 *   TICKWIRE_LEASE_MS          room lease ttl (default 10000)
 *   TICKWIRE_HELLO_RATE, TICKWIRE_HELLO_BURST   hello admission per node (default 200/s, 100)
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDevCertificate } from '../certs/dev-cert.js';
import { ensureClientBundle } from './http/client-bundle.js';
import { createGameServer, DEFAULT_DRAIN_DEADLINE_MS, DEFAULT_RECONNECT_JITTER_MS, DEFAULT_WEBTRANSPORT_WORKERS, type GameServerClusterOptions } from './index.js';
import { RETRY_MODES, type RetryMode } from './h3/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;

/** A comma-separated list, or undefined when unset or empty. */
function listEnv(name: string): string[] | undefined {
  const items = (env[name] ?? '').split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  return items.length > 0 ? items : undefined;
}

function intEnv(name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65_535 * 1000) {
    console.error(`${name} must be a non-negative integer, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

function retryEnv(): RetryMode | undefined {
  const raw = env.TICKWIRE_QUIC_RETRY;
  if (raw === undefined || raw === '') return undefined;
  if (!(RETRY_MODES as readonly string[]).includes(raw)) {
    console.error(`TICKWIRE_QUIC_RETRY must be one of ${RETRY_MODES.join(', ')}, got "${raw}"`);
    process.exit(2);
  }
  return raw as RetryMode;
}

function resetKeyEnv(): Uint8Array | undefined {
  const raw = env.TICKWIRE_STATELESS_RESET_KEY;
  if (raw === undefined || raw === '') return undefined;
  if (!/^([0-9a-fA-F]{2}){16,}$/.test(raw)) {
    console.error('TICKWIRE_STATELESS_RESET_KEY must be at least 32 hex digits');
    process.exit(2);
  }
  return Buffer.from(raw, 'hex');
}

/** The cluster options from TICKWIRE_REDIS_URL and friends, or null for a single server. */
function clusterEnv(httpPort: number): GameServerClusterOptions | null {
  const redisUrl = env.TICKWIRE_REDIS_URL;
  if (!redisUrl) return null;
  if (!env.TICKWIRE_TICKET_SECRET) {
    console.error('TICKWIRE_REDIS_URL needs TICKWIRE_TICKET_SECRET: every node of a cluster must verify the same tickets');
    process.exit(2);
  }
  const nodeId = env.TICKWIRE_NODE_ID || `${hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 50)}-${httpPort}`;
  const leaseMs = intEnv('TICKWIRE_LEASE_MS', 0);
  const helloRate = intEnv('TICKWIRE_HELLO_RATE', 0);
  const helloBurst = intEnv('TICKWIRE_HELLO_BURST', 0);
  return {
    redisUrl,
    nodeId,
    ...(env.TICKWIRE_REDIS_CLUSTER === '1' ? { redis: { cluster: true } } : {}),
    ...(env.TICKWIRE_PUBLIC_HTTP_URL ? { publicHttpUrl: env.TICKWIRE_PUBLIC_HTTP_URL } : {}),
    ...(env.TICKWIRE_PUBLIC_WT_URL ? { publicWebTransportUrl: env.TICKWIRE_PUBLIC_WT_URL } : {}),
    ...(env.TICKWIRE_PUBLIC_WS_URL ? { publicWebSocketUrl: env.TICKWIRE_PUBLIC_WS_URL } : {}),
    ...(env.TICKWIRE_KEY_PREFIX ? { keyPrefix: env.TICKWIRE_KEY_PREFIX } : {}),
    ...(leaseMs > 0 ? { lease: { ttlMs: leaseMs } } : {}),
    ...(helloRate > 0 || helloBurst > 0
      ? { admission: { hello: { ...(helloRate > 0 ? { ratePerSecond: helloRate } : {}), ...(helloBurst > 0 ? { burst: helloBurst } : {}) } } }
      : {}),
  };
}

async function main(): Promise<void> {
  const host = env.TICKWIRE_HOST || '127.0.0.1';
  const httpPort = intEnv('TICKWIRE_HTTP_PORT', 8080);
  const wtPort = intEnv('TICKWIRE_WT_PORT', 4433);
  const drainMs = intEnv('TICKWIRE_DRAIN_MS', DEFAULT_DRAIN_DEADLINE_MS);
  const drainJitterMs = intEnv('TICKWIRE_DRAIN_JITTER_MS', DEFAULT_RECONNECT_JITTER_MS);
  const snapshotChannel = env.TICKWIRE_SNAPSHOT_CHANNEL === 'reliable' ? 'reliable' : 'unreliable';
  const withWt = env.TICKWIRE_WT !== '0';
  const clientDir = join(root, 'client');

  let staticDir: string | null = join(clientDir, 'dist');
  if (env.TICKWIRE_BUILD_CLIENT !== '0') {
    try {
      const r = await ensureClientBundle({ clientDir, extraSourceDirs: [join(root, 'shared')] });
      if (r.built) console.log(`client bundle built (${r.reason})`);
    } catch (error) {
      console.error(`client bundle build failed, serving the API only: ${(error as Error).message}`);
      staticDir = null;
    }
  }

  const cert = withWt ? await ensureDevCertificate(join(root, 'certs')) : null;
  const server = createGameServer({
    ticketSecret: env.TICKWIRE_TICKET_SECRET || randomBytes(32),
    host,
    httpPort,
    devTickets: { rooms: listEnv('TICKWIRE_DEV_ROOMS') },
    // Only pages this server serves (the demo) may open sessions, over either transport.
    allowedOrigins: listEnv('TICKWIRE_ORIGINS') ?? 'self',
    metrics: env.TICKWIRE_METRICS_PORT
      ? { port: intEnv('TICKWIRE_METRICS_PORT', 0), token: env.TICKWIRE_METRICS_TOKEN || undefined }
      : env.TICKWIRE_METRICS_TOKEN ? { token: env.TICKWIRE_METRICS_TOKEN } : undefined,
    staticDir,
    snapshotChannel,
    processMetrics: true,
    admission: env.TICKWIRE_MAX_SESSIONS_PER_ADDRESS ? { maxSessionsPerAddress: intEnv('TICKWIRE_MAX_SESSIONS_PER_ADDRESS', 0) } : undefined,
    cluster: clusterEnv(httpPort),
    webTransport: cert ? {
      port: wtPort,
      certPem: cert.certPem,
      keyPem: cert.keyPem,
      linkSim: env.TICKWIRE_NETSIM || undefined,
      linkSimSeed: intEnv('TICKWIRE_NETSIM_SEED', 1),
      retry: retryEnv(),
      statelessResetKey: resetKeyEnv(),
      workers: intEnv('TICKWIRE_WT_WORKERS', DEFAULT_WEBTRANSPORT_WORKERS),
    } : null,
  });
  const info = await server.listen();
  console.log(JSON.stringify({
    event: 'listening', http: info.httpUrl, webTransport: info.webTransportUrl,
    certificateSha256: cert?.sha256Base64 ?? null, netsim: env.TICKWIRE_NETSIM || null, snapshotChannel,
    metrics: info.metricsUrl, allowedOrigins: info.allowedOrigins, node: server.cluster?.nodeId ?? null,
  }));
  console.log(`tickwire: open ${info.httpUrl}/ in a browser`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      console.log(`${signal} again: closing now`);
      void server.close().then(() => process.exit(0));
      return;
    }
    stopping = true;
    console.log(`${signal}: draining (up to ${drainMs} ms)`);
    void server.drain({ deadlineMs: drainMs, reconnectJitterMs: drainJitterMs }).then(() => process.exit(0), (error) => {
      console.error(error);
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
