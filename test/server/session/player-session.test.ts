import { describe, expect, it } from 'vitest';
import { ErrorCode, errorInfo } from '../../../shared/errors.js';
import { PROTOCOL_VERSION } from '../../../shared/messages.js';
import { decodeSnapshot } from '../../../shared/snapshot/index.js';
import { ManualScheduler } from '../../../server/clock.js';
import { InProcessChatFanout } from '../../../server/chat/fanout.js';
import { GameMetrics } from '../../../server/metrics.js';
import { InProcessRoomManager } from '../../../server/rooms/room-manager.js';
import { standardScene } from '../../../server/rooms/standard-scene.js';
import { CHAT_JOIN_HISTORY, DEFAULT_SESSION_TIMINGS as T } from '../../../server/session/config.js';
import { MAX_OUTSTANDING_PINGS, PlayerSession, type SnapshotChannel } from '../../../server/session/player-session.js';
import { SessionManager } from '../../../server/session/session-manager.js';
import { MemoryConnection } from './memory-connection.js';

/** The real host, with the sessions it was told are gone. */
class Host extends SessionManager {
  readonly gone: PlayerSession[] = [];
  override sessionGone(session: PlayerSession): void {
    this.gone.push(session);
    super.sessionGone(session);
  }
}

function setup(snapshotChannel: SnapshotChannel = 'unreliable') {
  const scheduler = new ManualScheduler();
  const metrics = new GameMetrics();
  const rooms = new InProcessRoomManager({ scheduler, fanout: new InProcessChatFanout(), metrics, defaultDefinition: standardScene, staggerSnapshots: false });
  const host = new Host({ scheduler, rooms, metrics, ticketSecret: 'unit-secret-0123456789abcdef', snapshotChannel });
  const lookup = rooms.acquireSync('arena');
  if (lookup.kind !== 'local') throw new Error('no room');
  const room = lookup.room;
  /** A session as SessionManager.join makes one: room membership first, then the session. */
  const session = (playerId: string, conn = new MemoryConnection(), lastChatId?: number) => {
    const joined = room.join({ playerId, name: `${playerId}!`, playerJoined() {}, playerLeft() {}, chat() {}, snapshot() {} });
    if (!joined.ok) throw new Error(joined.reason);
    const s = new PlayerSession(host, room, playerId, `${playerId}!`, joined.player.entity.id, `token-${playerId}`);
    room.reattach(playerId, s);
    s.attach(conn, false, lastChatId);
    return { s, conn };
  };
  const counter = async (name: string) => metrics.registry.getSingleMetricAsString(name);
  return { scheduler, metrics, rooms, room, host, session, counter };
}

describe('PlayerSession: attach', () => {
  it('welcomes with the player, room, rates, world and clock, then the recent chat history', () => {
    const { scheduler, room, session } = setup();
    for (let i = 0; i < CHAT_JOIN_HISTORY + 10; i++) room.chat.announce(`line ${i}`, scheduler.now());
    scheduler.advance(5.7);
    const { s, conn } = session('a');
    expect(conn.sent[0]!.name).toBe('welcome');
    expect(conn.of('welcome')[0]).toEqual({
      v: PROTOCOL_VERSION, playerId: 'a', entityId: s.entityId, name: 'a!', roomId: 'arena', tickHz: 60, snapshotHz: 20,
      resumeToken: 'token-a', resumed: false, serverTime: Math.floor(scheduler.now()), worldW: 1000, worldH: 1000,
      players: [{ playerId: 'a', entityId: s.entityId, name: 'a!' }],
    });
    const chat = conn.of('chat');
    expect(chat).toHaveLength(CHAT_JOIN_HISTORY);
    expect(chat[0]!.id).toBe(11);
    expect(s.view.connectedAt).toBe(scheduler.now());
  });

  it('with a last chat id, replays exactly what came after it', () => {
    const { scheduler, room, session } = setup();
    for (let i = 0; i < 5; i++) room.chat.announce(`line ${i}`, scheduler.now());
    const { conn } = session('a', new MemoryConnection(), 3);
    expect(conn.of('chat').map((c) => c.id)).toEqual([4, 5]);
  });

  it('a new connection takes over: the old one gets SESSION_REPLACED and is no longer listened to', () => {
    const { scheduler, room, session } = setup();
    const { s, conn: old } = session('a');
    scheduler.advance(100);
    const next = new MemoryConnection();
    s.attach(next, true, 0);
    expect(old.closeInfo?.code).toBe(ErrorCode.SESSION_REPLACED);
    // The catalogue's text, with the server's fixed note.
    expect(old.of('error')).toEqual([{ code: ErrorCode.SESSION_REPLACED, message: `${errorInfo(ErrorCode.SESSION_REPLACED)!.description}: this player connected again` }]);
    expect(next.of('welcome')[0]).toMatchObject({ resumed: true, entityId: s.entityId });
    expect([old.onReliable, old.onUnreliable, old.onClose]).toEqual([null, null, null]);
    next.deliver('chatSend', { text: 'from the new one' });
    expect(room.chat.history.all().map((m) => m.text)).toEqual(['from the new one']);
    expect(s.view.connectedAt).toBe(scheduler.now());
    expect(s.view.transport).toBe('websocket');
  });
});

