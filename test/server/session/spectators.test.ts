/**
 * Spectator sessions (a ticket with `role: 'spectator'`) on the session state machine with a
 * stepped clock: no entity, not counted against maxPlayers but against maxSpectators, unseen by
 * the players, snapshots and chat received, inputs and chat lines dropped and counted, and
 * snapshot encodings shared with the players'.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../shared/errors.js';
import { PROTOCOL_VERSION } from '../../../shared/messages.js';
import { ManualScheduler } from '../../../server/clock.js';
import { InProcessChatFanout } from '../../../server/chat/fanout.js';
import { GameMetrics } from '../../../server/metrics.js';
import { InProcessRoomManager } from '../../../server/rooms/room-manager.js';
import { standardScene } from '../../../server/rooms/standard-scene.js';
import { SessionManager } from '../../../server/session/session-manager.js';
import { sessionKey } from '../../../server/session/player-session.js';
import { decodeSnapshot } from '../../../shared/snapshot/decode.js';
import { mintTicket } from '../../../server/session/tickets.js';
import { MemoryConnection } from './memory-connection.js';

const secret = 'unit-secret-0123456789abcdef';

function setup(limits: { maxPlayers: number; maxSpectators: number }, staggerSnapshots = true) {
  const scheduler = new ManualScheduler();
  const metrics = new GameMetrics();
  const rooms = new InProcessRoomManager({
    scheduler, fanout: new InProcessChatFanout(), metrics, defaultDefinition: { ...standardScene, ...limits }, staggerSnapshots,
  });
  const sessions = new SessionManager({ scheduler, rooms, metrics, ticketSecret: secret, snapshotChannel: 'unreliable' });
  const join = async (playerId: string, options: { spectator?: boolean; room?: string } = {}) => {
    const conn = new MemoryConnection();
    sessions.accept(conn);
    const ticket = mintTicket(secret, { playerId, name: playerId, room: options.room ?? 'arena', spectator: options.spectator }, { now: scheduler.now() });
    conn.deliver('hello', { v: PROTOCOL_VERSION, ticket });
    for (let i = 0; i < 4; i++) await Promise.resolve();
    return conn;
  };
  const refusals = () => Object.fromEntries(metrics.refusals().map((r) => [`${r.layer} ${r.reason}`, r.count]));
  return { scheduler, metrics, rooms, sessions, join, refusals };
}

describe('spectator sessions', () => {
  it('enter a full room without an entity, count against the spectator limit, and the players never hear of them', async () => {
    const { rooms, join, refusals } = setup({ maxPlayers: 1, maxSpectators: 1 });
    const a = await join('a');
    const s = await join('s', { spectator: true });
    const welcome = s.of('welcome')[0]!;
    expect(welcome).toMatchObject({ entityId: 0, resumed: false });
    expect(welcome.players.map((p) => p.playerId)).toEqual(['a']);
    const room = rooms.get('arena')!;
    expect([room.playerCount, room.spectatorCount]).toEqual([1, 1]);
    // The room is full for players, and its one spectator seat is taken.
    const b = await join('b');
    expect(b.closeInfo?.code).toBe(ErrorCode.ROOM_FULL);
    const s2 = await join('s2', { spectator: true });
    expect(s2.closeInfo?.code).toBe(ErrorCode.SPECTATORS_FULL);
    expect(refusals()['game spectators_full']).toBe(1);
    // A player and a spectator may share an id: they are different sessions.
    const sa = await join('a', { spectator: true, room: 'arena' });
    expect(sa.closeInfo?.code).toBe(ErrorCode.SPECTATORS_FULL);
    expect(a.closed).toBe(false);
    // The player was told of nobody.
    expect(a.of('playerJoined')).toEqual([]);
    s.deliver('leave', {});
    expect(room.spectatorCount).toBe(0);
    expect(a.of('playerLeft')).toEqual([]);
  });

  it('watch open rooms only: a spectator ticket for a room not open is refused', async () => {
    const { rooms, join, refusals } = setup({ maxPlayers: 4, maxSpectators: 4 });
    const s = await join('s', { spectator: true });
    expect(s.closeInfo?.code).toBe(ErrorCode.UNKNOWN_ROOM);
    expect(rooms.get('arena')).toBeUndefined();
    expect(refusals()['game unknown_room']).toBe(1);
  });

  it('receive snapshots and chat; their inputs and chat lines are dropped and counted, nothing moves', async () => {
    const { scheduler, sessions, rooms, join, refusals } = setup({ maxPlayers: 4, maxSpectators: 4 });
    const a = await join('a');
    const s = await join('s', { spectator: true });
    a.deliver('chatSend', { text: 'hello watchers' });
    expect(s.of('chat').map((c) => c.text)).toEqual(['hello watchers']);
    scheduler.advance(200);
    expect(s.of('snapshot').length).toBeGreaterThan(0);
    const room = rooms.get('arena')!;
    const before = { ...room.getPlayer('a')!.entity };
    // A spectator's input and chat: counted, no effect on anyone.
    s.deliver('input', { seq: 1, ack: 0, inputs: [[1, 0]] });
    s.deliver('chatSend', { text: 'let me in' });
    scheduler.advance(200);
    expect(refusals()['game spectator_input']).toBe(1);
    expect(refusals()['game spectator_chat']).toBe(1);
    expect(a.of('chat').map((c) => c.text)).toEqual(['hello watchers']);
    expect(room.getPlayer('a')!.entity).toMatchObject({ x: before.x, y: before.y });
    expect(s.closed).toBe(false);
    // A player's spectate is counted too (it has an entity to move instead).
    a.deliver('spectate', { ack: 0, x: 1, y: 1 });
    expect(refusals()['game player_spectate']).toBe(1);
    // Its spectate acks: from then on it gets deltas.
    const spectator = sessions.getSession(sessionKey('spectator', 's'))!;
    const full = spectator.snapshotStats()!.full;
    const last = s.of('snapshot').length;
    expect(full).toBe(last); // no ack yet: every one full
    s.deliver('spectate', { ack: lastSnapshotId(s), x: 500, y: 500 });
    scheduler.advance(200);
    expect(s.of('snapshot').length).toBeGreaterThan(last);
    expect(spectator.snapshotStats()!.full).toBe(full);
  });

  it('share snapshot encodings with the players that have the same baseline', async () => {
    const { scheduler, sessions, join } = setup({ maxPlayers: 4, maxSpectators: 4 }, false);
    await join('a');
    await join('b');
    await join('s', { spectator: true });
    await join('t', { spectator: true });
    scheduler.advance(50); // the first snapshot tick: everyone full, one encoding shared by all
    const stats = ['a', 'b', sessionKey('spectator', 's'), sessionKey('spectator', 't')].map((k) => sessions.getSession(k)!.snapshotStats()!);
    expect(stats.reduce((n, x) => n + x.encoded, 0)).toBe(1);
    expect(stats.reduce((n, x) => n + x.shared, 0)).toBe(3);
  });
});

/** The id of the newest snapshot a connection got (a full one: no ack was sent yet). */
function lastSnapshotId(conn: MemoryConnection): number {
  const bytes = conn.sent.filter((m) => m.name === 'snapshot').at(-1)!.bytes;
  const r = decodeSnapshot(bytes, () => undefined);
  if (!r.ok) throw new Error(`snapshot did not decode: ${JSON.stringify(r)}`);
  return r.snapshot.id;
}
