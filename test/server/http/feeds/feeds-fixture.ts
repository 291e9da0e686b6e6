/**
 * A real game server on loopback port 0 for the feed tests (fastify, real sockets), players over
 * a real WebSocket, and helpers to post chat and read the refusal counters.
 */
import { afterEach } from 'vitest';
import { InProcessChatFanout } from '../../../../server/chat/fanout.js';
import { systemScheduler } from '../../../../server/clock.js';
import { createGameServer, mintTicket, type GameServer, type GameServerOptions } from '../../../../server/index.js';
import { InProcessRoomManager } from '../../../../server/rooms/room-manager.js';
import { standardScene } from '../../../../server/rooms/standard-scene.js';
import { SseConnection, type SseConnectOptions } from '../../../../tools/lib/sse-client.js';
import { RawClient } from '../../ws-test-client.js';
import { gameServerInternals } from '../../../../server/internals.js';

const secret = 'feeds-test-secret-0123456789';

export interface FeedsFixture {
  server: GameServer;
  url: string;
  /** A player joined over WebSocket (welcome received). */
  player(playerId: string, room?: string): Promise<RawClient>;
  /** Posts `n` server lines in `room` (not rate limited), returns their ids. */
  announce(room: string, n: number, text?: (i: number) => string): number[];
  sse(path: string, options?: SseConnectOptions): Promise<SseConnection>;
  json(path: string, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  /** tickwire_refusals_total{layer="http",reason}. */
  refusals(reason: string): Promise<number>;
  metric(line: RegExp): Promise<number>;
}

/** Starts fresh servers per test and closes them (and every client) after it. */
export function useFeedsServer() {
  const servers: GameServer[] = [];
  const closers: Array<() => void> = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) c();
    for (const s of servers.splice(0)) await s.close();
  });

  return async function start(extra: Partial<GameServerOptions> & { emptyRoomLingerMs?: number } = {}): Promise<FeedsFixture> {
    const { emptyRoomLingerMs, ...opts } = extra;
    const fanout = new InProcessChatFanout();
    const roomManager = emptyRoomLingerMs === undefined ? undefined : new InProcessRoomManager({
      scheduler: systemScheduler, fanout, defaultDefinition: standardScene, emptyRoomLingerMs,
    });
    const server = createGameServer({
      ticketSecret: secret, httpPort: 0, chatFanout: fanout, ...(roomManager ? { roomManager } : {}), ...opts,
    });
    servers.push(server);
    const info = await server.listen();
    const url = info.httpUrl;
    const fx: FeedsFixture = {
      server,
      url,
      async player(playerId, room = 'arena') {
        const c = await RawClient.connect(`${url.replace('http', 'ws')}/ws`);
        closers.push(() => c.terminate());
        await c.welcome(mintTicket(secret, { playerId, name: playerId, room }));
        return c;
      },
      announce(room, n, text = (i) => `line ${i}`) {
        const r = gameServerInternals(server).rooms.get(room);
        if (!r) throw new Error(`room ${room} is not open`);
        const ids: number[] = [];
        for (let i = 0; i < n; i++) ids.push(r.chat.announce(text(i), Date.now())!.id);
        return ids;
      },
      async sse(path, options) {
        const c = new SseConnection(`${url}${path}`, options);
        closers.push(() => c.close());
        await c.opened;
        return c;
      },
      async json(path, headers = {}) {
        const res = await fetch(`${url}${path}`, { headers });
        const text = await res.text();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        return { status: res.status, body, headers: res.headers };
      },
      async refusals(reason) {
        return server.metrics.refusals().find((r) => r.layer === 'http' && r.reason === reason)?.count ?? 0;
      },
      async metric(line) {
        const text = await (await fetch(`${url}/metrics`)).text();
        const m = line.exec(text);
        return m ? Number(m[1]) : 0;
      },
    };
    return fx;
  };
}

/** Chat ids of the `chat` events received. */
export function chatIds(c: SseConnection): number[] {
  return c.named('chat').map((e) => (JSON.parse(e.data) as { id: number }).id);
}

/** 1..n */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}
