/**
 * The real game server (`createGameServer`) on 127.0.0.1, HTTP/WebSocket and HTTP/3
 * WebTransport both on port 0, dev tickets on, with the generated dev certificate.
 */
import { randomBytes } from 'node:crypto';
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
