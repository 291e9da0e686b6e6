/**
 * The read-only feeds on a cluster (docs/cluster.md "Read-only feeds on a cluster"): real game
 * servers in cluster mode on a real redis-server, real GameClients, the feeds read over real
 * HTTP. Any node lists every node's rooms, serves any room's chat and the status of every node;
 * the directory costs one Redis round trip per poll period per node, whoever reads; a Redis that
 * does not answer gives 503 with Retry-After, counted.
 */
import { expect, it } from 'vitest';
import type { GameServer } from '../../../server/index.js';
import { SseConnection } from '../../../tools/lib/sse-client.js';
import { FAST_CLUSTER, useGameCluster } from './fixture.js';
import { describeWithRedis, until } from './redis-server.js';

/** The feeds' directory poll in these tests (the default is the 1 s node heartbeat). */
const POLL_MS = 250;

interface Room { id: string; players: number; spectators: number; node: string | null }

describeWithRedis('read-only feeds across a cluster', () => {
  const fx = useGameCluster({
    webTransport: false,
    cluster: { ...FAST_CLUSTER, redis: { commandTimeoutMs: 300, probeIntervalMs: 100, reconnectMaxMs: 200 } },
    server: { feeds: { pollMs: POLL_MS } },
  });
  const streams: SseConnection[] = [];
  const sse = async (server: GameServer, path: string, lastEventId?: string) => {
    const c = new SseConnection(`${fx.baseOf(server)}${path}`, lastEventId === undefined ? {} : { lastEventId });
    streams.push(c);
    await c.opened;
    return c;
  };
  const json = async (server: GameServer, path: string) => {
    // Bounded: an answer that never comes fails the test instead of hanging it.
    const res = await fetch(`${fx.baseOf(server)}${path}`, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, headers: res.headers, body: await res.json() as any };
  };
  const refusals = (server: GameServer, reason: string) =>
    server.metrics.refusals().find((r) => r.layer === 'http' && r.reason === reason)?.count ?? 0;

  /** Opens `room` on `owner` (the other nodes draining meanwhile, so placement cannot pick them). */
  async function openOn(owner: GameServer, room: string, players: string[]): Promise<void> {
    const others = fx.servers.filter((s) => s !== owner);
    for (const s of others) await s.cluster!.node.setDraining(true);
    await until('the owner knows the others drain', () => owner.cluster!.node.registry.nodes().filter((n) => n.draining).length === others.length);
    try {
      const welcomes = await Promise.all(players.map((p) => fx.client(owner, p, room).connect()));
      expect(new Set(welcomes.map((w) => w.nodeId))).toEqual(new Set([owner.cluster!.nodeId]));
    } finally {
      for (const s of others) await s.cluster!.node.setDraining(false);
    }
  }

  const closeStreams = () => { for (const c of streams.splice(0)) c.close(); };

  it('any node lists every node\'s rooms with live counts, streams the changes, and /api/status (and its alias /api/cluster) shows every node', async () => {
    try {
      const [one, two] = await fx.startCluster(2);
      await openOn(one, 'alpha', ['a1', 'a2']);
      await openOn(two, 'beta', ['b1']);
      await fx.client(one, 'watcher', 'alpha', 'websocket', { spectator: true }).connect();

      for (const server of [one, two]) {
        await until('the lobby lists both rooms with their counts', async () => {
          const { status, body } = await json(server, '/api/rooms');
          const rooms = body.rooms as Room[];
          return status === 200 && rooms.length === 2
            && rooms[0].id === 'alpha' && rooms[0].players === 2 && rooms[0].spectators === 1 && rooms[0].node === 'node-1'
            && rooms[1].id === 'beta' && rooms[1].players === 1 && rooms[1].node === 'node-2';
        });
      }

      // The lobby stream on node-2: the full list, then a room opened on node-1 as a change.
      const lobby = await sse(two, '/api/rooms/stream');
      expect(lobby.status).toBe(200);
      await lobby.until(() => lobby.named('rooms').length === 1);
      expect((JSON.parse(lobby.named('rooms')[0].data).rooms as Room[]).map((r) => r.id)).toEqual(['alpha', 'beta']);
      await openOn(one, 'gamma', ['g1', 'g2', 'g3']);
      await lobby.until(() => lobby.named('changes').some((e) => (JSON.parse(e.data).upsert as Room[]).some((r) => r.id === 'gamma' && r.players === 3 && r.node === 'node-1')), 10_000, 'gamma in a change event');

      // The status: every node with its rooms, sessions and addresses, answered by node-2.
      await until('the status has every room and session', async () => {
        const { body } = await json(two, '/api/status');
        return body.rooms === 3 && body.sessions === 7 && body.spectators === 1;
      });
      const { body: status } = await json(two, '/api/status');
      expect(status.node).toBe('node-2');
      expect(status.nodes.map((n: { id: string }) => n.id)).toEqual(['node-1', 'node-2']);
      const [n1, n2] = status.nodes;
      expect(n1.roomIds.sort()).toEqual(['alpha', 'gamma']);
      expect(n2.roomIds).toEqual(['beta']);
      expect(n1.spectators).toBe(1);
      expect(n1.httpUrl).toBe(fx.baseOf(one));
      expect(n2.feeds).toBeGreaterThanOrEqual(1); // node-2's own lobby stream
      // /api/cluster is the same answer (kept as an alias).
      const { body: cluster } = await json(one, '/api/cluster');
      expect(cluster.nodes.map((n: { id: string; roomIds: string[] }) => [n.id, n.roomIds.sort()])).toEqual([['node-1', ['alpha', 'gamma']], ['node-2', ['beta']]]);
      expect(cluster.node).toBe('node-1');
      expect(cluster.rooms).toBe(3);

      // A status stream on node-1 shows the same.
      const statusStream = await sse(one, '/api/status/stream');
      await statusStream.until(() => statusStream.named('status').length >= 1);
      expect(JSON.parse(statusStream.named('status')[0].data).nodes).toHaveLength(2);
    } finally {
      closeStreams();
    }
  }, 60_000);

  it('a room\'s chat is readable on another node: SSE with Last-Event-ID and long polls, each line once, in order', async () => {
    try {
      const [one, two] = await fx.startCluster(2);
      await openOn(one, 'talk', ['p1', 'p2']);
      const [p1, p2] = fx.clients;
      const say = async (who: typeof p1, text: string) => {
        expect(who.sendChat(text)).toBe(true);
        await until(`"${text}" stored`, async () => (await json(two, '/api/rooms/talk/chat?wait=0')).body.lines?.some((l: { text: string }) => l.text === text));
      };
      await say(p1, 'one');
      await say(p2, 'two');

      // An SSE reader on node-2 from the start: the two stored lines, then live ones.
      const reader = await sse(two, '/api/rooms/talk/chat/stream?after=0');
      expect(reader.status).toBe(200);
      await reader.until(() => reader.named('ready').length === 1);
      const texts = () => reader.named('chat').map((e) => JSON.parse(e.data).text as string);
      const ids = () => reader.named('chat').map((e) => Number(e.lastEventId));
      expect(texts()).toEqual(['one', 'two']);
      p2.sendChat('three');
      p1.sendChat('four');
      await reader.until(() => texts().length === 4, 10_000, 'the live lines');
      expect(texts()).toEqual(['one', 'two', 'three', 'four']);
      expect(ids()).toEqual([1, 2, 3, 4]);

      // A reconnect naming id 2 gets exactly 3 and 4, then live lines.
      const again = await sse(two, '/api/rooms/talk/chat/stream', '2');
      await again.until(() => again.named('ready').length === 1);
      expect(again.named('chat').map((e) => Number(e.lastEventId))).toEqual([3, 4]);

      // Long polls on node-2: the lines after an id at once; a waiting one answered by the next line.
      const poll = await json(two, '/api/rooms/talk/chat?after=1&wait=0');
      expect(poll.body.lines.map((l: { id: number }) => l.id)).toEqual([2, 3, 4]);
      expect(poll.body.lastId).toBe(4);
      const waiting = json(two, '/api/rooms/talk/chat?after=4&wait=10');
      await new Promise((r) => setTimeout(r, 200));
      p2.sendChat('five');
      const answered = await waiting;
      expect(answered.body.lines.map((l: { id: number; text: string }) => [l.id, l.text])).toEqual([[5, 'five']]);
      await again.until(() => again.named('chat').length === 3);
      await reader.until(() => texts().length === 5);
      expect(ids()).toEqual([1, 2, 3, 4, 5]);
      expect(again.named('chat').map((e) => Number(e.lastEventId))).toEqual([3, 4, 5]);

      // Unknown rooms are 404 on any node.
      expect((await json(two, '/api/rooms/nowhere/chat?wait=0')).status).toBe(404);
    } finally {
      closeStreams();
    }
  }, 60_000);

  it('the directory is read once per poll period per node, however many streams and requests read it', async () => {
    try {
      const [one, two] = await fx.startCluster(2);
      await openOn(one, 'busy', ['x1']);
      const stats = two.cluster!.feeds.stats;
      const readsBefore = stats.directoryReads;
      const started = Date.now();
      for (let i = 0; i < 20; i++) await sse(two, '/api/rooms/stream');
      for (let i = 0; i < 10; i++) await sse(two, '/api/status/stream');
      // And JSON requests on top, for about two seconds.
      while (Date.now() - started < 2_000) {
        await Promise.all([json(two, '/api/rooms'), json(two, '/api/status'), json(two, '/api/rooms/busy/chat?wait=0')]);
      }
      const elapsed = Date.now() - started;
      const reads = stats.directoryReads - readsBefore;
      // One read per period (plus the one in flight at either end), not one per reader or request.
      expect(reads).toBeGreaterThan(0);
      expect(reads).toBeLessThanOrEqual(Math.ceil(elapsed / POLL_MS) + 2);
      expect(streams.every((s) => s.status === 200)).toBe(true);
    } finally {
      closeStreams();
    }
  }, 60_000);

  it('Redis not answering: every feed answers 503 with Retry-After, counted, within the command timeout; back to 200 after', async () => {
    try {
      const [one, two] = await fx.startCluster(2);
      await openOn(one, 'quiet', ['q1']);
      await until('node-2 lists the room', async () => (await json(two, '/api/rooms')).body.rooms?.length === 1);
      const before = refusals(two, 'feed_unavailable');
      fx.redis.server.pause();
      await new Promise((r) => setTimeout(r, POLL_MS + 50)); // the cached directory is now too old
      const answers = [
        await json(two, '/api/rooms'),
        await json(two, '/api/status'),
        await json(two, '/api/rooms/quiet/chat?after=0&wait=0'),
      ];
      for (const a of answers) {
        expect(a.status).toBe(503);
        expect(Number(a.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(a.body.reason).toBe('feed_unavailable');
      }
      for (const path of ['/api/rooms/stream', '/api/status/stream', '/api/rooms/quiet/chat/stream']) {
        const s = await sse(two, path);
        expect(s.status, path).toBe(503);
        expect(s.headers['retry-after']).toBeDefined();
      }
      expect(refusals(two, 'feed_unavailable') - before).toBe(6);
      fx.redis.server.resume();
      await until('the feeds answer again', async () => (await json(two, '/api/rooms')).status === 200, 10_000);
      expect((await json(two, '/api/status')).status).toBe(200);
    } finally {
      fx.redis.server.resume();
      closeStreams();
    }
  }, 60_000);
});
