import { existsSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import fastifyStatic from '@fastify/static';
import { ID_PATTERN, MAX_ID_LENGTH, MAX_NAME_LENGTH } from '../../shared/limits.js';
import type { GameMetrics } from '../metrics.js';
import { WebSocketConnection, WS_MAX_FRAME_BYTES } from '../transports/websocket.js';
import type { FeedService } from './feeds/feed-service.js';
import { feedsPlugin } from './feeds/plugin.js';

/** The WebSocket route (also published in connect-info). */
export const WEBSOCKET_PATH = '/ws';
/** JSON request bodies are tiny (the dev ticket request); anything bigger is refused by fastify. */
export const HTTP_BODY_LIMIT_BYTES = 4 * 1024;

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

export interface HttpAppOptions {
  metrics: GameMetrics;
  /** A WebSocket connection opened. */
  onConnection(conn: WebSocketConnection): void;
  isDraining(): boolean;
  connectInfo(): ConnectInfo;
  /** Mints a ticket for `POST /api/dev/ticket`; the route answers 404 when absent. */
  devTicket?: ((name: string, room: string | undefined) => DevTicket) | null;
  /** The read-only feeds (room list, chat, status over SSE and long polling); not served when absent. */
  feeds?: FeedService | null;
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

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', options.metrics.registry.contentType);
    return options.metrics.text();
  });

  app.get('/api/connect-info', async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return options.connectInfo();
  });

  app.post('/api/dev/ticket', async (req, reply) => {
    if (!options.devTicket) return reply.code(404).send({ error: 'not found' });
    const body = (req.body ?? {}) as Record<string, unknown>;
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    const room = body.room === undefined || body.room === null || body.room === '' ? undefined : body.room;
    if (name.length < 1 || name.length > MAX_NAME_LENGTH) {
      return reply.code(400).send({ error: `name must be 1-${MAX_NAME_LENGTH} characters` });
    }
    if (room !== undefined && (typeof room !== 'string' || room.length > MAX_ID_LENGTH || !ID_PATTERN.test(room))) {
      return reply.code(400).send({ error: 'room must match [A-Za-z0-9_.:-]{1,64}' });
    }
    return options.devTicket(name, room as string | undefined);
  });

  app.get(WEBSOCKET_PATH, { websocket: true }, (socket, req) => {
    options.onConnection(new WebSocketConnection(socket, req.ip));
  });

  if (options.feeds) await app.register(feedsPlugin, { feeds: options.feeds });

  if (options.staticDir && existsSync(options.staticDir)) {
    await app.register(fastifyStatic, { root: options.staticDir, index: ['index.html'] });
  }
  return app;
}
