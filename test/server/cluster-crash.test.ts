/**
 * A cluster node dies (SIGKILL, docs/cluster.md "Crash"): the node is a real `npm start`
 * process (server/main.ts, configured through its TICKWIRE_* variables) running three rooms of
 * bots; two in-process nodes survive. Each room comes back on exactly one survivor from its last
 * checkpoint, every bot resumes its seat, and the chat the dead node had accepted is intact.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ChatEvent, WelcomeEvent } from '../../client/net/game-client-types.js';
import type { WebSocketConstructor } from '../../client/net/transport-types.js';
import { ToolChild } from '../../tools/lib/child.js';
import { nodeWebTransportWithOrigin } from '../../tools/bots/node-webtransport.js';
import { useGameCluster } from './cluster/fixture.js';
import { describeWithRedis, until } from './cluster/redis-server.js';

const SECRET = randomBytes(32).toString('hex');
/** The game page's origin: every node allows it (a cluster shares its allowed origins). */
const ORIGIN = 'http://game.test';
const LEASE_MS = 3_000;
const ROOMS = ['crash-a', 'crash-b', 'crash-c'];
const BOTS_PER_ROOM = 3;

class OriginWebSocket extends WebSocket {
  constructor(url: string) {
    super(url, { origin: ORIGIN });
  }
}

describeWithRedis('a cluster node killed with SIGKILL', () => {
  const fx = useGameCluster({
    secret: SECRET,
    server: { allowedOrigins: [ORIGIN] },
    cluster: { lease: { ttlMs: LEASE_MS }, heartbeatMs: 200, nodeTtlMs: 1_500, checkpointIntervalMs: 500 },
  });
  let victim: ToolChild | null = null;
  const survivors = fx.servers;
  const bots = fx.clients;

  afterAll(async () => {
    await victim?.stop();
  });

  it('every room gets exactly one new owner from its checkpoint, every bot is back on its seat, the chat is intact', async () => {
    for (const nodeId of ['survivor-1', 'survivor-2']) {
      const s = await fx.startNode(nodeId);
      // Until the victim has its rooms, the survivors take none: connect-info places them there.
      await s.cluster!.node.setDraining(true);
    }
    victim = ToolChild.script('server/main.ts', [], {
      label: 'victim',
      env: {
        ...process.env,
        TICKWIRE_REDIS_URL: fx.redis.url, TICKWIRE_NODE_ID: 'victim', TICKWIRE_TICKET_SECRET: SECRET,
        TICKWIRE_HTTP_PORT: '0', TICKWIRE_WT_PORT: '0', TICKWIRE_BUILD_CLIENT: '0',
        TICKWIRE_ORIGINS: ORIGIN, TICKWIRE_LEASE_MS: String(LEASE_MS),
      },
    });
    await victim.waitFor('listening', 30_000);
    await until('everyone sees the victim', () => survivors.every((s) => s.cluster!.node.registry.nodes().some((n) => n.nodeId === 'victim')), 10_000);

    // The bots enter through a survivor (an entry point that outlives the victim).
    const heard: ChatEvent[][] = [];
    const welcomes: WelcomeEvent[][] = [];
    const joins: Promise<WelcomeEvent>[] = [];
    ROOMS.forEach((room, r) => {
      for (let k = 0; k < BOTS_PER_ROOM; k++) {
        const i = bots.length;
        const playerId = `${room}-bot${k}`;
        const bot = fx.client(survivors[0], playerId, room, (r + k) % 2 === 0 ? 'websocket' : 'webtransport', {
          WebSocket: OriginWebSocket as unknown as WebSocketConstructor,
          WebTransport: nodeWebTransportWithOrigin(ORIGIN),
          reconnect: { baseMs: 100, maxMs: 1_000, maxAttempts: 60 },
        });
        heard.push([]);
        welcomes.push([]);
        bot.on('chat', (m) => heard[i].push(m));
        bot.on('welcome', (w) => welcomes[i].push(w));
        joins.push(bot.connect());
      }
    });
    const first = await Promise.all(joins);
    expect(new Set(first.map((w) => w.nodeId))).toEqual(new Set(['victim']));
    for (const s of survivors) await s.cluster!.node.setDraining(false);

    let line = 0;
    const talk = setInterval(() => {
      bots.forEach((b, i) => { if (b.connected) b.sendChat(`${first[i].playerId}#${line}`); });
      line++;
    }, 1_100);
    try {
      // A checkpoint (every 3 s on the victim) holds every seat; chat flows in every room.
      await until('chat in every room, and a checkpoint with every seat', () => line >= 4 && heard.every((h) => h.length >= BOTS_PER_ROOM), 20_000);
      const seenBeforeKill = heard.map((h) => h.map((m) => `${m.id}:${m.text}`));
      victim.killNow(); // SIGKILL: no drain, no final checkpoint, no release
      await victim.waitExit(5_000);

      await until('every bot is back on a survivor', () => bots.every((b, i) => b.connected && welcomes[i].length === 2), 60_000);
      for (const room of ROOMS) {
        const owners = survivors.filter((s) => s.cluster!.rooms.runsRoom(room));
        expect(owners).toHaveLength(1);
      }
      bots.forEach((_, i) => {
        const back = welcomes[i][1];
        expect(back.resumed).toBe(true);
        expect(back.entityId).toBe(first[i].entityId);
        expect(back.nodeId).not.toBe('victim');
        expect(survivors.filter((s) => s.cluster!.rooms.runsRoom(back.roomId)).map((s) => s.cluster!.nodeId)).toEqual([back.nodeId]);
      });
      // Two more rounds of chat on the new owners, then compare.
      const until2 = line + 2;
      await until('chat on the new owners', () => line >= until2, 10_000);
      clearInterval(talk);
      await new Promise((r) => setTimeout(r, 500));
      ROOMS.forEach((room, r) => {
        const members = heard.slice(r * BOTS_PER_ROOM, (r + 1) * BOTS_PER_ROOM);
        for (const [k, h] of members.entries()) {
          const ids = h.map((m) => m.id);
          expect(ids, `${room} bot ${k}: contiguous, none repeated`).toEqual(ids.map((_, j) => ids[0] + j));
          // Everything anyone in the room saw before the kill, everyone has (same id, same text).
          const mine = new Set(h.map((m) => `${m.id}:${m.text}`));
          for (const seen of seenBeforeKill.slice(r * BOTS_PER_ROOM, (r + 1) * BOTS_PER_ROOM).flat()) {
            if (Number(seen.split(':')[0]) >= ids[0]) expect(mine.has(seen), `${room} bot ${k} has ${seen}`).toBe(true);
          }
        }
        // Chat went on in the room after the crash, with ids continuing the dead node's.
        const lastBefore = Math.max(...seenBeforeKill.slice(r * BOTS_PER_ROOM, (r + 1) * BOTS_PER_ROOM).flat().map((x) => Number(x.split(':')[0])));
        expect(members[0].some((m) => m.id > lastBefore)).toBe(true);
      });
    } catch (error) {
      clearInterval(talk);
      throw new Error(`${(error as Error).message}\nvictim output:\n${victim.recentOutput(30)}`, { cause: error });
    }
  }, 180_000);
});
