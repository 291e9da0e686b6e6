/**
 * End-to-end fixture: a real game server on port 0 and real GameClients (client/net, the code
 * the browser runs) in this process over real sockets.
 */
import { afterEach } from 'vitest';
import WebSocket from 'ws';
import { GameClient } from '../../client/net/game-client.js';
import type { ChatEvent, SnapshotEvent, TransportPreference, WelcomeEvent } from '../../client/net/game-client-types.js';
import type { WebTransportConstructor } from '../../client/net/transport-types.js';
import { createGameServer, mintTicket, type GameServer, type GameServerOptions } from '../../server/index.js';

export const SECRET = 'e2e-secret-0123456789abcdef';

/** What a test hands over for closing: its server and the players it joined. */
export interface GameTeardown {
  server: GameServer | null;
  readonly players: Player[];
}

/**
 * Registers an `afterEach` that closes every player pushed to `players` and then `server`, so a
 * failing test still leaves no sockets or quiche connections behind. Call at module level.
 */
export function closeGameAfterEach(): GameTeardown {
  const t: GameTeardown = { server: null, players: [] };
  afterEach(async () => {
    for (const p of t.players.splice(0)) p.client.close();
    await t.server?.close();
    t.server = null;
  });
  return t;
}

/** `ws` with every instance recorded, so a test can cut one client's socket. */
export function recordingWebSocket() {
  const sockets: WebSocket[] = [];
  class RecordingWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  return { WebSocketClass: RecordingWebSocket, sockets };
}

export interface Player {
  client: GameClient;
  welcome: WelcomeEvent;
  chat: ChatEvent[];
  /** Latest position of every entity seen, by entity id. */
  positions: Map<number, { x: number; y: number }>;
  /** Snapshot events received (bounded to the newest 200). */
  snapshots: SnapshotEvent[];
  sockets: WebSocket[];
}

export async function startServer(extra: Partial<GameServerOptions> = {}): Promise<{ server: GameServer; baseUrl: string }> {
  const server = createGameServer({ ticketSecret: SECRET, httpPort: 0, ...extra });
  const info = await server.listen();
  return { server, baseUrl: info.httpUrl };
}

export async function joinPlayer(baseUrl: string, playerId: string, options: {
  transport?: TransportPreference; WebTransport?: WebTransportConstructor; room?: string;
  /** First reconnect delay; with `random` fixed near 1 the delay is about this (full jitter). */
  reconnectBaseMs?: number;
} = {}): Promise<Player> {
  const { WebSocketClass, sockets } = recordingWebSocket();
  const client = new GameClient({
    baseUrl,
    ticket: () => mintTicket(SECRET, { playerId, name: playerId, room: options.room ?? 'arena' }),
    transport: options.transport ?? 'websocket',
    WebSocket: WebSocketClass as unknown as NonNullable<ConstructorParameters<typeof GameClient>[0]['WebSocket']>,
    WebTransport: options.WebTransport,
    reconnect: { baseMs: options.reconnectBaseMs ?? 50, maxMs: Math.max(200, options.reconnectBaseMs ?? 0) },
    random: options.reconnectBaseMs ? () => 0.99 : undefined,
  });
  const chat: ChatEvent[] = [];
  const positions = new Map<number, { x: number; y: number }>();
  const snapshots: SnapshotEvent[] = [];
  client.on('chat', (c) => chat.push(c));
  client.on('snapshot', (s) => {
    snapshots.push(s);
    if (snapshots.length > 200) snapshots.shift();
    for (const e of s.entities) positions.set(e.id, { x: e.x, y: e.y });
  });
  const welcome = await client.connect();
  return { client, welcome, chat, positions, snapshots, sockets };
}

/** Polls `pred` every 20 ms up to `timeoutMs`. */
export async function waitFor(pred: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
