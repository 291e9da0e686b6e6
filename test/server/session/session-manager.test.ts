import { describe, expect, it } from 'vitest';
import { ErrorCode, errorInfo } from '../../../shared/errors.js';
import { PROTOCOL_VERSION } from '../../../shared/messages.js';
import { ManualScheduler } from '../../../server/clock.js';
import { InProcessChatFanout } from '../../../server/chat/fanout.js';
import { GameMetrics } from '../../../server/metrics.js';
import { InProcessRoomManager } from '../../../server/rooms/room-manager.js';
import { standardScene } from '../../../server/rooms/standard-scene.js';
import { DEFAULT_SESSION_TIMINGS } from '../../../server/session/config.js';
import { SessionManager } from '../../../server/session/session-manager.js';
import { UNRELIABLE_BURST } from '../../../server/session/player-session.js';
import { mintTicket } from '../../../server/session/tickets.js';
import { MemoryConnection } from './memory-connection.js';

const secret = 'unit-secret-0123456789abcdef';

function setup(snapshotChannel: 'unreliable' | 'reliable' = 'unreliable', staggerSnapshots = true) {
  const scheduler = new ManualScheduler();
  const metrics = new GameMetrics();
  const rooms = new InProcessRoomManager({ scheduler, fanout: new InProcessChatFanout(), metrics, defaultDefinition: standardScene, staggerSnapshots });
  const sessions = new SessionManager({ scheduler, rooms, metrics, ticketSecret: secret, snapshotChannel });
  const ticket = (playerId: string) => mintTicket(secret, { playerId, name: playerId, room: 'arena' }, { now: scheduler.now() });
  /** Connect and say hello; resolves after the async room lookup. */
  const join = async (playerId: string, extra: { resumeToken?: string; lastChatId?: number } = {}) => {
    const conn = new MemoryConnection();
    sessions.accept(conn);
    conn.deliver('hello', { v: PROTOCOL_VERSION, ticket: ticket(playerId), ...extra });
    await Promise.resolve();
    await Promise.resolve();
    return conn;
  };
  return { scheduler, metrics, rooms, sessions, join };
}

const T = DEFAULT_SESSION_TIMINGS;

