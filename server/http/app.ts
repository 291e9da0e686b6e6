import { existsSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import fastifyStatic from '@fastify/static';
import { MAX_NAME_LENGTH } from '../../shared/limits.js';
import { sanitizeDisplayName } from '../../shared/text.js';
import { addressKey } from '../address.js';
import { KeyedRateLimiter } from '../chat/rate-limit.js';
import type { GameMetrics } from '../metrics.js';
import { WebSocketConnection, WS_MAX_FRAME_BYTES } from '../transports/websocket.js';
import { metricsAuthorized } from './metrics-endpoint.js';
import { originAllowed } from './origins.js';

/** The WebSocket route (also published in connect-info). */
export const WEBSOCKET_PATH = '/ws';
/** JSON request bodies are tiny (the dev ticket request); anything bigger is refused by fastify. */
export const HTTP_BODY_LIMIT_BYTES = 4 * 1024;
/** Dev tickets one address may mint in a burst, and per second after it (a browser tab needs one). */
export const DEV_TICKET_BURST = 30;
export const DEV_TICKET_PER_SECOND = 2;
/** Addresses the dev-ticket rate limit remembers (KeyedRateLimiter: refilled ones go first). */
export const DEV_TICKET_ADDRESS_LIMIT = 10_000;

/** `GET /api/connect-info`: what a browser needs to open a session. */
export interface ConnectInfo {
  protocolVersion: number;
  /** `https://host:port/path` of the WebTransport endpoint, or null when it is not served. */
  webTransportUrl: string | null;
  /** Base64 SHA-256 of the DER certificate(s), for `serverCertificateHashes`. */
  certificateHashes: string[];
  webSocketPath: string;
}

export interface DevTicket {
  ticket: string;
  playerId: string;
  room: string;
}

/** `POST /api/dev/ticket`: what it may mint, and how fast. */
export interface DevTicketRoute {
  /** Mints a single-use ticket for a new dev player named `name` in `room`. */
  mint(name: string, room: string): DevTicket;
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

  app.get('/api/connect-info', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return options.connectInfo();
  });

  const dev = options.devTickets ?? null;
  const devLimiter = dev && dev.rateLimited !== false ? new KeyedRateLimiter(dev.burst ?? DEV_TICKET_BURST, dev.perSecond ?? DEV_TICKET_PER_SECOND, DEV_TICKET_ADDRESS_LIMIT) : null;
  app.post('/api/dev/ticket', async (req, reply) => {
    if (!dev) return reply.code(404).send({ error: 'not found' });
    // Rate limit per address first: a refused request costs a map lookup, nothing more.
    const taken = devLimiter ? devLimiter.take(addressKey(req.ip), dev.now()) : { ok: true as const };
    if (!taken.ok) {
      options.metrics.refuse('http', 'dev_ticket_rate_limited');
      return reply.code(429)
        .header('retry-after', String(Math.max(1, Math.ceil(taken.retryAfterMs / 1000))))
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
    return dev.mint(name, room);
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

  if (options.staticDir && existsSync(options.staticDir)) {
    await app.register(fastifyStatic, { root: options.staticDir, index: ['index.html'] });
  }
  return app;
}
