import { existsSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import fastifyStatic from '@fastify/static';
import { CONNECT_INFO_PATH, WEBSOCKET_PATH, type ConnectInfo } from '../../shared/connect-info.js';
import { ErrorCode } from '../../shared/errors.js';
import { MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_TICKET_LENGTH } from '../../shared/limits.js';
import { sanitizeDisplayName } from '../../shared/text.js';
import { addressKey } from '../address.js';
import { KeyedRateLimiter } from '../chat/rate-limit.js';
import { retryAfterSeconds } from '../cluster/admission.js';
import type { GameMetrics } from '../metrics.js';
import { WebSocketConnection, WS_MAX_FRAME_BYTES } from '../transports/websocket.js';
import type { FeedService } from './feeds/feed-service.js';
import { feedsPlugin } from './feeds/plugin.js';
import { metricsAuthorized } from './metrics-endpoint.js';
import { originAllowed } from './origins.js';

/** The WebSocket route (also published in connect-info); connect-info's path and body: shared/connect-info.ts. */
export { WEBSOCKET_PATH, type ConnectInfo };
/** JSON request bodies are tiny (the dev ticket request); anything bigger is refused by fastify. */
export const HTTP_BODY_LIMIT_BYTES = 4 * 1024;
/** Dev tickets one address may mint in a burst, and per second after it (a browser tab needs one). */
export const DEV_TICKET_BURST = 30;
export const DEV_TICKET_PER_SECOND = 2;
/** Addresses the dev-ticket rate limit remembers (KeyedRateLimiter: refilled ones go first). */
export const DEV_TICKET_ADDRESS_LIMIT = 10_000;


/** An HTTP answer computed outside fastify (cluster mode): status, JSON body, a retry time. */
export interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
  /** Sent as `Retry-After` (whole seconds, RFC 9110 §10.2.3) too. */
  retryAfterMs?: number;
}

/**
 * The routes only a cluster node has (docs/cluster.md, "Routing"): connect-info for a ticket or
 * a room (answered with the owner node's URLs), and the cluster's status.
 */
export interface ClusterHttpRoutes {
  connectInfo(query: { ticket?: string; room?: string }): Promise<HttpAnswer>;
  status(): Promise<HttpAnswer>;
}

/** `Retry-After` of a 503 before the node has joined its cluster (listen() under way). */
export const CLUSTER_NOT_JOINED_RETRY_MS = 1_000;

export interface DevTicket {
  ticket: string;
  playerId: string;
  room: string;
}

/** `POST /api/dev/ticket`: what it may mint, and how fast. */
export interface DevTicketRoute {
  /** Mints a single-use ticket for a new dev player (or, with `spectator`, a watcher) named `name` in `room`. */
  mint(name: string, room: string, spectator: boolean): DevTicket;
  /**
   * Rooms a dev ticket may name, the first being the default: only rooms a join accepts, so the
   * endpoint never mints a ticket the join then refuses.
   */
  rooms: readonly string[];
  /** Per address: tickets in a burst and per second (default DEV_TICKET_BURST, DEV_TICKET_PER_SECOND). */
  burst?: number;
  perSecond?: number;
  /** false: no per-address limit (load generators on one machine). Default true. */
  rateLimited?: boolean;
  /** Clock of the rate limit (ms). */
  now(): number;
}

export interface HttpAppOptions {
  metrics: GameMetrics;
  /** A WebSocket connection opened. */
  onConnection(conn: WebSocketConnection): void;
  isDraining(): boolean;
  connectInfo(): ConnectInfo;
  /** The read-only feeds (room list, chat, status over SSE and long polling); not served when absent. */
  feeds?: FeedService | null;
  /** `POST /api/dev/ticket`; the route answers 404 when absent. */
  devTickets?: DevTicketRoute | null;
  /** `/metrics` on this (public) port: absent or null = not here (404); `token` null = open. */
  publicMetrics?: { token: string | null } | null;
  /**
   * Origins allowed to upgrade to a WebSocket, read per request (null = any, and none): the
   * same rule as WebTransport's CONNECT (server/http/origins.ts). Others get 403.
   */
  allowedOrigins?: () => ReadonlySet<string> | null;
  /** Directory of the built client (index.html); not served when missing. */
  staticDir?: string | null;
  logger?: boolean;
  /**
   * Cluster mode: read per request; null until the node has joined (then 503). Absent: a single
   * server (connect-info answers this server, no cluster status).
   */
  cluster?: () => ClusterHttpRoutes | null;
}

/**
 * The fastify app: health, metrics, connect-info, dev tickets, the WebSocket route and the static
 * client. It turns each WebSocket into a `Connection` and hands it on; it knows no game rules.
 */
