/**
 * The real game server (`createGameServer`) for the server tests: HTTP/WebSocket on 127.0.0.1
 * port 0 and, with `wt`, HTTP/3 WebTransport on port 0 with a fresh dev certificate; raw
 * clients for it (ws-test-client.ts, wt-test-client.ts) and tickets signed with its secret.
 * Every server and client opened here is tracked until `closeRawServers()` (for afterEach)
 * ends them all: the clients, then the servers.
 */
import { createDevCertificate, type DevCertificate } from '../../../certs/dev-cert.js';
import type { NodeWebTransport } from '../../../server/h3/index.js';
import { createGameServer, mintTicket, type GameServer, type GameServerOptions, type ListenInfo } from '../../../server/index.js';
import { RawClient } from '../ws-test-client.js';
import { wtGameClient, type WtGameClient } from '../wt-test-client.js';

export interface RawServerOptions extends Partial<GameServerOptions> {
  ticketSecret: string | Uint8Array;
  /** Listen for WebTransport too (port 0, a fresh dev certificate). */
  wt?: boolean;
}

export interface RawServer {
  server: GameServer;
  info: ListenInfo;
  /** The WebSocket endpoint. */
  wsUrl: string;
  /** The WebTransport certificate (with `wt`), else null. */
  cert: DevCertificate | null;
  /** A raw client over a real WebSocket (`localAddress`: any 127.x.y.z; `origin`: the Origin header). */
  connect(options?: { localAddress?: string; origin?: string }): Promise<RawClient>;
  /** A raw game client over real WebTransport, pinned to `cert` (needs `wt`). */
  wt(): Promise<WtGameClient>;
  /** A ticket signed with the server's secret. */
  ticket(playerId: string, room?: string, name?: string): string;
  /** The /metrics text from the public port (needs `metrics: { public: true }`). */
  metrics(): Promise<string>;
}

/** Opened since the last closeRawServers(). */
let servers: GameServer[] = [];
let wsClients: RawClient[] = [];
let transports: NodeWebTransport[] = [];

/** Tracks a server a test built itself (one it never listens with, say) for closeRawServers(). */
export function trackServer(server: GameServer): GameServer {
  servers.push(server);
  return server;
}

/** Starts a server on loopback port 0 (`options` on top) and listens; tracked. */
export async function startRawServer(options: RawServerOptions): Promise<RawServer> {
  const { wt, ...over } = options;
  const cert = wt ? createDevCertificate() : null;
  const server = trackServer(createGameServer({
    httpPort: 0,
    ...(cert ? { webTransport: { port: 0, certPem: cert.certPem, keyPem: cert.keyPem } } : {}),
    ...over,
  }));
  const info = await server.listen();
  const wsUrl = `${info.httpUrl.replace('http', 'ws')}/ws`;
  return {
    server, info, wsUrl, cert,
    async connect(o = {}) {
      const c = await RawClient.connect(wsUrl, o);
      wsClients.push(c);
      return c;
    },
    wt: () => wtGameClient(info.webTransportUrl!, cert!.sha256, transports),
    ticket: (playerId, room = 'arena', name = playerId) => mintTicket(options.ticketSecret, { playerId, name, room }),
    metrics: async () => (await fetch(`${info.httpUrl}/metrics`)).text(),
  };
}

/** Ends every client, then closes every server, opened since the last call (for afterEach). */
export async function closeRawServers(): Promise<void> {
  const [cs, ts, ss] = [wsClients, transports, servers];
  wsClients = [];
  transports = [];
  servers = [];
  for (const c of cs) c.terminate();
  for (const t of ts) {
    try { t.close(); } catch { /* already closed */ }
  }
  // close() is idempotent: a server a test closed itself is fine here.
  for (const s of ss) await s.close();
}
