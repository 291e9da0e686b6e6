import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../shared/errors.js';
import { PROTOCOL_VERSION } from '../../../shared/messages.js';
import { ManualScheduler } from '../../../server/clock.js';
import { InProcessChatFanout } from '../../../server/chat/fanout.js';
import { GameMetrics } from '../../../server/metrics.js';
import { InProcessRoomManager } from '../../../server/rooms/room-manager.js';
import { standardScene } from '../../../server/rooms/standard-scene.js';
import {
  MAX_PENDING_CONNECTIONS, MAX_SESSIONS_PER_ADDRESS, PENDING_BUSY_RETRY_AFTER_MS, PendingShares, SESSIONS_PER_ADDRESS_RETRY_AFTER_MS, SessionShares,
} from '../../../server/session/admission.js';
import { DEFAULT_SESSION_TIMINGS } from '../../../server/session/config.js';
import { SessionManager } from '../../../server/session/session-manager.js';
import { SingleUseTickets } from '../../../server/session/single-use-tickets.js';
import { mintTicket } from '../../../server/session/tickets.js';
import { MemoryConnection } from './memory-connection.js';

const secret = 'unit-secret-0123456789abcdef';

function setup(maxPending = 10, maxPendingPerAddress = 3) {
  const scheduler = new ManualScheduler();
  const metrics = new GameMetrics();
  const rooms = new InProcessRoomManager({ scheduler, fanout: new InProcessChatFanout(), metrics, defaultDefinition: standardScene });
  const sessions = new SessionManager({ scheduler, rooms, metrics, ticketSecret: secret, maxPending, maxPendingPerAddress });
  const open = (address: string) => {
    const conn = new MemoryConnection({ remoteAddress: address });
    sessions.accept(conn);
    return conn;
  };
  const refusals = () => Object.fromEntries(metrics.refusals().map((r) => [`${r.layer} ${r.reason}`, r.count]));
  return { scheduler, metrics, rooms, sessions, open, refusals };
}

describe('PendingShares', () => {
  it('takes per-address slots up to the share and the global budget, and gives them back', () => {
    const s = new PendingShares(3, 2);
    expect([s.take('a'), s.take('a'), s.take('a')]).toEqual([null, null, 'pending_per_address']);
    expect(s.take('b')).toBeNull();
    expect(s.take('c')).toBe('pending_global');
    s.give('a');
    expect(s.of('a')).toBe(1);
    expect(s.take('c')).toBeNull();
    s.give('zzz');
    expect(s.size).toBe(3);
  });

  it('an unknown address (empty key) is held to the global budget only', () => {
    const s = new PendingShares(4, 1);
    expect([s.take(''), s.take(''), s.take(''), s.take(''), s.take('')]).toEqual([null, null, null, null, 'pending_global']);
    s.give('');
    expect(s.of('')).toBe(3);
  });
});

describe('SessionShares', () => {
  it('takes slots up to the share, counts a slot about to be freed as free, and gives them back', () => {
    const s = new SessionShares(2);
    expect([s.take('a'), s.take('a'), s.take('a')]).toEqual([true, true, false]);
    // A join replacing one of the address's own sessions: that one's slot is about to come back.
    expect(s.take('a', 1)).toBe(true);
    expect(s.of('a')).toBe(3);
    s.give('a');
    expect(s.take('a')).toBe(false);
    s.give('a');
    expect(s.take('a')).toBe(true);
    s.give('nobody');
    expect(s.of('nobody')).toBe(0);
  });

  it('an unknown address (empty key) has no share; the default share is MAX_SESSIONS_PER_ADDRESS; nonsense is refused', () => {
    const s = new SessionShares(1);
    expect([s.take(''), s.take(''), s.take('')]).toEqual([true, true, true]);
    expect(new SessionShares().maxPerAddress).toBe(MAX_SESSIONS_PER_ADDRESS);
    expect(() => new SessionShares(0)).toThrow(RangeError);
  });
});

