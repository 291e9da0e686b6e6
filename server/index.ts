/**
 * tickwire embedding API: `createGameServer(options)` runs the game server (rooms, sessions,
 * chat, HTTP + WebSocket, optionally HTTP/3 WebTransport) inside a game backend's process.
 *
 * ```ts
 * import { createGameServer, mintTicket } from 'tickwire/server/index.js';
 * const server = createGameServer({
 *   ticketSecret: process.env.TICKET_SECRET!,
 *   httpPort: 8080,
 *   allowedOrigins: ['https://game.example'],       // pages that may open sessions
 *   metrics: { port: 9464 },                        // /metrics on 127.0.0.1:9464, not the public port
 *   rooms: { lobby: { maxPlayers: 16, onChat: (room, p, text) => text.replace(/darn/g, '****') } },
 * });
 * await server.listen();
 * // your backend, per player: mintTicket(secret, { playerId, name, room: 'lobby' })
 * process.on('SIGTERM', () => void server.drain().then(() => process.exit(0)));
 * ```
 *
 * Size: about 450 lines, over the ~400 of the guide, because this file is the embedding API:
 * the option types with their documentation, the `GameServer` interface and `createGameServer`,
 * which only assembles parts that live elsewhere (rooms/, session/, http/, h3/, transports/) and
 * owns their listen/drain/close order. Splitting the options from the assembly would make an
 * embedder read two files for one call. What an embedder sees of the running server are
 * read-only views (session/session-view.ts, rooms/room-view.ts, transports/webtransport-service.ts).
 */
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ErrorCode } from '../shared/errors.js';
import { PROTOCOL_VERSION } from '../shared/messages.js';
import { systemScheduler, type Scheduler } from './clock.js';
import { InProcessChatFanout, type ChatFanout } from './chat/fanout.js';
import { GameMetrics } from './metrics.js';
import { DeferredRoomManager } from './rooms/deferred-room-manager.js';
import { InProcessRoomManager, ROOM_ID_PATTERN, type RoomManager } from './rooms/room-manager.js';
import { standardScene } from './rooms/standard-scene.js';
import type { RoomDefinition } from './rooms/types.js';
import { DEFAULT_SESSION_TIMINGS, type SessionTimings } from './session/config.js';
import type { SnapshotChannel } from './session/player-session.js';
import { SessionManager } from './session/session-manager.js';
import { sessionDirectory, type SessionDirectory } from './session/session-view.js';
import { mintTicket } from './session/tickets.js';
import { buildHttpApp, WEBSOCKET_PATH, type ConnectInfo } from './http/app.js';
import { FeedService } from './http/feeds/feed-service.js';
import type { FeedLimits } from './http/feeds/limits.js';
import { DeferredFeedSources } from './feeds/deferred-sources.js';
import { LocalChatSource, LocalRoomListSource, LocalStatusSource } from './feeds/local-sources.js';
import type { ChatSource, RoomListSource, StatusSource } from './feeds/types.js';
import type { ClusterMode, GameServerClusterOptions } from './cluster-mode.js';
import { placeMetrics, startMetricsListener, type MetricsEndpointOptions } from './http/metrics-endpoint.js';
import { guardHttpConnections } from './http/connection-guard.js';
import { resolveAllowedOrigins, type AllowedOrigins } from './http/origins.js';
import type { Connection } from './transports/connection.js';
import { WT_STREAM_OPEN_TIMEOUT_MS } from './transports/webtransport.js';
import { InThreadWebTransport, webTransportServiceView, type WebTransportService, type WebTransportServiceView } from './transports/webtransport-service.js';
import { WebTransportWorkers } from './transports/wt-worker/worker-pool.js';
import type { WebSocketConnection } from './transports/websocket.js';
import type { LinkSimOption, QuicServerProtectionOptions, WebTransportServerOptions } from './h3/index.js';
import { roomDirectory, type RoomDirectory } from './rooms/room-view.js';
import { registerInternals } from './internals.js';

