/**
 * The real game server (`createGameServer`) on 127.0.0.1, HTTP/WebSocket and HTTP/3
 * WebTransport both on port 0, dev tickets on, with the generated dev certificate; and
 * GameClients for it with dev tickets. Every server and client opened here is tracked until
 * `closeTestServers()` (for afterEach) closes them all: the clients, then the servers.
 */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { GameClient } from '../../../../client/net/game-client.js';
import type { GameClientOptions, WelcomeEvent } from '../../../../client/net/game-client-types.js';
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
/** Opened since the last closeTestServers(). */
let servers: TestServer[] = [];
let clients: GameClient[] = [];

/** Starts a server (`over` on top of the defaults above), tracked for closeTestServers(). */
export async function startTestServer(over: Partial<GameServerOptions> = {}): Promise<TestServer> {
  cert ??= createDevCertificate();
  const server = createGameServer({
    ticketSecret: randomBytes(32),
    httpPort: 0,
    devTickets: true,
    webTransport: { port: 0, certPem: cert.certPem, keyPem: cert.keyPem },
    ...over,
  });
  // Tracked before listen() so a server that fails to listen is still closed.
  const t: TestServer = { server, baseUrl: '', webTransport: false, close: () => server.close() };
  servers.push(t);
  const info = await server.listen();
  t.baseUrl = info.httpUrl;
  t.webTransport = info.webTransportUrl !== null;
  return t;
}

export interface DevClientOptions extends Partial<GameClientOptions> {
  /** The room of the dev ticket (the endpoint's default room when absent). */
  room?: string;
  /** A spectator's ticket (watches the room without an entity). */
  spectate?: boolean;
}

/**
 * A GameClient for `server` with a dev ticket for `name` (the real `ws` WebSocket and Node
 * WebTransport, WebSocket by default), `over` on top; tracked for closeTestServers().
 */
export function devGameClient(server: TestServer, name: string, over: DevClientOptions = {}): GameClient {
  const { room, spectate, ...options } = over;
  const baseUrl = server.baseUrl;
  const c = new GameClient({
    baseUrl,
    ticket: () => mintDevTicket(globalThis.fetch.bind(globalThis), baseUrl, name, room, spectate === undefined ? {} : { spectate }),
    transport: 'websocket',
    WebSocket,
    WebTransport: NodeWebTransportConstructor,
    ...options,
  });
  clients.push(c);
  return c;
}

/** `p`, bounded: rejects when it has not settled within `timeoutMs`, saying `what` it waited for. */
export async function within<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** `c.connect()`, bounded: rejects when no welcome came within `timeoutMs`. */
export function welcomed(c: GameClient, timeoutMs = 15_000): Promise<WelcomeEvent> {
  return within(c.connect(), timeoutMs, 'welcome');
}

/** Closes every client, then every server, opened since the last call (for afterEach). */
export async function closeTestServers(): Promise<void> {
  const [cs, ss] = [clients, servers];
  clients = [];
  servers = [];
  for (const c of cs) c.close();
  // close() is idempotent: a server a test closed itself is fine here.
  for (const s of ss) await s.close();
}