describe('SessionManager admission: live sessions per address', () => {
  function sessionSetup(maxSessionsPerAddress?: number) {
    const scheduler = new ManualScheduler();
    const metrics = new GameMetrics();
    const rooms = new InProcessRoomManager({ scheduler, fanout: new InProcessChatFanout(), metrics, defaultDefinition: standardScene });
    const sessions = new SessionManager({ scheduler, rooms, metrics, ticketSecret: secret, maxPending: MAX_PENDING_CONNECTIONS, maxPendingPerAddress: MAX_PENDING_CONNECTIONS, maxSessionsPerAddress });
    const hello = (address: string, playerId: string, room = 'arena', spectator = false) => {
      const conn = new MemoryConnection({ remoteAddress: address });
      sessions.accept(conn);
      conn.deliver('hello', { v: PROTOCOL_VERSION, ticket: mintTicket(secret, { playerId, name: playerId, room, spectator }, { now: scheduler.now() }) });
      return conn;
    };
    const settle = async () => { for (let i = 0; i < 10; i++) await Promise.resolve(); };
    const refusals = () => Object.fromEntries(metrics.refusals().map((r) => [`${r.layer} ${r.reason}`, r.count]));
    return { sessions, hello, settle, refusals };
  }

  it('by default an address holds MAX_SESSIONS_PER_ADDRESS sessions; the next is TOO_MANY_SESSIONS with its retry time; an IPv6 /64 is one address', async () => {
    const { sessions, hello, settle, refusals } = sessionSetup();
    for (let i = 0; i < MAX_SESSIONS_PER_ADDRESS; i++) hello(`2001:db8:7:7::${i + 1}`, `p${i}`);
    await settle();
    expect(sessions.activeCount).toBe(MAX_SESSIONS_PER_ADDRESS);
    const over = hello('2001:db8:7:7:ffff::1', 'over');
    await settle();
    expect(over.closeInfo?.code).toBe(ErrorCode.TOO_MANY_SESSIONS);
    expect(over.of('error')).toEqual([expect.objectContaining({ code: ErrorCode.TOO_MANY_SESSIONS, retryAfterMs: SESSIONS_PER_ADDRESS_RETRY_AFTER_MS })]);
    expect(refusals()['game sessions_per_address']).toBe(1);
    const elsewhere = hello('2001:db8:7:8::1', 'elsewhere');
    await settle();
    expect(elsewhere.of('welcome')).toHaveLength(1);
  });

  it('joins in flight count (no overshoot by a burst of hellos), and a join refused later gives its slot back', async () => {
    const { sessions, hello, settle } = sessionSetup(2);
    // Three hellos at once, before any room lookup finished: the third is refused at once.
    const burst = [hello('192.0.2.9', 'a'), hello('192.0.2.9', 'b'), hello('192.0.2.9', 'c')];
    expect(burst[2].closeInfo?.code).toBe(ErrorCode.TOO_MANY_SESSIONS);
    await settle();
    expect(burst.slice(0, 2).map((c) => c.of('welcome').length)).toEqual([1, 1]);
    sessions.getSession('a')!.end(ErrorCode.NORMAL, '');
    // A join refused after it took its slot (a spectator of a room not open) hands it back.
    const bad = hello('192.0.2.9', 'd', 'nowhere', true);
    await settle();
    expect(bad.closeInfo?.code).toBe(ErrorCode.UNKNOWN_ROOM);
    expect(bad.of('welcome')).toHaveLength(0);
    const ok = hello('192.0.2.9', 'e');
    await settle();
    expect(ok.of('welcome')).toHaveLength(1);
  });
});

describe('SessionManager admission: per-address shares of the pending-hello budget', () => {
  it('an address past its share gets SERVER_BUSY with a retry time; other addresses still get in', () => {
    const { open, sessions, refusals } = setup();
    const held = [open('198.51.100.7'), open('198.51.100.7'), open('198.51.100.7')];
    const refused = open('198.51.100.7');
    expect(refused.closeInfo?.code).toBe(ErrorCode.SERVER_BUSY);
    expect(refused.of('error')).toEqual([expect.objectContaining({ code: ErrorCode.SERVER_BUSY, retryAfterMs: PENDING_BUSY_RETRY_AFTER_MS })]);
    expect(held.every((c) => !c.closed)).toBe(true);
    expect(open('203.0.113.9').closed).toBe(false);
    expect(sessions.pendingCount).toBe(4);
    expect(refusals()['game pending_per_address']).toBe(1);
  });

  it('IPv6 addresses share per /64, and IPv4-mapped addresses count as their IPv4 address', () => {
    const { open } = setup();
    open('2001:db8:1:1::1');
    open('2001:db8:1:1::2');
    open('2001:db8:1:1:ffff::3');
    expect(open('2001:db8:1:1::4').closeInfo?.code).toBe(ErrorCode.SERVER_BUSY);
    expect(open('2001:db8:1:2::1').closed).toBe(false);
    open('192.0.2.5');
    open('::ffff:192.0.2.5');
    open('192.0.2.5');
    expect(open('::ffff:192.0.2.5').closeInfo?.code).toBe(ErrorCode.SERVER_BUSY);
  });

  it('the global budget refuses as pending_global once many addresses fill it', () => {
    const { open, refusals } = setup(4, 3);
    for (let i = 0; i < 4; i++) open(`10.0.0.${i}`);
    expect(open('10.0.0.99').closeInfo?.code).toBe(ErrorCode.SERVER_BUSY);
    expect(refusals()['game pending_global']).toBe(1);
  });

  it('a slot comes back when the hello is answered, times out, or the peer goes', async () => {
    const { open, scheduler, sessions } = setup(10, 2);
    const a = open('192.0.2.1');
    const b = open('192.0.2.1');
    a.deliver('hello', { v: PROTOCOL_VERSION, ticket: mintTicket(secret, { playerId: 'a', name: 'a', room: 'arena' }, { now: scheduler.now() }) });
    await Promise.resolve();
    await Promise.resolve();
    expect(a.of('welcome')).toHaveLength(1);
    expect(sessions.pendingCount).toBe(1);
    b.peerGone();
    expect(sessions.pendingCount).toBe(0);
    const c = open('192.0.2.1');
    open('192.0.2.1');
    scheduler.advance(DEFAULT_SESSION_TIMINGS.helloTimeoutMs);
    expect(c.closeInfo?.code).toBe(ErrorCode.HELLO_TIMEOUT);
    expect(sessions.pendingCount).toBe(0);
    expect(open('192.0.2.1').closed).toBe(false);
  });
});