export { mintTicket, verifyTicket, DEFAULT_TICKET_TTL_MS, type TicketClaims } from './session/tickets.js';
export { standardScene, moveStandard, STANDARD_SPEED } from './rooms/standard-scene.js';
export type { RoomDefinition, RoomContext, RoomPlayer, PlayerInput, Entity } from './rooms/types.js';
export type { Room } from './rooms/room.js';
export type { RoomManager } from './rooms/room-manager.js';
export type { RoomDirectory, RoomView, RoomPlayerView } from './rooms/room-view.js';
export type { WebTransportServerStats } from './h3/index.js';
export type { Connection, ConnectionStats, TransportKind } from './transports/connection.js';
export type { SessionDirectory, SessionView } from './session/session-view.js';
export type { SessionRole, SessionState, SnapshotChannel } from './session/player-session.js';
export type { SnapshotSendStats } from './session/snapshot-sender.js';
export type { WebTransportServiceView, WebTransportServiceStats, WebTransportWorkerStats } from './transports/webtransport-service.js';
export { GameMetrics } from './metrics.js';
export type {
  ChatRead, ChatSource, NodeStatus, RoomChange, RoomListSource, RoomSummary, ServerStatus, StatusSource,
} from './feeds/types.js';
export type { FeedLimits } from './http/feeds/limits.js';
export type { MetricsEndpointOptions } from './http/metrics-endpoint.js';
export type { AllowedOrigins } from './http/origins.js';
export { ManualScheduler, systemScheduler, type Scheduler } from './clock.js';
export type { ClusterMode, GameServerClusterOptions } from './cluster-mode.js';

/** Default time `drain()` waits for clients to leave before closing the rest. */
export const DEFAULT_DRAIN_DEADLINE_MS = 10_000;
/** Default window over which drained clients spread their reconnects. */
export const DEFAULT_RECONNECT_JITTER_MS = 3_000;
/** WebTransport endpoint path. */
export const WEBTRANSPORT_PATH = '/wt';
/**
 * Default `webTransport.workers`: where the QUIC endpoint runs (docs/architecture.md
 * "WebTransport on worker threads" has the measurements behind it).
 */
export const DEFAULT_WEBTRANSPORT_WORKERS = 0;
/** The room a dev ticket names when the request names none (and the only one, without `rooms`). */
export const DEFAULT_DEV_ROOM = 'arena';

/**
 * The HTTP/3 WebTransport endpoint. The QUIC admission fields (`retry`, `maxHandshakes`,
 * `maxHandshakesPerAddress`, `maxConnectionsPerAddress`, `handshakeTimeoutMs`,
 * `statelessResetKey`; docs/architecture.md
 * "QUIC endpoint: admission") have safe defaults for the open internet.
 */
export interface WebTransportOptions extends QuicServerProtectionOptions {
  /** UDP port (0 = any). */
  port?: number;
  certPem: string;
  keyPem: string;
  /**
   * Origins allowed to open sessions over WebTransport; default: GameServerOptions.allowedOrigins.
   * A list refuses CONNECTs with another origin, or none, with 403 (server/h3).
   */
  allowedOrigins?: AllowedOrigins;
  /** Seeded link simulator on the UDP path, e.g. "loss=0.05,delay=40,jitter=10". */
  linkSim?: LinkSimOption;
  linkSimSeed?: number;
  maxSessions?: number;
  /**
   * Where the QUIC endpoint (UDP socket, quiche, HTTP/3, WebTransport framing) runs: 0 = on the
   * main thread with the game; n >= 1 = on n worker threads, one UDP port each (`port`,
   * `port + 1`, ...; clients are sent to the least loaded), the game on the main thread and
   * one hand-off batch per event-loop turn. Default DEFAULT_WEBTRANSPORT_WORKERS.
   */
  workers?: number;
}

