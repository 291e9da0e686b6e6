/**
 * Spectator sessions end to end (createGameServer, real fastify and WebSocket on loopback): a
 * spectator ticket enters an open room without an entity, gets snapshots of the players and the
 * chat, sends no input (dropped and counted), is limited by maxSpectators (not maxPlayers), is
 * never announced to the players, and shares snapshot encodings with the players of its phase.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../shared/errors.js';
import { decodeSnapshotBody } from '../../shared/snapshot/index.js';
import { mintTicket, type GameServerOptions } from '../../server/index.js';
import type { RawClient } from './ws-test-client.js';
import { closeRawServers, startRawServer } from './helpers/raw-server.js';

const secret = 'spectator-test-secret-0123456789';
afterEach(closeRawServers);

async function start(extra: Partial<GameServerOptions> = {}) {
  const { server, info, connect } = await startRawServer({ ticketSecret: secret, ...extra });
  const join = async (playerId: string, o: { room?: string; spectator?: boolean } = {}) => {
    const c = await connect();
    const w = await c.welcome(mintTicket(secret, { playerId, name: playerId, room: o.room ?? 'arena', spectator: o.spectator }));
    return { c, w };
  };
  const refusals = (reason: string) => server.metrics.refusals().find((r) => r.layer === 'game' && r.reason === reason)?.count ?? 0;
  return { server, info, connect, join, refusals };
}

/** Entity ids in the newest snapshot `c` decoded (full ones only are decoded here). */
function entitiesOfFull(c: RawClient): number[] | null {
  for (let i = c.messages.length - 1; i >= 0; i--) {
    const m = c.messages[i];
    if (m.name !== 'snapshot') continue;
    const snap = decodeSnapshotBody(m.body as Uint8Array, () => undefined);
    if (snap.ok && snap.snapshot.baselineId === 0) return snap.snapshot.entities.map((e) => e.id);
  }
  return null;
}