describe('session state machine (stepped clock)', () => {
  it('closes a connection that never says hello after exactly the hello timeout', () => {
    const { scheduler, sessions } = setup();
    const conn = new MemoryConnection();
    sessions.accept(conn);
    scheduler.advance(T.helloTimeoutMs - 1);
    expect(conn.closed).toBe(false);
    scheduler.advance(1);
    expect(conn.closeInfo?.code).toBe(ErrorCode.HELLO_TIMEOUT);
  });

  it('heartbeat: pings every interval, RTT from pongs, pongs answer client pings', async () => {
    const { scheduler, sessions, join } = setup();
    const conn = await join('a');
    expect(conn.of('welcome')).toHaveLength(1);
    // The heartbeat's ping rides behind the next snapshot (at most one snapshot period later).
    scheduler.advance(T.heartbeatIntervalMs);
    for (let ms = 0; ms < 1000 / 20 && conn.of('ping').length === 0; ms++) scheduler.advance(1);
    const [ping] = conn.of('ping');
    expect(ping).toBeDefined();
    scheduler.advance(30);
    conn.deliver('pong', ping!);
    // 30 ms plus the part of the last 1 ms step after the snapshot tick that carried the ping.
    const rtt = sessions.getSession('a')!.rttMs!;
    expect(rtt).toBeGreaterThanOrEqual(30);
    expect(rtt).toBeLessThan(31);
    conn.deliver('pong', ping!); // duplicate: ignored
    expect(sessions.getSession('a')!.rttMs).toBe(rtt);
    conn.deliver('ping', { id: 9, t: 5 });
    expect(conn.of('pong')).toEqual([{ id: 9, t: 5 }]);
  });

  it('idle timeout suspends (close IDLE_TIMEOUT); the resume window then ends the session', async () => {
    const { scheduler, sessions, rooms, join } = setup();
    const conn = await join('a');
    // Silence: nothing from the client.
    scheduler.advance(T.idleTimeoutMs + T.heartbeatIntervalMs);
    expect(conn.closeInfo?.code).toBe(ErrorCode.IDLE_TIMEOUT);
    expect(sessions.getSession('a')!.state).toBe('suspended');
    expect(rooms.get('arena')!.getPlayer('a')!.connected).toBe(false);
    scheduler.advance(T.resumeWindowMs);
    expect(sessions.getSession('a')).toBeUndefined();
    expect(rooms.get('arena')!.getPlayer('a')).toBeUndefined();
  });

  it('a client that keeps talking is never idle', async () => {
    const { scheduler, join } = setup();
    const conn = await join('a');
    for (let i = 0; i < 40; i++) {
      scheduler.advance(500);
      conn.deliver('input', { seq: i + 1, ack: 0, inputs: [[0, 0]] });
    }
    expect(conn.closed).toBe(false);
  });

  it('resume inside the window: same entity, chat replayed after lastChatId, room kept the player', async () => {
    const { scheduler, sessions, rooms, join } = setup();
    const a = await join('a');
    const b = await join('b');
    const wa = a.of('welcome')[0]!;
    b.deliver('chatSend', { text: 'one' });
    a.peerGone();
    expect(sessions.getSession('a')!.state).toBe('suspended');
    b.deliver('chatSend', { text: 'two' });
    scheduler.advance(T.resumeWindowMs - 10);
    const a2 = await join('a', { resumeToken: wa.resumeToken, lastChatId: 1 });
    expect(a2.of('welcome')[0]).toMatchObject({ resumed: true, entityId: wa.entityId });
    expect(a2.of('chat').map((c) => c.text)).toEqual(['two']);
    // Past the old window's end: the cancelled resume timer must not end the resumed session.
    scheduler.advance(100);
    expect(sessions.getSession('a')!.state).toBe('active');
    expect(rooms.get('arena')!.playerCount).toBe(2);
    // The resumed connection gets snapshots again, starting with a full one (baselines are per connection).
    expect(a2.of('snapshot').length).toBeGreaterThan(0);
    // No ack on this connection yet, so every one of them is full.
    expect(sessions.getSession('a')!.snapshotStats()!.full).toBe(a2.of('snapshot').length);
  });

  it('resumes with the ticket it joined with after that ticket expired, and an expired ticket starts nothing (found by the soak)', async () => {
    const { scheduler, sessions, metrics } = setup();
    // The ticket a client keeps for its reconnects: here it lives 5 s.
    const ticket = mintTicket(secret, { playerId: 'a', name: 'a', room: 'arena' }, { now: scheduler.now(), ttlMs: 5_000 });
    const hello = async (extra: { resumeToken?: string; lastChatId?: number } = {}) => {
      const conn = new MemoryConnection();
      sessions.accept(conn);
      conn.deliver('hello', { v: PROTOCOL_VERSION, ticket, ...extra });
      await Promise.resolve();
      await Promise.resolve();
      return conn;
    };
    const a = await hello();
    const wa = a.of('welcome')[0]!;
    scheduler.advance(4_000);
    a.peerGone();
    scheduler.advance(2_000); // the ticket has expired; the resume window has not
    const a2 = await hello({ resumeToken: wa.resumeToken, lastChatId: 0 });
    expect(a2.of('welcome')[0]).toMatchObject({ resumed: true, entityId: wa.entityId });
    expect(sessions.getSession('a')!.state).toBe('active');
    // Without the token, or with another one, the expired ticket is refused as before.
    const fresh = await hello();
    expect(fresh.closeInfo?.code).toBe(ErrorCode.TICKET_EXPIRED);
    const forged = await hello({ resumeToken: 'not-a-token' });
    expect(forged.closeInfo?.code).toBe(ErrorCode.TICKET_EXPIRED);
    expect(sessions.getSession('a')!.state).toBe('active');
    expect(await metrics.text()).toMatch(/tickwire_refusals_total\{layer="game",reason="ticket_expired"\} 2\b/);
  });

  it('a resume token after the window has ended starts a fresh session with a new entity', async () => {
    const { scheduler, join } = setup();
    const a = await join('a');
    const wa = a.of('welcome')[0]!;
    a.peerGone();
    scheduler.advance(T.resumeWindowMs);
    const a2 = await join('a', { resumeToken: wa.resumeToken, lastChatId: 0 });
    expect(a2.of('welcome')[0]).toMatchObject({ resumed: false });
    expect(a2.of('welcome')[0]!.entityId).not.toBe(wa.entityId);
  });

  it('a second join of the same player without a token replaces the first (SESSION_REPLACED)', async () => {
    const { rooms, join } = setup();
    const a = await join('a');
    const a2 = await join('a');
    expect(a.closeInfo?.code).toBe(ErrorCode.SESSION_REPLACED);
    expect(a.of('error')).toEqual([{ code: ErrorCode.SESSION_REPLACED, message: `${errorInfo(ErrorCode.SESSION_REPLACED)!.description}: this player joined again` }]);
    expect(a2.of('welcome')).toHaveLength(1);
    expect(rooms.get('arena')!.playerCount).toBe(1);
  });

  it('new sessions get recent chat history; leave ends the session at once', async () => {
    const { sessions, join } = setup();
    const a = await join('a');
    a.deliver('chatSend', { text: 'hi' });
    const b = await join('b');
    expect(b.of('chat').map((c) => c.text)).toEqual(['hi']);
    b.deliver('leave', {});
    expect(b.closeInfo?.code).toBe(ErrorCode.NORMAL);
    expect(sessions.getSession('b')).toBeUndefined();
    expect(a.of('playerLeft').map((p) => p.playerId)).toEqual(['b']);
  });

  it('acks select the delta baseline; encodings are shared between clients with the same baseline', async () => {
    const { scheduler, sessions, join } = setup('unreliable', false);
    const conns = [await join('a'), await join('b'), await join('c')];
    scheduler.advance(50); // first snapshot tick: full snapshots, encoded once, shared twice
    const stats = () => conns.map((_, i) => sessions.getSession('abc'[i]!)!.snapshotStats()!);
    expect(stats().reduce((s, x) => s + x.encoded, 0)).toBe(1);
    expect(stats().reduce((s, x) => s + x.shared, 0)).toBe(2);
    const firstSize = conns[0]!.sent.filter((m) => m.name === 'snapshot').length;
    expect(firstSize).toBe(1);
    // All ack snapshot 1: the next tick is one delta encoding, shared.
    for (const [i, c] of conns.entries()) c.deliver('input', { seq: 1 + i, ack: 1, inputs: [[0, 0]] });
    scheduler.advance(50);
    expect(stats().reduce((s, x) => s + x.encoded, 0)).toBe(2);
    expect(stats().every((x) => x.full === 1)).toBe(true);
  });

  it('snapshotChannel reliable sends snapshots on the reliable channel', async () => {
    const { scheduler, join } = setup('reliable');
    const a = await join('a');
    scheduler.advance(100);
    const snaps = a.sent.filter((m) => m.name === 'snapshot');
    expect(snaps.length).toBeGreaterThan(0);
    expect(snaps.every((m) => m.channel === 'reliable')).toBe(true);
  });

  it('drain: notice and transport drain to sessions, new connections refused', async () => {
    const { sessions, join } = setup();
    const a = await join('a');
    sessions.drain(5000, 1000);
    expect(a.of('drain')).toEqual([{ deadlineMs: 5000, reconnectJitterMs: 1000 }]);
    expect(a.drained).toBe(1);
    const late = new MemoryConnection();
    sessions.accept(late);
    expect(late.closeInfo?.code).toBe(ErrorCode.SERVER_DRAINING);
    sessions.closeAll();
    expect(a.closeInfo?.code).toBe(ErrorCode.SERVER_DRAINING);
  });

  it('connection counts by transport: handshaking and active connections, not suspended sessions', async () => {
    const { sessions, join } = setup();
    const waiting = new MemoryConnection();
    sessions.accept(waiting);
    const a = await join('a');
    await join('b');
    expect(sessions.connectionCounts()).toEqual({ websocket: 3 });
    a.peerGone();
    waiting.peerGone();
    expect(sessions.connectionCounts()).toEqual({ websocket: 1 });
    expect(sessions.activeCount).toBe(1);
    expect(sessions.sessions().map((s) => [s.playerId, s.state])).toEqual([['a', 'suspended'], ['b', 'active']]);
  });

  it('closeAll ends handshakes and sessions (suspended ones too) and refuses later connections', async () => {
    const { sessions, rooms, join } = setup();
    const waiting = new MemoryConnection();
    sessions.accept(waiting);
    const a = await join('a');
    const b = await join('b');
    b.peerGone();
    sessions.closeAll(ErrorCode.SERVER_DRAINING, 'bye');
    expect(waiting.closeInfo?.code).toBe(ErrorCode.SERVER_DRAINING);
    expect(a.closeInfo?.code).toBe(ErrorCode.SERVER_DRAINING);
    expect(sessions.sessions()).toEqual([]);
    expect(rooms.get('arena')?.playerCount ?? 0).toBe(0);
    const late = new MemoryConnection();
    sessions.accept(late);
    expect(late.closeInfo?.code).toBe(ErrorCode.SERVER_DRAINING);
  });

  it('an unreliable flood is rate-limited (dropped and counted), not fatal', async () => {
    const { scheduler, metrics, join, sessions } = setup();
    const a = await join('a');
    for (let i = 1; i <= 1000; i++) a.deliver('input', { seq: i, ack: 0, inputs: [[1, 0]] });
    const dropped = (await metrics.registry.getSingleMetricAsString('tickwire_messages_dropped_total'));
    const n = Number(/reason="rate_limited"\} (\d+)/.exec(dropped)![1]);
    expect(n).toBe(1000 - UNRELIABLE_BURST);
    expect(a.closed).toBe(false);
    // After a second the client may send again.
    scheduler.advance(1000);
    a.deliver('input', { seq: 2000, ack: 0, inputs: [[0, 1]] });
    expect(sessions.getSession('a')!.room.getPlayer('a')!.lastInputSeq).toBe(2000);
  });
});