describe('PlayerSession: what the room hands it', () => {
  it('turns join, leave and chat events into messages on the reliable channel', () => {
    const { scheduler, room, session } = setup();
    const { conn } = session('a');
    session('b');
    room.leave('b');
    room.chat.announce('hi', scheduler.now());
    expect(conn.of('playerJoined')).toEqual([{ entityId: 2, playerId: 'b', name: 'b!' }]);
    expect(conn.of('playerLeft')).toEqual([{ entityId: 2, playerId: 'b' }]);
    expect(conn.of('chat').at(-1)).toMatchObject({ text: 'hi', entityId: 0 });
    expect(conn.sent.filter((m) => m.name !== 'snapshot').every((m) => m.channel === 'reliable')).toBe(true);
  });

  it('snapshots ride the unreliable channel; one committed to an ordered channel is the next baseline', () => {
    const { scheduler, session } = setup();
    const { s, conn } = session('a', new MemoryConnection({ commitUnreliable: true }));
    scheduler.advance(100);
    const snaps = conn.sent.filter((m) => m.name === 'snapshot');
    expect(snaps.length).toBeGreaterThanOrEqual(2);
    expect(snaps.every((m) => m.channel === 'unreliable')).toBe(true);
    const first = decodeSnapshot(snaps[0]!.bytes, () => undefined);
    if (!first.ok) throw new Error(first.detail);
    const second = decodeSnapshot(snaps[1]!.bytes, (id) => (id === first.snapshot.id ? first.snapshot : undefined));
    expect(second.ok && second.snapshot.baselineId).toBe(first.snapshot.id);
    expect(s.view.snapshotStats()).toMatchObject({ full: 1 });
  });

  it('without commits or acks every snapshot is full; on the reliable channel a sent one is the baseline', () => {
    const unreliable = setup();
    const a = unreliable.session('a');
    unreliable.scheduler.advance(200);
    expect(a.s.view.snapshotStats()!.full).toBe(a.conn.of('snapshot').length);
    const reliable = setup('reliable');
    const b = reliable.session('b');
    reliable.scheduler.advance(200);
    const snaps = b.conn.sent.filter((m) => m.name === 'snapshot');
    expect(snaps.every((m) => m.channel === 'reliable')).toBe(true);
    expect(b.s.view.snapshotStats()).toMatchObject({ full: 1 });
  });

  it('a snapshot that cannot fit the connection budget is dropped and counted', async () => {
    const { scheduler, session, counter } = setup();
    const { conn } = session('a', new MemoryConnection({ maxUnreliableSize: 8 }));
    scheduler.advance(100);
    expect(conn.of('snapshot')).toEqual([]);
    expect(await counter('tickwire_messages_dropped_total')).toMatch(/reason="too_large"\} [1-9]/);
  });
});