export interface GameServerOptions {
  /** HMAC key shared with the game backend that mints join tickets (>= 16 bytes). */
  ticketSecret: string | Uint8Array;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** HTTP + WebSocket port (default 8080; 0 = any free port). */
  httpPort?: number;
  /** Serve HTTP/3 WebTransport as well. */
  webTransport?: WebTransportOptions | null;
  /**
   * Room definitions by room id. Each extends the standard scene: what it leaves out (hooks,
   * world, maxPlayers) is the standard scene's.
   */
  rooms?: Record<string, RoomDefinition>;
  /** Definition for room ids not in `rooms` (default: the standard scene); null = unknown room. */
  defaultRoom?: RoomDefinition | null;
  tickHz?: number;
  snapshotHz?: number;
  /**
   * Spread each room's snapshot work over the ticks between snapshots (default true; every
   * client still gets snapshotHz). Off: the whole room is served on one tick.
   */
  staggerSnapshots?: boolean;
  /** Channel snapshots travel on (default 'unreliable'). */
  snapshotChannel?: SnapshotChannel;
  /**
   * `POST /api/dev/ticket` mints single-use tickets for anyone: demos only. `true` or options:
   * the rooms they may name and the per-address rate (DevTicketOptions).
   */
  devTickets?: boolean | DevTicketOptions;
  /**
   * Web origins allowed to open sessions, on both transports (the WebSocket upgrade's and the
   * WebTransport CONNECT's `Origin`): a list, `'self'` (this server's own HTTP origin: pages it
   * serves itself, as the demo's), or null (default) for any. With a list, a request without an
   * Origin (a non-browser client that sends none) is refused too.
   */
  allowedOrigins?: AllowedOrigins;
  /**
   * Where `/metrics` is served: `{ port }` for a listener of its own (on `host`, default
   * 127.0.0.1), `{ token }` for a bearer token, `{ public: true }` for the public HTTP port
   * as is. Default: the public port for dev servers (`devTickets`), else not served over HTTP
   * (`server.metrics.text()` still works).
   */
  metrics?: MetricsEndpointOptions;
  /**
   * Connections waiting for their hello, in total and per address, live sessions per address
   * (default MAX_SESSIONS_PER_ADDRESS; server/session/admission.ts), and TCP connections one address may hold on the HTTP port (server/http/connection-guard.ts,
   * default MAX_HTTP_CONNECTIONS_PER_ADDRESS).
   */
  admission?: { maxPending?: number; maxPendingPerAddress?: number; maxSessionsPerAddress?: number; maxHttpConnectionsPerAddress?: number };
  /** Built client to serve statically (e.g. client/dist); none when absent. */
  staticDir?: string | null;
  timings?: Partial<SessionTimings>;
  scheduler?: Scheduler;
  /** Chat fan-out (default in-process; a Redis pub/sub fits the interface). */
  chatFanout?: ChatFanout;
  /** Room manager (default in-process rooms). */
  roomManager?: RoomManager;
  /** Seed for room randomness (spawn points). */
  seed?: number;
  /**
   * Join a cluster of nodes on Redis (docs/cluster.md): rooms are owned by one node at a time
   * (a lease), any node answers `/api/connect-info` with the owner's addresses, rooms move on
   * `drain()` and come back after a crash. Absent (default): a single server, no Redis needed.
   * Not combinable with `roomManager` or `chatFanout` (the cluster brings its own).
   */
  cluster?: GameServerClusterOptions | null;
  /** fastify request logging. */
  logger?: boolean;
  /** Also collect Node process metrics (CPU, memory, GC) on /metrics. */
  processMetrics?: boolean;
  /**
   * The read-only feeds (`/api/rooms`, `/api/rooms/:id/chat`, `/api/status` and their streams;
   * docs/server.md "Read-only feeds"): limits to override, or false to serve none. On by default.
   */
  feeds?: FeedsOptions | false;
}

