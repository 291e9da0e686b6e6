import { randomBytes } from 'node:crypto';
import { ErrorCode } from '../../shared/errors.js';
import { decodeMessage, encodeMessage } from '../../shared/codec.js';
import { PROTOCOL_VERSION, type HelloBody } from '../../shared/messages.js';
import { MAX_ERROR_MESSAGE_LENGTH } from '../../shared/limits.js';
import type { Scheduler, Timer } from '../clock.js';
import type { GameMetrics } from '../metrics.js';
import type { RoomManager } from '../rooms/room-manager.js';
import type { Connection } from '../transports/connection.js';
import {
  DEFAULT_SESSION_TIMINGS, MAX_PENDING_CONNECTIONS, RESUME_TOKEN_BYTES, type SessionTimings,
} from './config.js';
import { PlayerSession, codeName, type PlayerSessionHost, type SnapshotChannel } from './player-session.js';
import { verifyTicket, type TicketClaims } from './tickets.js';

export interface SessionManagerOptions {
  scheduler: Scheduler;
  rooms: RoomManager;
  metrics: GameMetrics;
  /** HMAC key for join tickets (at least 16 bytes). */
  ticketSecret: string | Uint8Array;
  timings?: Partial<SessionTimings>;
  /** Channel snapshots travel on; 'reliable' isolates head-of-line blocking in experiments. */
  snapshotChannel?: SnapshotChannel;
  /** Random bytes for resume tokens (injected so tests can be exact). */
  randomBytes?: (n: number) => Uint8Array;
}

interface Pending {
  conn: Connection;
  timer: Timer | null;
  /** True once a valid hello arrived and the room lookup is under way. */
  joining: boolean;
}

/**
 * Accepts connections from any transport, runs the hello handshake (protocol version, ticket,
 * resume) and owns the player sessions. Sees only `Connection`s.
 */
export class SessionManager implements PlayerSessionHost {
  readonly scheduler: Scheduler;
  readonly metrics: GameMetrics;
  readonly timings: SessionTimings;
  readonly snapshotChannel: SnapshotChannel;
  private readonly pending = new Map<Connection, Pending>();
  private readonly byPlayer = new Map<string, PlayerSession>();
  private readonly byToken = new Map<string, PlayerSession>();
  private draining = false;
  private closed = false;
  private readonly random: (n: number) => Uint8Array;

  constructor(private readonly options: SessionManagerOptions) {
    this.scheduler = options.scheduler;
    this.metrics = options.metrics;
    this.timings = { ...DEFAULT_SESSION_TIMINGS, ...options.timings };
    this.snapshotChannel = options.snapshotChannel ?? 'unreliable';
    this.random = options.randomBytes ?? ((n) => randomBytes(n));
    this.metrics.connectionCounts = () => this.connectionCounts();
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Sessions with a live connection. */
  get activeCount(): number {
    let n = 0;
    for (const s of this.byPlayer.values()) if (s.state === 'active') n++;
    return n;
  }

  /** Every session, active or suspended. */
  sessions(): PlayerSession[] {
    return [...this.byPlayer.values()];
  }

  getSession(playerId: string): PlayerSession | undefined {
    return this.byPlayer.get(playerId);
  }

  /** Take a freshly opened transport connection; it must say hello within the hello timeout. */
  accept(conn: Connection): void {
    if (this.closed || this.draining) {
      this.closeWithError(conn, ErrorCode.SERVER_DRAINING, 'server is draining');
      return;
    }
    if (this.pending.size >= MAX_PENDING_CONNECTIONS) {
      this.closeWithError(conn, ErrorCode.INTERNAL_ERROR, 'too many connections waiting for hello');
      return;
    }
    const p: Pending = { conn, timer: null, joining: false };
    p.timer = this.scheduler.after(this.timings.helloTimeoutMs, () => {
      p.timer = null;
      this.refuse(p, ErrorCode.HELLO_TIMEOUT, 'no hello in time');
    });
    this.pending.set(conn, p);
    conn.onReliable = (bytes) => this.onPendingReliable(p, bytes);
    conn.onUnreliable = (bytes) => {
      this.metrics.bytes.inc({ channel: 'unreliable', direction: 'in' }, bytes.length);
      this.metrics.dropped.inc({ reason: 'before_hello' });
    };
    conn.onClose = () => this.forgetPending(p);
  }

  /** Open connections by transport: handshaking plus those owned by active sessions. */
  connectionCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    const add = (c: Connection) => { if (!c.closed) counts[c.transport] = (counts[c.transport] ?? 0) + 1; };
    for (const c of this.pending.keys()) add(c);
    for (const s of this.byPlayer.values()) if (s.conn) add(s.conn);
    return counts;
  }

  /** Game-level drain notice plus the transport drain to every connected client; refuse new ones. */
  drain(deadlineMs: number, reconnectJitterMs: number): void {
    this.draining = true;
    for (const p of [...this.pending.values()]) this.refuse(p, ErrorCode.SERVER_DRAINING, 'server is draining');
    for (const s of this.byPlayer.values()) s.sendDrain(deadlineMs, reconnectJitterMs);
  }

  /** Ends every session and pending connection with `code`. */
  closeAll(code: number = ErrorCode.SERVER_DRAINING, message = 'server is shutting down'): void {
    this.closed = true;
    for (const p of [...this.pending.values()]) this.refuse(p, code, message);
    for (const s of [...this.byPlayer.values()]) s.end(code, message);
  }

  // --- PlayerSessionHost ------------------------------------------------------------------------

