/**
 * The read-only feeds' routes (docs/server.md "Read-only feeds"), a fastify plugin over a
 * `FeedService`: it parses and refuses bad parameters, then hands over. Streams are written on
 * `reply.raw` after `reply.hijack()`.
 *
 *   GET /api/rooms                       JSON room list
 *   GET /api/rooms/stream                SSE: `rooms` (full list), then `changes`
 *   GET /api/rooms/:id/chat              long poll: ?after=<chat id>&wait=<seconds>
 *   GET /api/rooms/:id/chat/stream       SSE: `chat` (id: = chat id), `history-lost`, `ready`, `closed`
 *   GET /api/status                      JSON status
 *   GET /api/status/stream               SSE: `status` once a second
 *
 * Every stream may end with a `drain` event (and a `retry:`) when the server drains.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { addressKey } from '../../address.js';
import type { FeedService, HttpAnswer, TakeResponse } from './feed-service.js';
import { parseChatStart, parseRoomId, parseWait } from './params.js';

export interface FeedsPluginOptions {
  feeds: FeedService;
  /** The key one client address is counted under (default `addressKey`: IPv4, or the IPv6 /64). */
  addressKey?: (address: string) => string;
}

function send(reply: FastifyReply, answer: HttpAnswer): FastifyReply {
  if (answer.headers) reply.headers(answer.headers);
  return reply.code(answer.status).send(answer.body);
}

export async function feedsPlugin(app: FastifyInstance, options: FeedsPluginOptions): Promise<void> {
  const { feeds } = options;
  const keyOf = options.addressKey ?? addressKey;
  const address = (req: FastifyRequest) => keyOf(req.ip ?? '');
  const taker = (reply: FastifyReply): TakeResponse => () => {
    reply.hijack();
    return reply.raw;
  };
  const bad = (reply: FastifyReply, reason: string, message: string) => send(reply, feeds.refuse(400, reason, message));
  // A HEAD request would get a stream's headers and then nothing, forever: streams are GET only.
  const stream = { exposeHeadRoute: false } as const;

  app.get('/api/rooms', async (_req, reply) => send(reply, await feeds.roomsJson()));

  app.get('/api/rooms/stream', stream, async (req, reply) => {
    const refused = await feeds.roomsStream(address(req), taker(reply));
    if (refused) return send(reply, refused);
  });

  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/api/rooms/:id/chat/stream', stream, async (req, reply) => {
    const room = parseRoomId(req.params.id);
    if (!room.ok) return bad(reply, room.reason, room.message);
    const start = parseChatStart(req.headers['last-event-id'], req.query.after);
    if (!start.ok) return bad(reply, start.reason, start.message);
    const refused = await feeds.chatStream(room.value, start.value, address(req), taker(reply));
    if (refused) return send(reply, refused);
  });

  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>('/api/rooms/:id/chat', async (req, reply) => {
    const room = parseRoomId(req.params.id);
    if (!room.ok) return bad(reply, room.reason, room.message);
    // A poller names its position with `after`; a Last-Event-ID header means the same here.
    const start = parseChatStart(req.headers['last-event-id'], req.query.after);
    if (!start.ok) return bad(reply, start.reason, start.message);
    const wait = parseWait(req.query.wait, feeds.limits.longPollMaxWaitS);
    if (!wait.ok) return bad(reply, wait.reason, wait.message);
    return send(reply, await feeds.chatPoll(room.value, start.value, wait.value, address(req)));
  });

  app.get('/api/status', async (_req, reply) => send(reply, await feeds.statusJson()));

  app.get('/api/status/stream', stream, async (req, reply) => {
    const refused = await feeds.statusStream(address(req), taker(reply));
    if (refused) return send(reply, refused);
  });

  // Shutdown: fastify's close waits for open connections, and a stream never ends by itself.
  app.addHook('preClose', async () => feeds.close());
}