/** The read-only feeds: their limits and, for cluster mode, their data sources. */
export interface FeedsOptions {
  limits?: Partial<FeedLimits>;
  /** Where the room list comes from (default: this process's rooms). */
  directory?: RoomListSource;
  /** Where chat history and live lines come from (default: this process's rooms and chat fan-out). */
  chat?: ChatSource;
  /** Where the status comes from (default: this process alone). */
  status?: StatusSource;
  /** This node's id on the status page (default `local`; a cluster node's is its cluster node id). */
  nodeId?: string;
  /**
   * Cluster mode: how often this node reads the cluster's directory for the lobby and status, one
   * round trip shared by every reader (default CLUSTER_FEED_POLL_MS, the node heartbeat).
   */
  pollMs?: number;
}

/** Dev tickets (`devTickets: { ... }`). */
export interface DevTicketOptions {
  /**
   * Rooms a dev ticket may name, the first being the default. Default: the ids of `rooms` when
   * given, else [DEFAULT_DEV_ROOM]. Each must be a room the join accepts (checked at start).
   */
  rooms?: readonly string[];
  /** Tickets one address may mint in a burst, and per second after it (DEV_TICKET_BURST 30, DEV_TICKET_PER_SECOND 2). */
  burst?: number;
  perSecond?: number;
  /**
   * Per-address limits on dev players (default true): minting (`burst`, `perSecond`) and one
   * chat limit shared by all dev players of an address (CHAT_SHARED_BURST). false lifts both:
   * for load generators, where every bot comes from one machine.
   */
  limitPerAddress?: boolean;
}

export interface ListenInfo {
  httpUrl: string;
  httpPort: number;
  webTransportUrl: string | null;
  webTransportPort: number | null;
  /** Where `/metrics` is served (see GameServerOptions.metrics), or null when not over HTTP. */
  metricsUrl: string | null;
  /** The origins allowed to open sessions (resolved `allowedOrigins`), or null for any. */
  allowedOrigins: string[] | null;
}

export interface DrainOptions {
  /** Time clients get to leave before the rest are closed (default DEFAULT_DRAIN_DEADLINE_MS). */
  deadlineMs?: number;
  reconnectJitterMs?: number;
}

export interface GameServer {
  /** Binds HTTP + WebSocket (and WebTransport when configured); once per server. */
  listen(): Promise<ListenInfo>;
  /**
   * Stop taking sessions, send the game `drain` notice and the transport drain (WebTransport
   * DRAIN capsule / HTTP/3 GOAWAY), wait until every client left or the deadline passed, close
   * the rest with SERVER_DRAINING, then shut down.
   */
  drain(options?: DrainOptions): Promise<void>;
  /** Close everything now (sessions get SERVER_DRAINING). Idempotent. */
  close(): Promise<void>;
  /**
   * Read-only views of the rooms open in this process (of the in-process manager, or of
   * `roomManager` when one was given). Rooms open and close with their players; the manager
   * itself stays inside the server.
   */
  readonly rooms: RoomDirectory;
  /** Read-only views of the player sessions (active and suspended). */
  readonly sessions: SessionDirectory;
  /** Prometheus metrics, also served on `GET /metrics`. */
  readonly metrics: GameMetrics;
  /**
   * The fastify instance once listen() has built it (null before). It is already listening, so
   * fastify refuses new routes on it; it serves to read its address or `inject` requests.
   */
  readonly http: FastifyInstance | null;
  /** Hand the server a connection from a transport of your own; it must say hello like any other. */
  accept(conn: Connection): void;
  /** Ticket for this server's secret; `spectator: true`: a ticket to watch the room (no entity; server/rooms/spectators.ts). */
  mintTicket(claims: { playerId: string; name: string; room: string; expiresAt?: number; spectator?: boolean }): string;
  /** What `GET /api/connect-info` answers: endpoints and the leaf certificate's hash. */
  connectInfo(): ConnectInfo;
  /**
   * A read-only view of the WebTransport side (in-thread or on workers) once listen() started
   * it: ports, sessions, draining, counters, kernel drops, refusals; null before, or without
   * `webTransport`.
   */
  readonly webTransport: WebTransportServiceView | null;
  /** The read-only feeds (null when `feeds: false`). */
  readonly feeds: FeedService | null;
  /** This server's cluster membership once listen() joined (null before, or without `cluster`). */
  readonly cluster: ClusterMode | null;
}

