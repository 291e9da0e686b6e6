import { describe, expect, it } from 'vitest';
import { closeGameAfterEach, joinPlayer, startServer, waitFor } from './game-fixture.js';

const game = closeGameAfterEach();

describe('end to end over WebSocket (GameClient <-> createGameServer)', () => {
  it('two players see each other move, chat arrives in order exactly once, a cut player resumes and gets missed chat', async () => {
    const started = await startServer();
    const server = started.server;
    game.server = server;
    const a = await joinPlayer(started.baseUrl, 'alice', { reconnectBaseMs: 400 });
    const b = await joinPlayer(started.baseUrl, 'bob');
    game.players.push(a, b);
    expect(a.welcome.transport).toBe('websocket');

    // Each sees the other's entity, then sees it move.
    await waitFor(() => a.positions.has(b.welcome.entityId) && b.positions.has(a.welcome.entityId), 5_000, 'entities');
    const bStart = { ...a.positions.get(b.welcome.entityId)! };
    const aStart = { ...b.positions.get(a.welcome.entityId)! };
    a.client.setInput(1, 0);
    b.client.setInput(0, 1);
    await waitFor(() => {
      const bNow = a.positions.get(b.welcome.entityId)!;
      const aNow = b.positions.get(a.welcome.entityId)!;
      return Math.abs(bNow.y - bStart.y) > 20 && Math.abs(aNow.x - aStart.x) > 20;
    }, 5_000, 'movement');

    // Chat: in order, exactly once, on both ends.
    for (let i = 0; i < 5; i++) expect(a.client.sendChat(`hello ${i}`)).toBe(true);
    await waitFor(() => b.chat.length === 5 && a.chat.length === 5, 5_000, 'chat');
    expect(b.chat.map((c) => c.text)).toEqual(['hello 0', 'hello 1', 'hello 2', 'hello 3', 'hello 4']);
    expect(new Set(b.chat.map((c) => c.id)).size).toBe(5);

    // Cut alice's socket (TCP torn down under her): she reconnects and resumes.
    a.client.setInput(0, 0);
    const resumed = new Promise<boolean>((resolve) => a.client.on('welcome', (w) => resolve(w.resumed)));
    a.sockets.at(-1)!.terminate();
    // Her reconnect waits ~400 ms, so these lines are sent while her session is suspended.
    await waitFor(() => server.sessions.get('alice')?.state === 'suspended', 2_000, 'cut noticed by the server');
    b.client.sendChat('while you were away');
    b.client.sendChat('second missed line');
    await waitFor(() => b.chat.length === 7, 2_000, 'bob sees his lines');
    expect(server.sessions.get('alice')?.state).toBe('suspended');
    expect(await resumed).toBe(true);
    expect(a.client.welcome!.entityId).toBe(a.welcome.entityId);
    await waitFor(() => a.chat.length === 7, 5_000, 'missed chat replayed');
    expect(a.chat.slice(5).map((c) => c.text)).toEqual(['while you were away', 'second missed line']);
    expect(a.chat.map((c) => c.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // And she plays on: new snapshots with her entity.
    const n = a.client.stats().snapshotsReceived;
    await waitFor(() => a.client.stats().snapshotsReceived > n + 5, 5_000, 'snapshots after resume');
    expect(server.rooms.get('arena')!.playerCount).toBe(2);
  });
});
