/**
 * Spectators through a drain handoff (docs/cluster.md "Drain", docs/server.md "Spectators"):
 * real game servers in cluster mode on a real redis-server, real GameClients. A spectator on the
 * draining node is carried over like a player: its seat is in the handoff checkpoint (with its
 * resume-token hash), the drain notice names the new owner, and it resumes there as a spectator
 * (same session, no entity, unseen by the players), with its chat continuing exactly once. A
 * chat reader (SSE) on the other node follows the room through the move without being closed.
 */
import { expect, it } from 'vitest';
import type { ChatEvent, WelcomeEvent } from '../../client/net/game-client-types.js';
import { mintTicket } from '../../server/index.js';
import { SseConnection } from '../../tools/lib/sse-client.js';
import { setDrainingSeenBy, useGameCluster } from './cluster/fixture.js';
import { describeWithRedis, until } from './cluster/redis-server.js';

describeWithRedis('spectators on a cluster', () => {
  const fx = useGameCluster();

  it('a spectator on node A keeps watching after A drains and the room moves to B: resumed as a spectator, chat once and in order', async () => {
    const [a, b] = await fx.startCluster(2);
    await setDrainingSeenBy(b, true, a); // the room starts on A
    const players = [fx.client(a, 'ann', 'stage'), fx.client(a, 'ben', 'stage', 'webtransport')];
    await Promise.all(players.map((p) => p.connect()));
    // A single-use ticket (as the demo's watch page mints): after its first session it can only
    // resume, so a spectator not carried over could not come back at all.
    const spectator = fx.client(a, 'viewer', 'stage', 'websocket', {
      ticket: mintTicket(fx.secret, { playerId: 'viewer', name: 'viewer', room: 'stage', spectator: true, once: true }),
    });
    const welcomes: WelcomeEvent[] = [];
    const heard: ChatEvent[] = [];
    let snapshotsOnB = 0;
    spectator.on('welcome', (w) => welcomes.push(w));
    spectator.on('chat', (m) => heard.push(m));
    spectator.on('snapshot', () => { if (spectator.welcome?.nodeId === b.cluster!.nodeId) snapshotsOnB++; });
    const first = await spectator.connect();
    expect(first.nodeId).toBe(a.cluster!.nodeId);
    expect(first.entityId).toBe(0);
    expect(a.rooms.get('stage')!.spectatorCount).toBe(1);
    await setDrainingSeenBy(b, false, a); // B is open again, as A's drain target

    // A chat reader on B, following the room while it still runs on A.
    const reader = new SseConnection(`${fx.baseOf(b)}/api/rooms/stage/chat/stream?after=0`);
    try {
      await reader.opened;
      await until('B lists the room', async () => (await fetch(`${fx.baseOf(b)}/api/rooms`)).status === 200
        && ((await (await fetch(`${fx.baseOf(b)}/api/rooms`)).json()) as { rooms: Array<{ id: string }> }).rooms.some((r) => r.id === 'stage'));
      const before = ['one', 'two', 'three'];
      for (const [i, text] of before.entries()) expect(players[i % 2].sendChat(text)).toBe(true);
      await until('the spectator hears the first lines', () => heard.length === before.length);

      await a.drain({ deadlineMs: 8_000, reconnectJitterMs: 300 });
      await until('everyone is on B', () => [...players, spectator].every((c) => c.connected && c.welcome?.nodeId === b.cluster!.nodeId), 30_000);
      expect(welcomes).toHaveLength(2);
      const back = welcomes[1];
      // The same spectator session, carried over: resumed, still without an entity.
      expect(back.resumed).toBe(true);
      expect(back.playerId).toBe('viewer');
      expect(back.entityId).toBe(0);
      const moved = b.rooms.get('stage')!;
      expect(moved.spectatorCount).toBe(1);
      expect(moved.playerCount).toBe(2);
      // The players still do not see the spectator.
      for (const p of players) expect(p.welcome!.players.map((x) => x.playerId).sort()).toEqual(['ann', 'ben']);
      await until('snapshots from B', () => snapshotsOnB >= 5, 10_000);

      const after = ['four', 'five'];
      for (const [i, text] of after.entries()) expect(players[i % 2].sendChat(text)).toBe(true);
      await until('the spectator hears the lines sent on B', () => heard.length === before.length + after.length, 10_000);
      // The two players' lines race each other (two transports): each once, ids in order.
      expect(heard.map((m) => m.text).sort()).toEqual([...before, ...after].sort());
      expect(heard.map((m) => m.id)).toEqual([1, 2, 3, 4, 5]);
      // Still a spectator on B: its client does not offer chat.
      expect(spectator.sendChat('from the stands')).toBe(false);

      // The reader on B followed the move: every line once, never told the room closed.
      await reader.until(() => reader.named('chat').length === 5, 10_000, 'five lines on the reader');
      expect(reader.named('chat').map((e) => Number(e.lastEventId))).toEqual([1, 2, 3, 4, 5]);
      expect(reader.named('closed')).toEqual([]);
      expect(reader.named('history-lost')).toEqual([]);
    } finally {
      reader.close();
    }
  }, 90_000);
});