/**
 * Base64 SHA-256 of the DER of the leaf certificate in `pem` (the first one, the order in which
 * TLS sends a chain: RFC 8446 §4.4.2), or null when `pem` holds none. Only the leaf is
 * published: a browser checks `serverCertificateHashes` against the first certificate of the
 * chain the server presents and nothing else (W3C WebTransport, "verify a certificate hash"), so
 * a hash of an intermediate could never match.
 */
export function leafCertificateHash(pem: string): string | null {
  const leaf = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  return leaf ? createHash('sha256').update(new X509Certificate(leaf[0]).raw).digest('base64') : null;
}

export function createGameServer(options: GameServerOptions): GameServer {
  const scheduler = options.scheduler ?? systemScheduler;
  const metrics = new GameMetrics({ defaultMetrics: options.processMetrics });
  const fanout = options.chatFanout ?? new InProcessChatFanout();
  // A room definition extends the standard scene: hooks and sizes it leaves out are the scene's,
  // so `{ maxPlayers: 8, onChat }` is still a playable room. Set a hook to a no-op to drop it.
  const definitions = options.rooms
    ? Object.fromEntries(Object.entries(options.rooms).map(([id, def]) => [id, { ...standardScene, ...def }]))
    : undefined;
  const clusterOptions = options.cluster ?? null;
  if (clusterOptions && (options.roomManager || options.chatFanout)) {
    throw new RangeError('cluster brings its own room manager and chat fan-out: do not pass roomManager or chatFanout with it');
  }
  // A cluster's rooms exist once listen() has joined it (the node registers its bound URLs).
  const deferred = clusterOptions ? new DeferredRoomManager() : null;
  const rooms: RoomManager = deferred ?? options.roomManager ?? new InProcessRoomManager({
    scheduler, fanout, metrics,
    rooms: definitions,
    defaultDefinition: options.defaultRoom === undefined ? standardScene : options.defaultRoom,
    tickHz: options.tickHz,
    snapshotHz: options.snapshotHz,
    seed: options.seed,
    staggerSnapshots: options.staggerSnapshots,
  });
  const devTickets = options.devTickets ? devTicketRooms(options) : null;
  const sessions = new SessionManager({
    scheduler, rooms, metrics, ticketSecret: options.ticketSecret, timings: options.timings, snapshotChannel: options.snapshotChannel,
    maxPending: options.admission?.maxPending, maxPendingPerAddress: options.admission?.maxPendingPerAddress,
    maxSessionsPerAddress: options.admission?.maxSessionsPerAddress,
    singleUseChatPerAddress: devTickets?.limitPerAddress ?? true,
  });
  const metricsPlacement = placeMetrics(options.metrics, Boolean(options.devTickets));
  let metricsListener: { url: string; close(): Promise<void> } | null = null;
  /** Resolved at listen (`'self'` needs the HTTP port); null = any origin. */
  let allowedOrigins: ReadonlySet<string> | null = null;
  const host = options.host ?? '127.0.0.1';
  const wtOptions = options.webTransport ?? null;
  const leafHash = wtOptions ? leafCertificateHash(wtOptions.certPem) : null;
  const hashes = leafHash === null ? [] : [leafHash];
  let http: FastifyInstance | null = null;
  let wt: WebTransportService | null = null;
  /** `https://host:` of the WebTransport URL; the port is the least loaded worker's. */
  let wtOrigin: string | null = null;
  let closing: Promise<void> | null = null;
  let cluster: ClusterMode | null = null;
  metrics.udpSocketDrops = () => wt?.udpSocketDrops() ?? null;
  metrics.addRefusalSource(() => wt?.refusals() ?? []);
  /** Open WebSocket connections, so close() can let their close frames reach the clients. */
  const webSockets = new Set<WebSocketConnection>();
  let draining = false;
  const feedOptions = options.feeds === false ? null : options.feeds ?? {};
  let feeds: FeedService | null = null;
  // A cluster node's feeds read the whole cluster from Redis once listen() joined it (until then: 503).
  const clusterFeeds = clusterOptions && feedOptions ? new DeferredFeedSources() : null;
  if (feedOptions) {
    feeds = new FeedService({
      scheduler, metrics,
      limits: feedOptions.limits,
      directory: feedOptions.directory ?? clusterFeeds?.directory ?? new LocalRoomListSource(rooms, scheduler),
      chat: feedOptions.chat ?? clusterFeeds?.chat ?? new LocalChatSource(rooms, fanout),
      status: feedOptions.status ?? clusterFeeds?.status ?? new LocalStatusSource({
        nodeId: feedOptions.nodeId ?? 'local', scheduler, rooms,
        draining: () => draining, sessions: () => sessions.activeCount, feeds: () => feeds?.openCount ?? 0,
      }),
    });
  }

  const connectInfo = (): ConnectInfo => ({
    protocolVersion: PROTOCOL_VERSION,
    webTransportUrl: wt && wtOrigin ? `${wtOrigin}${wt.pickPort()}${WEBTRANSPORT_PATH}` : null,
    certificateHashes: hashes,
    webSocketPath: WEBSOCKET_PATH,
  });

  const mint = (claims: { playerId: string; name: string; room: string; expiresAt?: number; once?: boolean; spectator?: boolean }) =>
    mintTicket(options.ticketSecret, claims, { now: scheduler.now() });

  const close = (): Promise<void> => {
    closing ??= (async () => {
      feeds?.close();
      // Cluster: rooms halt, store their chat, write a final checkpoint and release their
      // leases before their sessions close, so another node takes them with every seat.
      if (cluster) await cluster.rooms.shutdown().catch(() => {});
      sessions.closeAll(ErrorCode.SERVER_DRAINING, 'server is shutting down');
      rooms.close();
      if (cluster) await cluster.stop().catch(() => {});
      // Give the close frames (and the `error` messages before them) time to reach the clients
      // before the sockets are torn down; a process that exits right after close() would
      // otherwise cut them (clients would see 1006 instead of the game's code).
      await flushed([...webSockets].map((c) => c.socketClosed), CLOSE_FLUSH_TIMEOUT_MS);
      await Promise.allSettled([
        http ? http.close() : Promise.resolve(),
        wt ? wt.close(ErrorCode.SERVER_DRAINING, 'server is shutting down') : Promise.resolve(),
        metricsListener ? metricsListener.close() : Promise.resolve(),
      ]);
    })();
    return closing;
  };

  let wtView: WebTransportServiceView | null = null;
  const server: GameServer = {
    rooms: roomDirectory(rooms), metrics,
    sessions: sessionDirectory(sessions),
    get http() { return http; },
    get webTransport() { return wtView; },
    feeds,
    get cluster() { return cluster; },
    accept: (conn) => sessions.accept(conn),
    mintTicket: mint,
    connectInfo,

    async listen() {
      if (http) throw new Error('listen() was already called');
      http = await buildHttpApp({
        metrics,
        onConnection: (conn) => {
          webSockets.add(conn);
          void conn.socketClosed.then(() => webSockets.delete(conn));
          sessions.accept(conn);
        },
        isDraining: () => draining,
        connectInfo,
        devTickets: devTickets
          ? {
            rooms: devTickets.rooms,
            burst: devTickets.burst,
            perSecond: devTickets.perSecond,
            rateLimited: devTickets.limitPerAddress,
            now: () => scheduler.now(),
            mint: (name, room, spectator) => {
              const playerId = `dev-${randomBytes(9).toString('base64url')}`;
              // Single use: it starts one session; a reconnect resumes it with the resume token.
              return { ticket: mint({ playerId, name, room, once: true, spectator }), playerId, room };
            },
          }
          : null,
        publicMetrics: metricsPlacement.where === 'public' ? { token: metricsPlacement.token } : null,
        allowedOrigins: () => allowedOrigins,
        staticDir: options.staticDir ?? null,
        feeds,
        logger: options.logger,
        cluster: clusterOptions ? () => cluster : undefined,
      });
      guardHttpConnections(http.server, () => metrics.refuse('http', 'connections_per_address'), options.admission?.maxHttpConnectionsPerAddress);
      await http.listen({ host, port: options.httpPort ?? 8080 });
      const address = http.server.address();
      const httpPort = typeof address === 'object' && address ? address.port : (options.httpPort ?? 8080);
      const origins = resolveAllowedOrigins(options.allowedOrigins, host, httpPort);
      allowedOrigins = origins ? new Set(origins) : null;
      const httpHost = host.includes(':') ? `[${host}]` : host;
      let metricsUrl: string | null = metricsPlacement.where === 'public' ? `http://${httpHost}:${httpPort}/metrics` : null;
      if (metricsPlacement.where === 'own') {
        metricsListener = await startMetricsListener(metrics, metricsPlacement);
        metricsUrl = metricsListener.url;
      }
      let wtPort: number | null = null;
      if (wtOptions) {
        const workers = wtOptions.workers ?? DEFAULT_WEBTRANSPORT_WORKERS;
        const wtOrigins = wtOptions.allowedOrigins === undefined ? origins : resolveAllowedOrigins(wtOptions.allowedOrigins, host, httpPort);
        const serverOptions: WebTransportServerOptions = {
          host,
          port: wtOptions.port ?? 4433,
          certPem: wtOptions.certPem,
          keyPem: wtOptions.keyPem,
          paths: [WEBTRANSPORT_PATH],
          allowedOrigins: wtOrigins,
          linkSim: wtOptions.linkSim,
          linkSimSeed: wtOptions.linkSimSeed,
          // The limit is the server's: each worker takes its share.
          maxSessions: wtOptions.maxSessions === undefined || workers === 0 ? wtOptions.maxSessions : Math.ceil(wtOptions.maxSessions / workers),
          retry: wtOptions.retry,
          maxHandshakes: wtOptions.maxHandshakes,
          maxHandshakesPerAddress: wtOptions.maxHandshakesPerAddress,
          maxConnectionsPerAddress: wtOptions.maxConnectionsPerAddress,
          handshakeTimeoutMs: wtOptions.handshakeTimeoutMs,
          statelessResetKey: wtOptions.statelessResetKey,
        };
        // The hello travels on the reliable stream: never give up on the stream sooner.
        const streamOpenMs = Math.max(WT_STREAM_OPEN_TIMEOUT_MS, options.timings?.helloTimeoutMs ?? DEFAULT_SESSION_TIMINGS.helloTimeoutMs);
        const service: WebTransportService = workers > 0
          ? new WebTransportWorkers({ workers, server: serverOptions, streamOpenMs })
          : new InThreadWebTransport(serverOptions, streamOpenMs);
        service.onConnection = (conn) => sessions.accept(conn);
        wt = service;
        wtView = webTransportServiceView(service);
        const bound = await service.listen();
        wtPort = bound.port;
        wtOrigin = `https://${host.includes(':') ? `[${host}]` : host}:`;
      }
      const httpUrl = `http://${httpHost}:${httpPort}`;
      const wtUrl = wtOrigin ? `${wtOrigin}${wtPort}${WEBTRANSPORT_PATH}` : null;
      if (clusterOptions && deferred) {
        try {
          // Loaded only here: a single server never loads node-redis or server/cluster/.
          const { startClusterMode } = await import('./cluster-mode.js');
          cluster = await startClusterMode({
            options: clusterOptions,
            bound: { httpUrl, webTransportUrl: wtUrl, webSocketPath: WEBSOCKET_PATH, certificateHashes: hashes },
            ticketSecret: options.ticketSecret,
            scheduler, metrics, sessions, deferred,
            local: { feeds: () => feeds?.openCount ?? 0, draining: () => draining },
            feedPollMs: feedOptions?.pollMs,
            rooms: {
              definitions,
              defaultDefinition: options.defaultRoom === undefined ? standardScene : options.defaultRoom,
              tickHz: options.tickHz, snapshotHz: options.snapshotHz, seed: options.seed, staggerSnapshots: options.staggerSnapshots,
            },
          });
          clusterFeeds?.attach(cluster.feeds);
        } catch (error) {
          await close();
          throw error;
        }
      }
      return {
        httpUrl,
        httpPort,
        webTransportUrl: wtUrl,
        webTransportPort: wtPort,
        metricsUrl,
        allowedOrigins: origins,
      };
    },

    async drain(drainOptions: DrainOptions = {}) {
      if (closing) return closing;
      draining = true;
      const deadlineMs = drainOptions.deadlineMs ?? DEFAULT_DRAIN_DEADLINE_MS;
      const jitterMs = drainOptions.reconnectJitterMs ?? DEFAULT_RECONNECT_JITTER_MS;
      if (cluster) {
        // Hand every room over first, then tell each client where its room went; hellos keep
        // being answered meanwhile (WRONG_NODE for a room that moved).
        const target = await cluster.drain();
        sessions.drain(deadlineMs, jitterMs, { keepAccepting: true, target });
      } else {
        sessions.drain(deadlineMs, jitterMs);
      }
      feeds?.drain(jitterMs);
      wt?.drain();
      const deadline = scheduler.now() + deadlineMs;
      // Poll on the injected scheduler: clients leave on their own time (with jitter).
      await new Promise<void>((resolve) => {
        const check = () => {
          if (sessions.activeCount === 0 || scheduler.now() >= deadline) resolve();
          else scheduler.after(Math.min(DRAIN_POLL_MS, deadline - scheduler.now()), check);
        };
        check();
      });
      await close();
    },

    close,
  };
  registerInternals(server, { rooms, webTransport: () => wt });
  return server;
}

