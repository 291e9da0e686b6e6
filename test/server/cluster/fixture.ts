/**
 * The one fixture of the cluster tests (docs/cluster.md "Tests"): a real redis-server per suite
 * (started before it, declared fresh, stopped after it), and for the game-level suites real game
 * servers in cluster mode on it with real GameClients, all closed after each test.
 *
 * Hooks are registered where the fixture is called (inside the `describeWithRedis` body), so
 * vitest's stacked after-hooks close the suite's own things before the fixture stops Redis.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
import WebSocket from 'ws';
import { createDevCertificate } from '../../../certs/dev-cert.js';
import { GameClient } from '../../../client/net/game-client.js';
import type { GameClientOptions } from '../../../client/net/game-client-types.js';
import { ClusterKeys } from '../../../server/cluster/keys.js';
import { LeaseManager } from '../../../server/cluster/lease.js';
import { connectRedis, type ClusterRedis, type RedisConnectOptions } from '../../../server/cluster/redis.js';
import {
  createGameServer, type GameServer, type GameServerClusterOptions, type GameServerOptions,
} from '../../../server/index.js';
import { NodeWebTransportConstructor } from '../../../tools/bots/node-webtransport.js';
import { openAdmin, startRedisServer, until, type AdminClient, type RedisServer } from './redis-server.js';

export interface RedisFixtureOptions {
  /**
   * Mark the data set fresh (`LeaseManager.declareFresh`) before the suite, as an operator's
   * first start does: without it, nodes wait out a lease's grace before acquiring. Default true.
   */
  fresh?: boolean;
  /** Open a plain admin connection (`admin`) for set-up and inspection. Default true. */
  admin?: boolean;
}

/** A suite's redis-server; its properties are set once the suite's beforeAll ran. */
export interface RedisFixture {
  readonly server: RedisServer;
  /** `unix://...` of the server. */
  readonly url: string;
  readonly admin: AdminClient;
  /** A ClusterRedis connection to the server (with `options`), closed after the suite. */
  connect(options?: Omit<RedisConnectOptions, 'url'> & { url?: string }): Promise<ClusterRedis>;
}

/** Starts a redis-server before the suite (fresh, with an admin connection) and stops it after. */
export function useRedisServer(options: RedisFixtureOptions = {}): RedisFixture {
  let server: RedisServer | null = null;
  let admin: AdminClient | null = null;
  const opened: ClusterRedis[] = [];
  const need = <T>(value: T | null, what: string): T => {
    if (value === null) throw new Error(`the redis fixture's ${what} is used before its beforeAll ran (or with admin: false)`);
    return value;
  };
  const fixture: RedisFixture = {
    get server() { return need(server, 'server'); },
    get url() { return need(server, 'server').url; },
    get admin() { return need(admin, 'admin'); },
    async connect(connectOptions = {}) {
      const redis = await connectRedis({ ...connectOptions, url: connectOptions.url ?? fixture.url });
      opened.push(redis);
      return redis;
    },
  };
  beforeAll(async () => {
    server = await startRedisServer();
    if (options.admin !== false) admin = await openAdmin(server);
    if (options.fresh !== false) {
      const redis = await connectRedis({ url: server.url });
      try {
        await LeaseManager.declareFresh(redis, new ClusterKeys());
      } finally {
        await redis.close();
      }
    }
  });
  afterAll(async () => {
    await Promise.all(opened.splice(0).map((r) => r.close()));
    await admin?.close();
    await server?.stop();
  });
  return fixture;
}

let devCert: ReturnType<typeof createDevCertificate> | null = null;
/** One certificate per test worker: generating one costs a few hundred ms. */
export function testCertificate(): ReturnType<typeof createDevCertificate> {
  devCert ??= createDevCertificate();
  return devCert;
}

/**
 * Short lease and heartbeat, so tests do not wait out production timings (the lease still
 * renews three times per ttl; a node is gone after 1.5 s without a heartbeat).
 */
export const FAST_CLUSTER: Partial<GameServerClusterOptions> = {
  lease: { ttlMs: 3_000, renewEveryMs: 1_000, retryMs: 100 }, heartbeatMs: 200, nodeTtlMs: 1_500, checkpointIntervalMs: 500,
};

export interface GameClusterOptions extends RedisFixtureOptions {
  /** The ticket secret every node shares (default: 32 random bytes). */
  secret?: string | Uint8Array;
  /** Cluster options every node gets (before each node's own). Default FAST_CLUSTER. */
  cluster?: Partial<GameServerClusterOptions>;
  /** Server options every node gets (rooms, origins, feeds...). */
  server?: Partial<GameServerOptions>;
  /** Give every node a WebTransport endpoint (the shared test certificate). Default true. */
  webTransport?: boolean;
}

