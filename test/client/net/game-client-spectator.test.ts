/**
 * GameClient as a spectator (a dev ticket with `spectate: true`) against the real game server
 * over real sockets: it watches without an entity, sees the players move and chat, sends
 * `spectate` (ack and camera) instead of inputs and no chat, and the players never see it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { GameClient } from '../../../client/net/game-client.js';
import type { ChatEvent, PlayerInfo } from '../../../client/net/game-client-types.js';
import { ErrorCode } from '../../../shared/errors.js';
import { closeTestServers, devGameClient, startTestServer, welcomed, within, type TestServer } from './helpers/game-server.js';
import { waitFor } from './helpers/scripted-peer.js';

/** The test's server (client() joins it); closeTestServers() closes it and every client. */
let server!: TestServer;
afterEach(closeTestServers);

function client(name: string, spectate: boolean, transport: 'websocket' | 'webtransport' = 'websocket'): GameClient {
  return devGameClient(server, name, { room: 'arena', spectate, transport, reconnect: { maxAttempts: 0 } });
}

describe('GameClient spectator mode with the real server', () => {
  it('watches a full room: sees the players move and chat, sends no input, and the players never see it', async () => {
    server = await startTestServer({ rooms: { arena: { maxPlayers: 2, maxSpectators: 2 } } });
    const a = client('Ada', false);
    const b = client('Bob', false);
    const wa = await welcomed(a);
    await welcomed(b);
    const joinedSeenByPlayers: PlayerInfo[] = [];
    for (const p of [a, b]) p.on('playerJoined', (x) => joinedSeenByPlayers.push(x));

    const s = client('Sam', true, server.webTransport ? 'webtransport' : 'websocket');
    const ws = await welcomed(s);
    expect(ws.entityId).toBe(0);
    expect(s.spectator).toBe(true);
    expect(ws.players.map((p) => p.name).sort()).toEqual(['Ada', 'Bob']);
    // The room has no player seat left, yet the spectator is in.
    const room = server.server.rooms.get('arena')!;
    expect([room.playerCount, room.spectatorCount]).toEqual([2, 1]);

    a.setInput(1, 0);
    const adaXs: number[] = [];
    s.on('snapshot', (snap) => {
      const e = snap.entities.find((x) => x.id === wa.entityId);
      if (e) adaXs.push(e.x);
      // No entity stands for the spectator.
      expect(snap.entities.some((x) => x.id === 0)).toBe(false);
    });
    await waitFor(() => new Set(adaXs).size >= 5, 5_000, 'the spectator sees Ada move');
    const chat: ChatEvent[] = [];
    s.on('chat', (m) => chat.push(m));
    expect(a.sendChat('watch this')).toBe(true);
    await waitFor(() => chat.some((m) => m.text === 'watch this'), 5_000, 'the spectator gets the chat');

    // A spectator cannot chat, and sends spectate (ack + camera) where a player sends input.
    expect(s.sendChat('hi')).toBe(false);
    s.setCamera(900, -50);
    s.sendInputTick();
    const st = s.stats();
    expect(st.inputsSent).toBe(0);
    expect(st.chatSent).toBe(0);
    expect(st.bytesUp.unreliable).toBeGreaterThan(0);
    const session = server.server.sessions.list().find((v) => v.role === 'spectator' && v.playerId === ws.playerId)!;
    expect(session.snapshotStats()!.full).toBeLessThan(st.snapshotsReceived);
    // The players heard of nobody, and their snapshots hold the two of them only.
    expect(joinedSeenByPlayers).toEqual([]);
    const bSnap = await within(new Promise<number[]>((resolve) => {
      const off = b.on('snapshot', (snap) => { off(); resolve(snap.entities.map((e) => e.id)); });
    }), 5_000, 'a snapshot for Bob');
    expect(bSnap).toHaveLength(2);
  });

  it('a spectator beyond the spectator limit is refused with SPECTATORS_FULL; players still join', async () => {
    server = await startTestServer({ webTransport: null, rooms: { arena: { maxPlayers: 2, maxSpectators: 1 } } });
    await welcomed(client('Ada', false));
    await welcomed(client('Sam', true));
    const late = client('Tom', true);
    const closed = new Promise<number>((resolve) => late.on('close', (e) => resolve(e.code)));
    await expect(late.connect()).rejects.toThrow();
    expect(await within(closed, 5_000, 'the refusal')).toBe(ErrorCode.SPECTATORS_FULL);
    const w = await welcomed(client('Bob', false));
    expect(w.entityId).toBeGreaterThan(0);
  });
});
