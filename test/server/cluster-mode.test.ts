/**
 * `createGameServer({ cluster })` end to end (docs/cluster.md): three real game servers in this
 * process on one real redis-server, real GameClients over WebSocket and WebTransport.
 */
import { expect, it } from 'vitest';
import type { GameClient } from '../../client/net/game-client.js';
import type { ChatEvent, WelcomeEvent } from '../../client/net/game-client-types.js';
import type { FetchLike } from '../../client/net/transport-types.js';
import { ErrorCode } from '../../shared/errors.js';
import { seededRandom } from '../../shared/random.js';
import { createGameServer, type GameServer, type RoomContext, type RoomDefinition } from '../../server/index.js';
import { useGameCluster, type ClientTransport } from './cluster/fixture.js';
import { describeWithRedis, until } from './cluster/redis-server.js';

const realFetch = globalThis.fetch.bind(globalThis) as FetchLike;

describeWithRedis('createGameServer({ cluster }) on redis-server', () => {
  const fx = useGameCluster();
  const { servers, clients, serverOf, baseOf } = fx;
  const startCluster = (n: number, rooms?: Record<string, RoomDefinition>) => fx.startCluster(n, rooms ? { server: { rooms } } : {});
  const client = (entry: GameServer, playerId: string, room: string, transport: ClientTransport, fetch = realFetch): GameClient =>
    fx.client(entry, playerId, room, transport, { fetch });

  it('3 nodes, 10 rooms, 30 clients over both transports asking random nodes: all land on the owner', async () => {
    const cluster = await startCluster(3);
    const random = seededRandom(15);
    const joins: Array<{ room: string; welcome: Promise<WelcomeEvent>; transport: string }> = [];
    for (let i = 0; i < 30; i++) {
      const room = `room-${i % 10}`;
      const transport = i % 2 === 0 ? 'websocket' : 'webtransport';
      const entry = cluster[Math.floor(random() * cluster.length)];
      joins.push({ room, transport, welcome: client(entry, `p${i}`, room, transport).connect() });
    }
    const welcomes = await Promise.all(joins.map((j) => j.welcome));
    const ownerOf = new Map<string, string>();
    welcomes.forEach((w, i) => {
      expect(w.roomId).toBe(joins[i].room);
      expect(w.transport).toBe(joins[i].transport);
      expect(w.nodeId).toBeDefined();
      if (!ownerOf.has(w.roomId)) ownerOf.set(w.roomId, w.nodeId!);
      expect(w.nodeId).toBe(ownerOf.get(w.roomId));
    });
    expect(ownerOf.size).toBe(10);
    for (const [room, owner] of ownerOf) {
      // The node named is the only one running the room, and it holds all three players.
      for (const s of cluster) expect(s.cluster!.rooms.runsRoom(room)).toBe(s.cluster!.nodeId === owner);
      expect(serverOf(owner).rooms.get(room)!.playerCount).toBe(3);
    }
    // New rooms spread over the nodes (least loaded first), not all on one.
    expect(new Set(ownerOf.values()).size).toBeGreaterThan(1);
    // Any node's /api/cluster lists every node with its rooms and load.
    await until('the registry has every room', async () => {
      const status = await (await fetch(`${baseOf(cluster[2])}/api/cluster`)).json() as { nodes: Array<{ id: string; roomIds: string[]; sessions: number }>; rooms: number; sessions: number };
      return status.nodes.length === 3 && status.rooms === 10 && status.sessions === 30
        && [...ownerOf].every(([room, owner]) => status.nodes.find((n) => n.id === owner)!.roomIds.includes(room));
    });
  }, 90_000);

  it('a hello at a node that does not own the room gets WRONG_NODE; the client asks connect-info again and lands on the owner', async () => {
    const cluster = await startCluster(3);
    const first = await client(cluster[0], 'alice', 'lobby', 'websocket').connect();
    const owner = serverOf(first.nodeId!);
    const wrong = cluster.find((s) => s !== owner)!;
    // This client's first connect-info loses its ticket on the way: the node then names itself.
    let asked = 0;
    const lossy: FetchLike = (url, init) => {
      const u = new URL(String(url));
      if (u.pathname === '/api/connect-info' && asked++ === 0) u.searchParams.delete('ticket');
      return realFetch(u.toString(), init);
    };
    const codes: number[] = [];
    const bob = client(wrong, 'bob', 'lobby', 'webtransport', lossy);
    bob.on('reconnecting', (e) => codes.push(e.code));
    const welcome = await bob.connect();
    expect(codes).toEqual([ErrorCode.WRONG_NODE]);
    expect(welcome.nodeId).toBe(owner.cluster!.nodeId);
    expect(welcome.players.map((p) => p.playerId).sort()).toEqual(['alice', 'bob']);
    expect(wrong.rooms.get('lobby')).toBeUndefined();
    // The two see each other's chat: one room, on one node.
    const heard: ChatEvent[] = [];
    clients[0].on('chat', (m) => heard.push(m));
    expect(bob.sendChat('hello from bob')).toBe(true);
    await until('alice hears bob', () => heard.some((m) => m.text === 'hello from bob'));
  }, 90_000);

  it('drain hands the room over: players chatting all resume on the new owner, same entity and position, chat ids contiguous, none lost or repeated', async () => {
    // The definition's own state (a tick counter kept outside the players) travels through its
    // serialize/restore hooks.
    const counts = new WeakMap<RoomContext, number>();
    const serialized: number[] = [];
    const restored: unknown[] = [];
    const arena: RoomDefinition = {
      onTick: (ctx) => { counts.set(ctx, (counts.get(ctx) ?? 0) + 1); },
      serialize: (ctx) => { serialized.push(counts.get(ctx) ?? 0); return { count: counts.get(ctx) ?? 0 }; },
      restore: (ctx, state) => {
        // The old owner's final checkpoint is the newest serialize before this restore.
        restored.push({ state, lastSerialized: serialized.at(-1) });
        counts.set(ctx, (state as { count: number }).count);
      },
    };
    const cluster = await startCluster(2, { arena });
    const players = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'];
    const cs = players.map((p, i) => client(cluster[i % 2], p, 'arena', i % 2 === 0 ? 'websocket' : 'webtransport'));
    const first = await Promise.all(cs.map((c) => c.connect()));
    const owner = serverOf(first[0].nodeId!);
    const next = cluster.find((s) => s !== owner)!;
    expect(new Set(first.map((w) => w.nodeId))).toEqual(new Set([owner.cluster!.nodeId]));
    const room = owner.rooms.get('arena')!;
    // Nobody moves (no input), so a position carried over is exactly the one the old node had.
    const before = new Map(players.map((p) => [p, { ...room.getPlayer(p)!.entity }]));

    const heard = cs.map(() => [] as ChatEvent[]);
    cs.forEach((c, i) => c.on('chat', (m) => heard[i].push(m)));
    const sent = new Set<string>();
    const rejected = new Set<string>();
    /** Lines sent once the sender was on the new owner. */
    const sentAfter = new Set<string>();
    const pending = cs.map(() => [] as string[]);
    let paused = cs.map(() => false);
    cs.forEach((c, i) => {
      // Lines in flight when the room halts come back rejected (before the drain notice). A
      // rejection names no line: each client has at most one line unanswered (see the talk
      // loop), so it is that one. (With more, an accepted line whose echo comes back through
      // Redis later than the next line's rejection, as on a loaded machine, was taken for the
      // rejected one.)
      c.on('chatRejected', () => { const t = pending[i].shift(); if (t) rejected.add(t); });
      c.on('chat', (m) => { const k = pending[i].indexOf(m.text); if (k >= 0) pending[i].splice(k, 1); });
      c.on('drain', () => { paused[i] = true; });
      c.on('welcome', () => { paused[i] = false; });
    });
    let line = 0;
    const talk = setInterval(() => {
      cs.forEach((c, i) => {
        if (paused[i] || !c.connected || pending[i].length > 0) return;
        const text = `${players[i]}-${line}`;
        if (!c.sendChat(text)) return;
        sent.add(text);
        pending[i].push(text);
        if (c.welcome?.nodeId === next.cluster!.nodeId) sentAfter.add(text);
      });
      line++;
    }, 1_100);
    try {
      await until('some chat before the drain', () => heard.every((h) => h.length >= 6), 15_000);
      const resumed: WelcomeEvent[] = [];
      cs.forEach((c) => c.on('welcome', (w) => resumed.push(w)));
      await owner.drain({ deadlineMs: 8_000, reconnectJitterMs: 500 });
      await until('every client resumed on the new owner', () => cs.every((c) => c.connected && c.welcome?.nodeId === next.cluster!.nodeId), 30_000);
      expect(resumed).toHaveLength(players.length);
      for (const w of resumed) {
        expect(w.resumed).toBe(true);
        const was = first.find((f) => f.playerId === w.playerId)!;
        expect(w.entityId).toBe(was.entityId);
      }
      // The new owner restored the state of the old one's final checkpoint (its last serialize).
      expect(restored).toHaveLength(1);
      const { state, lastSerialized } = restored[0] as { state: { count: number }; lastSerialized: number };
      expect(lastSerialized).toBeGreaterThan(0);
      expect(state).toEqual({ count: lastSerialized });
      const moved = next.rooms.get('arena')!;
      for (const p of players) {
        const e = moved.getPlayer(p)!.entity;
        expect({ x: e.x, y: e.y }).toEqual({ x: before.get(p)!.x, y: before.get(p)!.y });
      }
    } catch (error) {
      clearInterval(talk);
      throw error;
    }
    // Some more lines on the new owner (each player's next line, once its last one is answered),
    // then stop and let everything arrive.
    await until('a line from every player sent on the new owner', () => players.every((p) => [...sentAfter].some((t) => t.startsWith(`${p}-`))), 15_000);
    clearInterval(talk);
    paused = cs.map(() => true);
    const expected = [...sent].filter((t) => !rejected.has(t));
    await until('every accepted line reached everyone', () => heard.every((h) => expected.every((t) => h.some((m) => m.text === t))), 10_000);
    for (const h of heard) {
      const ids = h.map((m) => m.id);
      // Contiguous from the first line this client saw: none lost, none repeated.
      expect(ids).toEqual(ids.map((_, k) => ids[0] + k));
      const texts = h.map((m) => m.text);
      expect(new Set(texts).size).toBe(texts.length);
      expect(texts.filter((t) => rejected.has(t))).toEqual([]);
    }
    expect(expected.length).toBeGreaterThanOrEqual(players.length * 2);
    expect(sentAfter.size).toBeGreaterThanOrEqual(players.length);
    expect([...sentAfter].filter((t) => rejected.has(t))).toEqual([]);
  }, 120_000);

  it('a single server without cluster answers connect-info as before (no Redis loaded)', async () => {
    const server = createGameServer({ ticketSecret: fx.secret, httpPort: 0 });
    servers.push(server);
    const info = await server.listen();
    const res = await fetch(`${info.httpUrl}/api/connect-info?ticket=x`);
    expect(await res.json()).toEqual(server.connectInfo());
    expect(server.cluster).toBeNull();
    expect((await fetch(`${info.httpUrl}/api/cluster`)).status).toBe(404);
  });
});