export async function buildHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: HTTP_BODY_LIMIT_BYTES });
  await app.register(fastifyWebsocket, { options: { maxPayload: WS_MAX_FRAME_BYTES } });

  app.get('/healthz', async () => ({ ok: true, draining: options.isDraining() }));

  const publicMetrics = options.publicMetrics ?? null;
  if (publicMetrics) {
    app.get('/metrics', async (req, reply) => {
      if (!metricsAuthorized(req.headers.authorization, publicMetrics.token)) {
        options.metrics.refuse('http', 'metrics_unauthorized');
        return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' });
      }
      reply.header('content-type', options.metrics.registry.contentType);
      return options.metrics.text();
    });
  }

  const send = (reply: FastifyReply, answer: HttpAnswer) => {
    if (answer.retryAfterMs !== undefined) reply.header('retry-after', retryAfterSeconds(answer.retryAfterMs));
    return reply.code(answer.status).send(answer.body);
  };
  const notJoined: HttpAnswer = {
    status: 503,
    body: { error: 'this node has not joined its cluster yet', code: ErrorCode.CLUSTER_UNAVAILABLE, retryAfterMs: CLUSTER_NOT_JOINED_RETRY_MS },
    retryAfterMs: CLUSTER_NOT_JOINED_RETRY_MS,
  };

  app.get(CONNECT_INFO_PATH, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    if (!options.cluster) return options.connectInfo();
    const routes = options.cluster();
    if (!routes) return send(reply, notJoined);
    const q = (req.query ?? {}) as Record<string, unknown>;
    const query = {
      ...(typeof q.ticket === 'string' && q.ticket.length <= MAX_TICKET_LENGTH ? { ticket: q.ticket } : {}),
      ...(typeof q.room === 'string' && q.room.length <= MAX_ID_LENGTH ? { room: q.room } : {}),
    };
    return send(reply, await routes.connectInfo(query));
  });

  if (options.cluster) {
    const cluster = options.cluster;
    app.get('/api/cluster', async (_req, reply) => {
      reply.header('cache-control', 'no-store');
      const routes = cluster();
      return send(reply, routes ? await routes.status() : notJoined);
    });
  }

  const dev = options.devTickets ?? null;
  const devLimiter = dev && dev.rateLimited !== false ? new KeyedRateLimiter(dev.burst ?? DEV_TICKET_BURST, dev.perSecond ?? DEV_TICKET_PER_SECOND, DEV_TICKET_ADDRESS_LIMIT) : null;
  app.post('/api/dev/ticket', async (req, reply) => {
    if (!dev) return reply.code(404).send({ error: 'not found' });
    // Rate limit per address first: a refused request costs a map lookup, nothing more.
    const taken = devLimiter ? devLimiter.take(addressKey(req.ip), dev.now()) : { ok: true as const };
    if (!taken.ok) {
      options.metrics.refuse('http', 'dev_ticket_rate_limited');
      return reply.code(429)
        .header('retry-after', retryAfterSeconds(taken.retryAfterMs))
        .send({ error: 'too many dev tickets from this address', retryAfterMs: taken.retryAfterMs });
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    // The name every player will see, cleaned as the join would clean it (shared/text.ts).
    const name = typeof body.name === 'string' ? sanitizeDisplayName(body.name) : '';
    const room = body.room === undefined || body.room === null || body.room === '' ? dev.rooms[0] : body.room;
    if (name.length < 1 || name.length > MAX_NAME_LENGTH) {
      options.metrics.refuse('http', 'dev_ticket_invalid');
      return reply.code(400).send({ error: `name must have 1-${MAX_NAME_LENGTH} visible characters` });
    }
    if (typeof room !== 'string' || !dev.rooms.includes(room)) {
      options.metrics.refuse('http', 'dev_ticket_invalid');
      return reply.code(400).send({ error: 'room must be one this server serves', rooms: dev.rooms });
    }
    if (body.spectate !== undefined && typeof body.spectate !== 'boolean') {
      options.metrics.refuse('http', 'dev_ticket_invalid');
      return reply.code(400).send({ error: 'spectate must be true or false' });
    }
    return dev.mint(name, room, body.spectate === true);
  });

  app.get(WEBSOCKET_PATH, {
    websocket: true,
    // Before the upgrade: a refused origin never becomes a socket (RFC 6455 §4.2.2: 403).
    preValidation: async (req, reply) => {
      const allowed = options.allowedOrigins?.() ?? null;
      if (!originAllowed(allowed, req.headers.origin)) {
        options.metrics.refuse('http', 'bad_origin');
        return reply.code(403).send({ error: 'origin not allowed' });
      }
    },
  }, (socket, req) => {
    options.onConnection(new WebSocketConnection(socket, req.ip));
  });

  if (options.feeds) await app.register(feedsPlugin, { feeds: options.feeds });

  if (options.staticDir && existsSync(options.staticDir)) {
    await app.register(fastifyStatic, { root: options.staticDir, index: ['index.html'] });
  }
  return app;
}
