/**
 * The real game server (`createGameServer`) on 127.0.0.1, HTTP/WebSocket and HTTP/3
 * WebTransport both on port 0, dev tickets on, with the generated dev certificate.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { GameClient } from '../../../../client/net/game-client.js';
import type { GameClientOptions } from '../../../../client/net/game-client-types.js';
import { mintDevTicket } from '../../../../client/net/dev-ticket.js';
import { NodeWebTransportConstructor } from '../../../../tools/bots/node-webtransport.js';
import { createDevCertificate, type DevCertificate } from '../../../../certs/dev-cert.js';
import { createGameServer, type GameServer, type GameServerOptions } from '../../../../server/index.js';

export interface TestServer {
  server: GameServer;
  baseUrl: string;
  /** True when the server listens for WebTransport too. */
  webTransport: boolean;
  close(): Promise<void>;
}

let cert: DevCertificate | null = null;

export async function startTestServer(over: Partial<GameServerOptions> = {}): Promise<TestServer> {
  cert ??= createDevCertificate();
  const server = createGameServer({
    ticketSecret: randomBytes(32),
    httpPort: 0,
    devTickets: true,
    webTransport: { port: 0, certPem: cert.certPem, keyPem: cert.keyPem },
    ...over,
  });
  const info = await server.listen();
  return {
    server,
    baseUrl: info.httpUrl,
    webTransport: info.webTransportUrl !== null,
    close: () => server.close(),
  };
}

/**
 * A GameClient for `server` with a dev ticket for `name` (the real `ws` WebSocket and Node
 * WebTransport, WebSocket by default), `over` on top; pushed onto `track` for the test's cleanup.
 */
export function devGameClient(server: TestServer, name: string, track: GameClient[], over: Partial<GameClientOptions> = {}): GameClient {
  const baseUrl = server.baseUrl;
  const c = new GameClient({
    baseUrl,
    ticket: () => mintDevTicket(globalThis.fetch.bind(globalThis), baseUrl, name),
    transport: 'websocket',
    WebSocket,
    WebTransport: NodeWebTransportConstructor,
    ...over,
  });
  track.push(c);
  return c;
}