  sessionGone(session: PlayerSession): void {
    if (this.byPlayer.get(session.playerId) === session) this.byPlayer.delete(session.playerId);
    if (this.byToken.get(session.resumeToken) === session) this.byToken.delete(session.resumeToken);
    this.options.rooms.release(session.roomId);
  }

  closeWithError(conn: Connection, code: number, message: string): void {
    if (conn.closed) return;
    this.metrics.closes.inc({ code: codeName(code) });
    try {
      const bytes = encodeMessage('error', { code, message: message.slice(0, MAX_ERROR_MESSAGE_LENGTH) });
      this.countSent(conn, 'reliable', bytes, conn.sendReliable(bytes));
    } catch {
      // Only a code outside 4000-4099 could fail here; the close below still carries it.
    }
    conn.close(code, message);
  }

  countSent(_conn: Connection, channel: 'reliable' | 'unreliable', bytes: Uint8Array, ok: boolean): void {
    if (!ok) return;
    this.metrics.countMessage(channel, 'out', bytes.length);
  }

  // --- handshake --------------------------------------------------------------------------------

  private onPendingReliable(p: Pending, bytes: Uint8Array): void {
    this.metrics.countMessage('reliable', 'in', bytes.length);
    if (p.joining) {
      // The client should wait for welcome; anything it sends meanwhile is not acted on.
      this.metrics.dropped.inc({ reason: 'before_hello' });
      return;
    }
    const r = decodeMessage(bytes, { channel: 'reliable', direction: 'c2s' });
    if (!r.ok) {
      this.metrics.invalid.inc({ reason: r.reason });
      this.refuse(p, r.code, r.detail);
      return;
    }
    if (r.name !== 'hello') {
      this.metrics.invalid.inc({ reason: 'before_hello' });
      this.refuse(p, ErrorCode.BAD_MESSAGE, `expected hello, got ${r.name}`);
      return;
    }
    const hello = r.body;
    if (hello.v !== PROTOCOL_VERSION) {
      this.refuse(p, ErrorCode.PROTOCOL_VERSION, `server speaks protocol ${PROTOCOL_VERSION}, client ${hello.v}`);
      return;
    }
    const ticket = verifyTicket(this.options.ticketSecret, hello.ticket, this.scheduler.now());
    if (!ticket.ok) {
      this.refuse(p, ticket.code, ticket.detail);
      return;
    }
    p.joining = true;
    p.timer?.cancel();
    p.timer = null;
    void this.join(p, ticket.claims, hello).catch(() => this.refuse(p, ErrorCode.INTERNAL_ERROR, 'join failed'));
  }

  private async join(p: Pending, claims: TicketClaims, hello: HelloBody): Promise<void> {
    const { conn } = p;
    // Resume: same player, same room, inside the window -> same entity, chat from lastChatId.
    if (hello.resumeToken !== undefined) {
      const s = this.byToken.get(hello.resumeToken);
      if (s && s.state !== 'gone' && s.playerId === claims.playerId && s.roomId === claims.room) {
        this.adopt(p, s, true, hello.lastChatId);
        return;
      }
    }
    const lookup = await this.options.rooms.acquire(claims.room);
    if (conn.closed || !this.pending.has(conn)) {
      if (lookup.kind === 'local') this.options.rooms.release(claims.room);
      return;
    }
    if (this.draining || this.closed) {
      this.refuse(p, ErrorCode.SERVER_DRAINING, 'server is draining');
      return;
    }
    if (lookup.kind !== 'local') {
      this.refuse(p, ErrorCode.UNKNOWN_ROOM, `no room ${claims.room} here`);
      return;
    }
    // One session per player: a second join (another tab, a lost resume token) replaces the first.
    this.byPlayer.get(claims.playerId)?.end(ErrorCode.SESSION_REPLACED, 'this player joined again');
    const room = lookup.room;
    const token = Buffer.from(this.random(RESUME_TOKEN_BYTES)).toString('base64url');
    let session: PlayerSession | null = null;
    const member = {
      playerId: claims.playerId,
      name: claims.name,
      playerJoined: (x: Parameters<PlayerSession['playerJoined']>[0]) => session?.playerJoined(x),
      playerLeft: (x: Parameters<PlayerSession['playerLeft']>[0]) => session?.playerLeft(x),
      chat: (m: Parameters<PlayerSession['chat']>[0]) => session?.chat(m),
      snapshot: (f: Parameters<PlayerSession['snapshot']>[0]) => session?.snapshot(f),
    };
    const joined = room.join(member);
    if (!joined.ok) {
      this.options.rooms.release(claims.room);
      this.refuse(p, joined.reason === 'room_full' ? ErrorCode.ROOM_FULL : ErrorCode.INTERNAL_ERROR,
        joined.reason === 'room_full' ? 'room is full' : 'room refused the join');
      return;
    }
    session = new PlayerSession(this, room, claims.playerId, claims.name, joined.player.entity.id, token);
    room.reattach(claims.playerId, session);
    this.byPlayer.set(claims.playerId, session);
    this.byToken.set(token, session);
    this.adopt(p, session, false, hello.lastChatId);
  }

  private adopt(p: Pending, session: PlayerSession, resumed: boolean, lastChatId: number | undefined): void {
    p.timer?.cancel();
    this.pending.delete(p.conn);
    session.attach(p.conn, resumed, lastChatId);
  }

  private refuse(p: Pending, code: number, message: string): void {
    this.forgetPending(p);
    this.closeWithError(p.conn, code, message);
  }

  private forgetPending(p: Pending): void {
    p.timer?.cancel();
    p.timer = null;
    this.pending.delete(p.conn);
  }
}