describe('spectators', () => {
  it('enter without an entity, see the players and the chat; the players never hear of them', async () => {
    const { server, join, refusals } = await start();
    const alice = await join('alice');
    const bob = await join('bob');
    const watcher = await join('watcher', { spectator: true });
    expect(watcher.w.entityId).toBe(0);
    expect(watcher.w.players.map((p) => p.playerId).sort()).toEqual(['alice', 'bob']);
    const room = server.rooms.get('arena')!;
    expect([room.playerCount, room.spectatorCount]).toEqual([2, 1]);
    // Its first snapshot is full and holds the two players' entities, nothing of its own.
    await watcher.c.until(() => watcher.c.snapshots > 0, 5_000, 'a snapshot');
    expect(entitiesOfFull(watcher.c)).toEqual([alice.w.entityId, bob.w.entityId].sort((a, b) => a - b));
    alice.c.send('chatSend', { text: 'hi all' });
    await watcher.c.until(() => watcher.c.of('chat').some((m) => m.text === 'hi all'), 5_000, 'the chat line');
    // A player joining later is announced to the spectator; nobody announces the spectator.
    const carol = await join('carol');
    await watcher.c.until(() => watcher.c.of('playerJoined').some((p) => p.playerId === 'carol'), 5_000, 'carol announced');
    expect(carol.w.players.map((p) => p.playerId).sort()).toEqual(['alice', 'bob', 'carol']);
    await bob.c.until(() => bob.c.of('playerJoined').length === 1, 5_000, 'carol announced to bob');
    expect(alice.c.of('playerJoined').map((j) => j.playerId)).toEqual(['bob', 'carol']);
    expect(bob.c.of('playerJoined').map((j) => j.playerId)).toEqual(['carol']);
    // Its session is listed as a spectator.
    expect(server.sessions.list().filter((s) => s.role === 'spectator').map((s) => s.playerId)).toEqual(['watcher']);
    expect(refusals('spectator_input')).toBe(0);
  });

  it('sends no input: inputs and chat are dropped and counted; a player\'s spectate too', async () => {
    const { server, join, refusals } = await start();
    const alice = await join('alice');
    const watcher = await join('watcher', { spectator: true });
    await watcher.c.until(() => watcher.c.snapshots > 2, 5_000, 'snapshots');
    for (let seq = 1; seq <= 3; seq++) watcher.c.send('input', { seq, ack: 0, inputs: [[1, 0]] });
    watcher.c.send('chatSend', { text: 'can you hear me' });
    alice.c.send('spectate', { ack: 0, x: 10, y: 10 });
    await alice.c.until(() => refusals('spectator_input') === 3 && refusals('spectator_chat') === 1 && refusals('player_spectate') === 1, 5_000, 'counted');
    expect(alice.c.of('chat').some((m) => m.text === 'can you hear me')).toBe(false);
    expect(watcher.c.closeCode).toBeNull();
    // Nothing it sent moved anyone, and its own spectate is taken without a drop.
    expect(server.rooms.get('arena')!.getPlayer('alice')!.input).toEqual({ dx: 0, dy: 0 });
    watcher.c.send('spectate', { ack: 1, x: 900, y: 100 });
    await new Promise((r) => setTimeout(r, 100));
    expect(refusals('player_spectate')).toBe(1);
    expect(watcher.c.closeCode).toBeNull();
  });

  it('counts against maxSpectators, not maxPlayers; over the limit SPECTATORS_FULL; a room not open is unknown', async () => {
    const { server, join, connect, refusals } = await start({ rooms: { small: { maxPlayers: 1, maxSpectators: 2 } }, defaultRoom: null });
    await join('p1', { room: 'small' });
    await join('w1', { room: 'small', spectator: true });
    await join('w2', { room: 'small', spectator: true });
    const third = await connect();
    third.hello(mintTicket(secret, { playerId: 'w3', name: 'w3', room: 'small', spectator: true }));
    expect(await third.closed()).toBe(ErrorCode.SPECTATORS_FULL);
    expect(third.of('error')[0].code).toBe(4021);
    expect(refusals('spectators_full')).toBe(1);
    const fullPlayer = await connect();
    fullPlayer.hello(mintTicket(secret, { playerId: 'p2', name: 'p2', room: 'small' }));
    expect(await fullPlayer.closed()).toBe(ErrorCode.ROOM_FULL);
    expect(server.rooms.get('small')!.spectatorCount).toBe(2);
    // Spectators never open a room.
    const nowhere = await connect();
    nowhere.hello(mintTicket(secret, { playerId: 'w4', name: 'w4', room: 'small2', spectator: true }));
    expect(await nowhere.closed()).toBe(ErrorCode.UNKNOWN_ROOM);
  });

  it('a spectator keeps a room open while it watches; leaving frees its seat', async () => {
    const { server, join } = await start();
    const alice = await join('alice');
    const watcher = await join('watcher', { spectator: true });
    alice.c.send('leave', {});
    await alice.c.closed();
    const room = server.rooms.get('arena')!;
    expect(room.playerCount).toBe(0);
    expect(room.isClosed).toBe(false);
    watcher.c.send('leave', {});
    await watcher.c.closed();
    expect(room.spectatorCount).toBe(0);
  });

  it('shares snapshot encodings with the players of its phase', async () => {
    const { server, join } = await start();
    // Entities 1..3 fall in phases 1, 2, 0; the first spectator is in phase 0 with entity 3.
    const players = [await join('a'), await join('b'), await join('c')];
    const watcher = await join('watcher', { spectator: true });
    await watcher.c.until(() => watcher.c.snapshots >= 30, 10_000, '30 snapshots');
    const stats = (id: string) => server.sessions.list().find((s) => s.playerId === id)!.snapshotStats()!;
    const w = stats('watcher');
    const c = stats('c');
    // On WebSocket every client of a phase builds on the snapshot before: one encoding per tick
    // serves the phase, whoever came first.
    expect(w.shared + c.shared).toBeGreaterThanOrEqual(20);
    expect(players[2].w.entityId).toBe(3);
  });

  it('dev tickets: spectate mints a spectator ticket', async () => {
    const { info, connect } = await start({ devTickets: true });
    await (await connect()).welcome((await (await fetch(`${info.httpUrl}/api/dev/ticket`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'P' }),
    })).json() as { ticket: string }).ticket);
    const res = await fetch(`${info.httpUrl}/api/dev/ticket`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Watcher', spectate: true }),
    });
    const { ticket } = (await res.json()) as { ticket: string };
    const w = await (await connect()).welcome(ticket);
    expect(w.entityId).toBe(0);
    const bad = await fetch(`${info.httpUrl}/api/dev/ticket`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'W', spectate: 'yes' }),
    });
    expect(bad.status).toBe(400);
  });

  it('the lobby and the status count spectators', async () => {
    const { join, info } = await start();
    await join('alice');
    await join('watcher', { spectator: true });
    const rooms = await (await fetch(`${info.httpUrl}/api/rooms`)).json() as { rooms: Array<{ id: string; players: number; spectators: number }> };
    expect(rooms.rooms).toMatchObject([{ id: 'arena', players: 1, spectators: 1 }]);
    const status = await (await fetch(`${info.httpUrl}/api/status`)).json() as { sessions: number; spectators: number };
    expect(status).toMatchObject({ sessions: 2, spectators: 1 });
  });
});