export interface NodeOptions {
  cluster?: Partial<GameServerClusterOptions>;
  server?: Partial<GameServerOptions>;
}

export type ClientTransport = 'websocket' | 'webtransport';

/** Game servers in cluster mode on the suite's redis-server, with clients; closed after each test. */
export interface GameClusterFixture {
  readonly redis: RedisFixture;
  /** The ticket secret every node shares. */
  readonly secret: string | Uint8Array;
  /** Nodes started in this test. */
  readonly servers: GameServer[];
  /** Clients made in this test. */
  readonly clients: GameClient[];
  startNode(nodeId: string, options?: NodeOptions): Promise<GameServer>;
  /** `n` nodes `node-1`..`node-n`, once every one sees all the others. */
  startCluster(n: number, options?: NodeOptions): Promise<GameServer[]>;
  /** The node with this id among those started. */
  serverOf(nodeId: string): GameServer;
  /** A node's public HTTP base URL. */
  baseOf(server: GameServer): string;
  /** A GameClient entering through `entry` with a fresh ticket (a spectator's with `spectator`). */
  client(entry: GameServer, playerId: string, room: string, transport?: ClientTransport, options?: Partial<GameClientOptions> & { spectator?: boolean }): GameClient;
}

/**
 * Sets `node`'s draining flag and waits until `observer`'s registry shows it.
 *
 * `setDraining` publishes the flag to Redis at once, but another node picks where a new room
 * goes (connect-info's routing, and a drain's handoff target) from its own copy of the registry,
 * read on its heartbeat (`NodeRegistry.pickForNewRoom`). A test steering where a room starts
 * (drain B so the room starts on A, then open B again as A's drain target) must wait until the
 * node that picks, `observer`, has read the new record: without the wait the room can start on
 * B, or A's drain can find B still draining.
 */
export async function setDrainingSeenBy(node: GameServer, draining: boolean, observer: GameServer): Promise<void> {
  await node.cluster!.node.setDraining(draining);
  const nodeId = node.cluster!.nodeId;
  await until(`${observer.cluster!.nodeId} knows ${nodeId} ${draining ? 'drains' : 'is open'}`,
    () => observer.cluster!.node.registry.nodes().some((n) => n.nodeId === nodeId && n.draining === draining));
}

/** `useRedisServer` plus game servers and clients made per test (docs/cluster.md "Tests"). */
export function useGameCluster(options: GameClusterOptions = {}): GameClusterFixture {
  const redis = useRedisServer(options);
  const secret = options.secret ?? randomBytes(32);
  const servers: GameServer[] = [];
  const clients: GameClient[] = [];
  afterEach(async () => {
    redis.server.resume(); // a test that paused Redis: nodes must close against a live one
    for (const c of clients.splice(0)) c.close();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const fixture: GameClusterFixture = {
    redis,
    secret,
    servers,
    clients,
    async startNode(nodeId, node = {}) {
      const cert = options.webTransport === false ? null : testCertificate();
      const server = createGameServer({
        ticketSecret: secret, httpPort: 0,
        ...(cert ? { webTransport: { port: 0, certPem: cert.certPem, keyPem: cert.keyPem } } : {}),
        ...options.server, ...node.server,
        cluster: { redisUrl: redis.url, nodeId, ...(options.cluster ?? FAST_CLUSTER), ...node.cluster },
      });
      servers.push(server);
      await server.listen();
      return server;
    },
    async startCluster(n, node) {
      const out: GameServer[] = [];
      for (let i = 0; i < n; i++) out.push(await fixture.startNode(`node-${i + 1}`, node));
      await until('every node sees every node', () => out.every((s) => s.cluster!.node.registry.nodes().length === n));
      return out;
    },
    serverOf(nodeId) {
      const server = servers.find((s) => s.cluster?.nodeId === nodeId);
      if (!server) throw new Error(`no node ${nodeId} in this test`);
      return server;
    },
    baseOf: (server) => server.cluster!.address.httpUrl,
    client(entry, playerId, room, transport = 'websocket', extra = {}) {
      const { spectator, ...clientOptions } = extra;
      const c = new GameClient({
        baseUrl: fixture.baseOf(entry),
        ticket: entry.mintTicket({ playerId, name: playerId, room, spectator }),
        transport, WebSocket, WebTransport: NodeWebTransportConstructor,
        reconnect: { baseMs: 50, maxMs: 1_000, maxAttempts: 30 },
        ...clientOptions,
      });
      clients.push(c);
      return c;
    },
  };
  return fixture;
}