describe('single-use tickets', () => {
  it('start one session; a later fresh hello is refused and replaces nothing; a resume is fine', async () => {
    const { open, sessions, scheduler, refusals } = setup();
    const ticket = mintTicket(secret, { playerId: 'dev-1', name: 'd', room: 'arena', once: true }, { now: scheduler.now() });
    const hello = async (conn: MemoryConnection, extra = {}) => {
      conn.deliver('hello', { v: PROTOCOL_VERSION, ticket, ...extra });
      await Promise.resolve();
      await Promise.resolve();
    };
    const a = open('192.0.2.1');
    await hello(a);
    const w = a.of('welcome')[0]!;
    const b = open('192.0.2.1');
    await hello(b);
    expect(b.closeInfo?.code).toBe(ErrorCode.TICKET_INVALID);
    expect(a.closed).toBe(false);
    expect(refusals()['game ticket_reused']).toBe(1);
    const c = open('192.0.2.1');
    await hello(c, { resumeToken: w.resumeToken });
    expect(c.of('welcome')[0]).toMatchObject({ resumed: true, entityId: w.entityId });
    expect(sessions.getSession('dev-1')!.conn).toBe(c);
  });

  it('the registry forgets tickets once they expire, and refuses when full until one does', () => {
    const r = new SingleUseTickets(2);
    expect(r.take('a', 100, 0)).toEqual({ ok: true });
    expect(r.take('a', 100, 50)).toEqual({ ok: false, reason: 'used' });
    expect(r.take('b', 200, 50)).toEqual({ ok: true });
    expect(r.take('c', 300, 60)).toEqual({ ok: false, reason: 'full', retryAfterMs: 40 });
    expect(r.take('c', 300, 100)).toEqual({ ok: true });
    r.giveBack('c');
    expect(r.size).toBe(1);
  });
});

describe('the protocol-error rule in the session layer', () => {
  it('a transport protocol error in a session: counted, `error` first, session ended (no resume)', async () => {
    const { open, sessions, scheduler, metrics, refusals } = setup();
    const a = open('192.0.2.1');
    a.deliver('hello', { v: PROTOCOL_VERSION, ticket: mintTicket(secret, { playerId: 'a', name: 'a', room: 'arena' }, { now: scheduler.now() }) });
    await Promise.resolve();
    await Promise.resolve();
    a.protocolError({ code: ErrorCode.BAD_MESSAGE, reason: 'decode', kind: 'text_frame' });
    expect(a.closeInfo?.code).toBe(ErrorCode.BAD_MESSAGE);
    expect(a.of('error').map((e) => e.code)).toEqual([ErrorCode.BAD_MESSAGE]);
    expect(sessions.getSession('a')).toBeUndefined();
    expect(refusals()['game protocol_text_frame']).toBe(1);
    expect((await metrics.closes.get()).values).toEqual([expect.objectContaining({ labels: { code: 'BAD_MESSAGE' }, value: 1 })]);
    expect((await metrics.invalid.get()).values).toEqual([expect.objectContaining({ labels: { reason: 'decode' }, value: 1 })]);
  });

  it('a transport close of its own (a slow reader) is counted once in the close metric; the session may resume', async () => {
    const { open, sessions, scheduler, metrics } = setup();
    const a = open('192.0.2.1');
    a.deliver('hello', { v: PROTOCOL_VERSION, ticket: mintTicket(secret, { playerId: 'a', name: 'a', room: 'arena' }, { now: scheduler.now() }) });
    await Promise.resolve();
    await Promise.resolve();
    a.close(ErrorCode.SLOW_CONSUMER, 'reliable send buffer limit exceeded');
    expect(sessions.getSession('a')!.state).toBe('suspended');
    expect((await metrics.closes.get()).values).toEqual([expect.objectContaining({ labels: { code: 'SLOW_CONSUMER' }, value: 1 })]);
  });
});
