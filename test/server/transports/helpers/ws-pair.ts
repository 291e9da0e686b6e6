/** A real fastify WebSocket route on port 0 and a real `ws` client connected to it, for the transport tests. */
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import WebSocket from 'ws';
import { WebSocketConnection } from '../../../../server/transports/websocket.js';

export interface WsPair {
  /** The server's connection under test. */
  conn: WebSocketConnection;
  /** The client. */
  ws: WebSocket;
  /** ws's server-side socket the connection wraps. */
  server: WebSocket;
  /** The client's TCP socket: raw frames written here reach the server as sent. */
  tcp: Socket;
  /** Every message the client received, in order. */
  received: Uint8Array[];
}

let open: { app: FastifyInstance; ws: WebSocket }[] = [];

/** Opens a pair; `maxPayload` is ws's limit on the server side (its default when absent). */
export async function wsPair(options: { maxPayload?: number } = {}): Promise<WsPair> {
  const app = Fastify();
  await app.register(fastifyWebsocket, options.maxPayload === undefined ? {} : { options: { maxPayload: options.maxPayload } });
  let resolveConn!: (c: { conn: WebSocketConnection; server: WebSocket }) => void;
  const connP = new Promise<{ conn: WebSocketConnection; server: WebSocket }>((r) => { resolveConn = r; });
  app.get('/ws', { websocket: true }, (socket, req) => resolveConn({ conn: new WebSocketConnection(socket, req.ip), server: socket }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  open.push({ app, ws });
  const received: Uint8Array[] = [];
  ws.on('message', (d: Buffer) => received.push(new Uint8Array(d)));
  ws.on('error', () => {});
  await new Promise<void>((r, j) => { ws.once('open', () => r()); ws.once('error', j); });
  const tcp = (ws as unknown as { _socket: Socket })._socket;
  return { ...(await connP), ws, tcp, received };
}

/** Ends every pair opened since the last call (for afterEach). */
export async function closeWsPairs(): Promise<void> {
  const pairs = open;
  open = [];
  for (const { app, ws } of pairs) {
    ws.terminate();
    await app.close();
  }
}
