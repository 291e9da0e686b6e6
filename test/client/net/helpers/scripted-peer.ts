/**
 * A scripted server peer for client-side wire assertions: real HTTP (connect-info) and a real
 * WebSocket on 127.0.0.1, speaking the shared codec, with every byte the client sends recorded.
 * It lets tests check what only the client decides (hello fields, input redundancy, acks, ping
 * echo, reconnect timing) exactly. End-to-end behaviour with the real server is tested against
 * `createGameServer` in game-client-server.test.ts.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeMessage, encodeMessage, type DecodeResult } from '../../../../shared/codec.js';
import { messageSpecById, PROTOCOL_VERSION, type MessageBodies, type MessageName } from '../../../../shared/messages.js';

export interface PeerConnection {
  socket: WebSocket;
  received: Extract<DecodeResult, { ok: true }>[];
  send<K extends MessageName>(name: K, body: MessageBodies[K]): void;
  sendRaw(bytes: Uint8Array): void;
}

export interface ScriptedPeer {
  baseUrl: string;
  connections: PeerConnection[];
  /** Called for each decoded client message (after it is recorded). */
  onMessage: ((conn: PeerConnection, msg: Extract<DecodeResult, { ok: true }>) => void) | null;
  /** Connect-info override (e.g. a WebTransport URL that goes nowhere). */
  webTransportUrl: string | null;
  /** Connect-info certificate hashes (base64 SHA-256). */
  certificateHashes: string[];
  close(): Promise<void>;
}

export async function startScriptedPeer(): Promise<ScriptedPeer> {
  const http: Server = createServer((req, res) => {
    if (req.url?.split('?')[0] === '/api/connect-info') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({
        protocolVersion: PROTOCOL_VERSION,
        webTransportUrl: peer.webTransportUrl,
        certificateHashes: peer.certificateHashes,
        webSocketPath: '/ws',
      }));
      return;
    }
    res.statusCode = 404;
    res.end();
  });
  const wss = new WebSocketServer({ server: http, path: '/ws' });
  const peer: ScriptedPeer = {
    baseUrl: '',
    connections: [],
    onMessage: null,
    webTransportUrl: null,
    certificateHashes: [Buffer.alloc(32, 7).toString('base64')],
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
  wss.on('connection', (socket) => {
    const conn: PeerConnection = {
      socket,
      received: [],
      send: (name, body) => socket.send(encodeMessage(name, body)),
      sendRaw: (bytes) => socket.send(bytes),
    };
    peer.connections.push(conn);
    socket.on('message', (data: Buffer) => {
      const bytes = new Uint8Array(data);
      const channel = messageSpecById(bytes[0])?.channel ?? 'reliable';
      const r = decodeMessage(bytes, { channel, direction: 'c2s' });
      if (!r.ok) throw new Error(`client sent an invalid message: ${r.detail}`);
      conn.received.push(r);
      peer.onMessage?.(conn, r);
    });
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as { port: number };
  peer.baseUrl = `http://127.0.0.1:${port}`;
  return peer;
}

/** A welcome body with sensible defaults. */
export function welcomeBody(over: Partial<MessageBodies['welcome']> = {}): MessageBodies['welcome'] {
  return {
    v: PROTOCOL_VERSION, playerId: 'p1', entityId: 1, name: 'Ada', roomId: 'lobby', tickHz: 60, snapshotHz: 20,
    resumeToken: 'resume-1', resumed: false, serverTime: 1000, worldW: 1000, worldH: 1000,
    players: [{ entityId: 1, playerId: 'p1', name: 'Ada' }],
    ...over,
  };
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