describe('PlayerSession: from the client', () => {
  it('reliable junk, or a second hello, ends the session with the codec code or BAD_MESSAGE', () => {
    const { host, session } = setup();
    const { s, conn } = session('a');
    conn.onReliable!(new Uint8Array([1, 0xc1]));
    expect(conn.closeInfo?.code).toBe(ErrorCode.BAD_MESSAGE);
    expect(s.state).toBe('gone');
    expect(host.gone).toEqual([s]);
    const b = session('b');
    b.conn.deliver('hello', { v: PROTOCOL_VERSION, ticket: 'x' });
    expect(b.conn.closeInfo?.code).toBe(ErrorCode.BAD_MESSAGE);
  });

  it('leave ends the session at once (NORMAL) and takes the player out of the room', () => {
    const { room, host, session } = setup();
    const { s, conn } = session('a');
    conn.deliver('leave', {});
    expect(conn.closeInfo).toMatchObject({ code: ErrorCode.NORMAL, byPeer: false });
    expect(room.getPlayer('a')).toBeUndefined();
    expect(host.gone).toEqual([s]);
    expect(s.view.state).toBe('gone');
  });

  it('a chat line the room refuses comes back as chatRejected', () => {
    const { session } = setup();
    const { conn } = session('a');
    conn.deliver('chatSend', { text: '\u0007' }); // only a control character: empty once stripped
    for (let i = 0; i < 6; i++) conn.deliver('chatSend', { text: `line ${i}` });
    const rejected = conn.of('chatRejected');
    expect(rejected[0]).toEqual({ reason: 'empty', retryAfterMs: 0 });
    expect(rejected[1]).toMatchObject({ reason: 'rate_limited' });
    expect(rejected[1]!.retryAfterMs).toBeGreaterThan(0);
    expect(conn.closed).toBe(false);
  });

  it('unreliable junk is dropped and counted, never closing; inputs reach the room', async () => {
    const { room, session, counter } = setup();
    const { conn } = session('a');
    conn.onUnreliable!(new Uint8Array([32, 0xc1]));
    conn.onUnreliable!(new Uint8Array([60]));
    conn.deliver('input', { seq: 3, ack: 0, inputs: [[1, 0]] });
    expect(conn.closed).toBe(false);
    expect(room.getPlayer('a')!.input).toEqual({ dx: 1, dy: 0 });
    expect(await counter('tickwire_messages_invalid_total')).toMatch(/reason="unknown_type"\} 1/);
  });

  it('RTT is smoothed by 1/8 per pong; pongs for forgotten or unknown pings are stale', async () => {
    const { scheduler, session, counter } = setup();
    const { s, conn } = session('a');
    scheduler.advance(T.heartbeatIntervalMs);
    let [ping] = conn.of('ping');
    scheduler.advance(40);
    conn.deliver('pong', ping!);
    expect(s.view.rttMs).toBe(40);
    scheduler.advance(T.heartbeatIntervalMs - 40);
    ping = conn.of('ping')[1];
    scheduler.advance(80);
    conn.deliver('pong', ping!);
    expect(s.view.rttMs).toBe(40 + (80 - 40) / 8);
    // Keep the client talking (no idle close) while more pings go unanswered than are kept.
    for (let i = 0; i < MAX_OUTSTANDING_PINGS + 1; i++) {
      conn.deliver('input', { seq: 10 + i, ack: 0, inputs: [[0, 0]] });
      scheduler.advance(T.heartbeatIntervalMs);
    }
    const pings = conn.of('ping');
    const oldestUnanswered = pings[2]!;
    conn.deliver('pong', oldestUnanswered);
    conn.deliver('pong', { id: 999_999, t: 0 });
    expect(await counter('tickwire_messages_dropped_total')).toMatch(/reason="stale"\} 2/);
    conn.deliver('pong', pings.at(-1)!);
    expect(await counter('tickwire_messages_dropped_total')).toMatch(/reason="stale"\} 2/);
  });
});