/**
 * The dev-ticket rooms and rate of `options.devTickets`, checked: every room must be one a join
 * accepts, so the endpoint never mints a ticket the join refuses.
 */
function devTicketRooms(options: GameServerOptions): { rooms: string[]; burst?: number; perSecond?: number; limitPerAddress: boolean } {
  const o = typeof options.devTickets === 'object' ? options.devTickets : {};
  const rooms = [...(o.rooms ?? (options.rooms ? Object.keys(options.rooms) : [DEFAULT_DEV_ROOM]))];
  if (rooms.length === 0) throw new RangeError('devTickets.rooms must name at least one room');
  for (const room of rooms) {
    if (!ROOM_ID_PATTERN.test(room)) throw new RangeError(`devTickets: room id ${JSON.stringify(room)} does not match ${ROOM_ID_PATTERN}`);
    // With our room manager, a room is accepted when defined or when a default definition exists.
    const defined = options.rooms !== undefined && Object.hasOwn(options.rooms, room);
    if (!options.roomManager && !defined && options.defaultRoom === null) {
      throw new RangeError(`devTickets: room ${JSON.stringify(room)} has no definition and defaultRoom is null`);
    }
  }
  for (const [name, v] of [['burst', o.burst], ['perSecond', o.perSecond]] as const) {
    if (v !== undefined && !(v > 0)) throw new RangeError(`devTickets.${name} must be positive`);
  }
  return { rooms, burst: o.burst, perSecond: o.perSecond, limitPerAddress: o.limitPerAddress ?? true };
}

/** How often drain() checks whether every client has left. */
const DRAIN_POLL_MS = 50;
/** Longest close() waits for WebSocket closing handshakes before tearing sockets down. */
export const CLOSE_FLUSH_TIMEOUT_MS = 1_000;

/** Resolves when all promises settle or after `timeoutMs`, whichever comes first. */
function flushed(promises: Promise<void>[], timeoutMs: number): Promise<void> {
  if (promises.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    void Promise.all(promises).then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