describe('PlayerSession: heartbeat', () => {
  it('the ping goes right behind the next snapshot (one write with it); with no snapshots, on its own one interval later', () => {
    const { scheduler, room, session } = setup();
    const { conn } = session('a');
    const names = () => conn.sent.map((m) => m.name);
    scheduler.advance(T.heartbeatIntervalMs + 1000 / 20);
    expect(conn.of('ping')).toHaveLength(1);
    const at = names().indexOf('ping');
    expect(names()[at - 1]).toBe('snapshot');
    // A snapshot and the ping behind it go in the same turn: the same scheduler instant.
    const sentAt: number[] = [];
    const start = conn.sent.length;
    const record = conn.sent.push.bind(conn.sent);
    conn.sent.push = (...items) => {
      for (let i = 0; i < items.length; i++) sentAt.push(scheduler.now());
      return record(...items);
    };
    scheduler.advance(T.heartbeatIntervalMs);
    const second = names().lastIndexOf('ping');
    expect(conn.of('ping')).toHaveLength(2);
    expect(names()[second - 1]).toBe('snapshot');
    expect(sentAt[second - start]).toBe(sentAt[second - 1 - start]);
    // The room stops sending snapshots: the owed ping still goes, alone, one interval late.
    room.loop.stop();
    const before = conn.sent.length;
    scheduler.advance(T.heartbeatIntervalMs);
    expect(conn.of('ping')).toHaveLength(2);
    scheduler.advance(T.heartbeatIntervalMs);
    expect(conn.of('ping')).toHaveLength(3);
    expect(conn.sent.slice(before).map((m) => m.name)).toEqual(['ping']);
    scheduler.advance(T.heartbeatIntervalMs);
    expect(conn.of('ping')).toHaveLength(4);
  });
});

describe('PlayerSession: life', () => {
  it('a lost connection suspends (entity kept, standing still); the resume window then ends it', () => {
    const { scheduler, room, host, session } = setup();
    const { s, conn } = session('a');
    room.input('a', { seq: 1, ack: 0, inputs: [[1, 1]] });
    conn.peerGone();
    expect(s.view).toMatchObject({ state: 'suspended', transport: null, connectedAt: null, remoteAddress: null });
    expect(s.view.connectionStats()).toBeNull();
    expect(room.getPlayer('a')).toMatchObject({ connected: false, input: { dx: 0, dy: 0 } });
    scheduler.advance(T.resumeWindowMs - 1);
    expect(host.gone).toEqual([]);
    scheduler.advance(1);
    expect(s.view.state).toBe('gone');
    expect(host.gone).toEqual([s]);
    expect(room.getPlayer('a')).toBeUndefined();
  });

  it('end(code) explains with an error message before the close; end(null) closes NORMAL without one', () => {
    const { session } = setup();
    const a = session('a');
    a.s.end(ErrorCode.SERVER_DRAINING, 'bye');
    expect(a.conn.of('error')).toEqual([{ code: ErrorCode.SERVER_DRAINING, message: `${errorInfo(ErrorCode.SERVER_DRAINING)!.description}: bye` }]);
    expect(a.conn.closeInfo?.code).toBe(ErrorCode.SERVER_DRAINING);
    const b = session('b');
    b.s.end(null, 'done');
    expect(b.conn.of('error')).toEqual([]);
    expect(b.conn.closeInfo).toMatchObject({ code: ErrorCode.NORMAL, reason: 'done' });
    b.s.end(ErrorCode.INTERNAL_ERROR, 'again'); // gone already: nothing
    expect(b.conn.of('error')).toEqual([]);
  });

  it('drain sends the game notice and the transport drain', () => {
    const { session } = setup();
    const { s, conn } = session('a');
    s.sendDrain(5000, 700);
    expect(conn.of('drain')).toEqual([{ deadlineMs: 5000, reconnectJitterMs: 700 }]);
    expect(conn.drained).toBe(1);
  });

  it('its view is read-only and follows the session', () => {
    const { scheduler, session } = setup();
    const t0 = scheduler.now();
    const { s, conn } = session('a');
    const v = s.view;
    expect(Object.isFrozen(v)).toBe(true);
    expect(() => { (v as { state: string }).state = 'gone'; }).toThrow(TypeError);
    expect(() => { (v as unknown as Record<string, unknown>).conn = null; }).toThrow(TypeError);
    expect(s.state).toBe('active');
    expect(v).toMatchObject({ playerId: 'a', name: 'a!', roomId: 'arena', entityId: s.entityId, state: 'active', transport: 'websocket', remoteAddress: 'memory', rttMs: null, startedAt: t0 });
    const stats = v.connectionStats()!;
    stats.messagesSentReliable = -1; // a copy
    expect(conn.stats().messagesSentReliable).not.toBe(-1);
  });
});
