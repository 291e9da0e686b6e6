import { randomBytes } from 'node:crypto';
import { ErrorCode, errorInfo } from '../../shared/errors.js';
import { decodeMessage, encodeMessage } from '../../shared/codec.js';
import { channelOf, PROTOCOL_VERSION, type Channel, type HelloBody } from '../../shared/messages.js';
import { MAX_DURATION_MS, MAX_ERROR_MESSAGE_LENGTH } from '../../shared/limits.js';
import { FALLBACK_DISPLAY_NAME, sanitizeDisplayName } from '../../shared/text.js';
import { addressKey } from '../address.js';
import type { Scheduler, Timer } from '../clock.js';
import type { GameMetrics } from '../metrics.js';
import type { RoomManager } from '../rooms/room-manager.js';
import { sendOnChannel, type CloseInfo, type Connection, type ProtocolError } from '../transports/connection.js';
import { MAX_PENDING_CONNECTIONS, MAX_PENDING_PER_ADDRESS, PENDING_BUSY_RETRY_AFTER_MS, PendingShares } from './admission.js';
import { DEFAULT_SESSION_TIMINGS, RESUME_TOKEN_BYTES, type SessionTimings } from './config.js';
import { PlayerSession, codeName, type PlayerSessionHost, type SnapshotChannel } from './player-session.js';
import { SingleUseTickets } from './single-use-tickets.js';
import { verifyTicket, type TicketClaims } from './tickets.js';

export interface SessionManagerOptions {
  scheduler: Scheduler;
  rooms: RoomManager;
  metrics: GameMetrics;
  /** HMAC key for join tickets (at least 16 bytes). */
  ticketSecret: string | Uint8Array;
  timings?: Partial<SessionTimings>;
  /** Channel snapshots travel on (default the table's); 'reliable' isolates head-of-line blocking in experiments. */
  snapshotChannel?: SnapshotChannel;
  /** Random bytes for resume tokens (injected so tests can be exact). */
  randomBytes?: (n: number) => Uint8Array;
  /** Connections waiting for their hello: in total, and per address (server/session/admission.ts). */
  maxPending?: number;
  maxPendingPerAddress?: number;
  /**
   * Players of single-use tickets (dev tickets) share one chat limit per address (default true),
   * so that fresh tickets are not fresh chat bursts; false for load generators on one machine.
   */
  singleUseChatPerAddress?: boolean;
}

interface Pending {
  conn: Connection;
  /** Admission key of the peer's address (its pending share). */
  address: string;
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
  private readonly shares: PendingShares;
  private readonly byPlayer = new Map<string, PlayerSession>();
  private readonly byToken = new Map<string, PlayerSession>();
  private readonly usedTickets = new SingleUseTickets();
  private draining = false;
  private closed = false;
  private readonly random: (n: number) => Uint8Array;

  constructor(private readonly options: SessionManagerOptions) {
    this.scheduler = options.scheduler;
    this.metrics = options.metrics;
    this.timings = { ...DEFAULT_SESSION_TIMINGS, ...options.timings };
    this.snapshotChannel = options.snapshotChannel ?? channelOf('snapshot');
    this.random = options.randomBytes ?? ((n) => randomBytes(n));
    this.shares = new PendingShares(options.maxPending ?? MAX_PENDING_CONNECTIONS, options.maxPendingPerAddress ?? MAX_PENDING_PER_ADDRESS);
    this.metrics.connectionCounts = () => this.connectionCounts();
  }

  /** Connections waiting for their hello (all addresses). */
  get pendingCount(): number {
    return this.shares.size;
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

  /**
   * Take a freshly opened transport connection; it must say hello within the hello timeout. It
   * takes a slot of its address's pending share; without one it is refused with SERVER_BUSY and
   * a retry time.
   */
  accept(conn: Connection): void {
    conn.onProtocolError = (error) => this.protocolError(conn, error);
    if (this.closed || this.draining) {
      this.metrics.refuse('game', 'draining');
      this.closeWithError(conn, ErrorCode.SERVER_DRAINING);
      return;
    }
    const address = addressKey(conn.remoteAddress);
    const refused = this.shares.take(address);
    if (refused) {
      this.metrics.refuse('game', refused);
      this.closeWithError(conn, ErrorCode.SERVER_BUSY, undefined, PENDING_BUSY_RETRY_AFTER_MS);
      return;
    }
    const p: Pending = { conn, address, timer: null, joining: false };
    p.timer = this.scheduler.after(this.timings.helloTimeoutMs, () => {
      p.timer = null;
      this.metrics.refuse('game', 'hello_timeout');
      this.refuse(p, ErrorCode.HELLO_TIMEOUT);
    });
    this.pending.set(conn, p);
    conn.onReliable = (bytes) => this.onPendingReliable(p, bytes);
    conn.onUnreliable = (bytes) => {
      this.metrics.bytes.inc({ channel: 'unreliable', direction: 'in' }, bytes.length);
      this.metrics.dropped.inc({ reason: 'before_hello' });
    };
    conn.onClose = (info) => {
      this.countTransportClose(info);
      this.forgetPending(p);
    };
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
    for (const p of [...this.pending.values()]) this.refuse(p, ErrorCode.SERVER_DRAINING);
    for (const s of this.byPlayer.values()) s.sendDrain(deadlineMs, reconnectJitterMs);
  }

  /** Ends every session and pending connection with `code` (`note`: a fixed text from our code). */
  closeAll(code: number = ErrorCode.SERVER_DRAINING, note?: string): void {
    this.closed = true;
    for (const p of [...this.pending.values()]) this.refuse(p, code, note);
    for (const s of [...this.byPlayer.values()]) s.end(code, note ?? '');
  }

  // --- PlayerSessionHost ------------------------------------------------------------------------

  sessionGone(session: PlayerSession): void {
    if (this.byPlayer.get(session.playerId) === session) this.byPlayer.delete(session.playerId);
    if (this.byToken.get(session.resumeToken) === session) this.byToken.delete(session.resumeToken);
    this.options.rooms.release(session.roomId);
  }

  /**
   * Sends `error` and closes `conn` with `code`, counted in tickwire_session_closes_total. The
   * text, in the `error` message and the close reason alike, is the catalogue's description of
   * the code, optionally followed by `note`, a fixed text from our code: never anything the peer
   * sent. `retryAfterMs` goes in the `error` message (SERVER_BUSY).
   */
  closeWithError(conn: Connection, code: number, note?: string, retryAfterMs?: number): void {
    if (conn.closed) return;
    this.metrics.closes.inc({ code: codeName(code) });
    const description = errorInfo(code)?.description ?? 'closed';
    const text = (note ? `${description}: ${note}` : description).slice(0, MAX_ERROR_MESSAGE_LENGTH);
    try {
      const retry = retryAfterMs === undefined ? {} : { retryAfterMs: Math.min(MAX_DURATION_MS, Math.max(0, Math.ceil(retryAfterMs))) };
      const bytes = encodeMessage('error', { code, message: text, ...retry });
      const channel = channelOf('error');
      this.countSent(conn, channel, bytes, sendOnChannel(conn, channel, bytes));
    } catch {
      // Only a code outside 4000-4099 could fail here; the close below still carries it.
    }
    // Closed by our hand and counted above: not again as a transport's own close.
    conn.onClose = null;
    conn.close(code, text);
  }

  /**
   * The one rule for a protocol error, whatever the layer (the transport's framing, the message
   * codec, the handshake) or the transport: counted (tickwire_messages_invalid_total{reason} and
   * tickwire_refusals_total{layer="game",reason="protocol_<kind>"}), then `error` and the close
   * (closeWithError, counted in tickwire_session_closes_total), and the session ends for good:
   * no resume. docs/server.md, "Which errors close and which drop".
   */
  protocolError(conn: Connection, error: ProtocolError, session?: PlayerSession): void {
    if (conn.closed) return;
    this.metrics.invalid.inc({ reason: error.reason });
    this.metrics.refuse('game', `protocol_${error.kind}`);
    const p = this.pending.get(conn);
    if (p) {
      this.refuse(p, error.code, error.kind);
      return;
    }
    if (session && session.conn === conn) {
      session.end(error.code, error.kind);
      return;
    }
    this.closeWithError(conn, error.code, error.kind);
  }

  /**
   * A connection a transport closed on its own (a slow reader, a stream never opened): counted in
   * tickwire_session_closes_total like the closes we make through closeWithError, and when the
   * peer caused it as a refusal (`slow_consumer`, `hello_timeout`).
   */
  countTransportClose(info: CloseInfo): void {
    const known = errorInfo(info.code);
    if (info.byPeer || !known) return;
    this.metrics.closes.inc({ code: known.name });
    if (known.peerCaused) this.metrics.refuse('game', known.name.toLowerCase());
  }

  countSent(_conn: Connection, channel: Channel, bytes: Uint8Array, ok: boolean): void {
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
      this.protocolError(p.conn, { code: r.code, reason: r.reason, kind: r.reason });
      return;
    }
    if (r.name !== 'hello') {
      this.protocolError(p.conn, { code: ErrorCode.BAD_MESSAGE, reason: 'before_hello', kind: 'before_hello' });
      return;
    }
    const hello = r.body;
    if (hello.v !== PROTOCOL_VERSION) {
      this.metrics.refuse('game', 'protocol_version');
      this.refuse(p, ErrorCode.PROTOCOL_VERSION, `this server speaks ${PROTOCOL_VERSION}`);
      return;
    }
    const ticket = verifyTicket(this.options.ticketSecret, hello.ticket, this.scheduler.now());
    if (!ticket.ok) {
      this.metrics.refuse('game', ticket.code === ErrorCode.TICKET_EXPIRED ? 'ticket_expired' : 'ticket_invalid');
      this.refuse(p, ticket.code);
      return;
    }
    p.joining = true;
    p.timer?.cancel();
    p.timer = null;
    void this.join(p, ticket.claims, hello, ticketKey(hello.ticket)).catch(() => this.refuse(p, ErrorCode.INTERNAL_ERROR));
  }

  private async join(p: Pending, claims: TicketClaims, hello: HelloBody, ticket: string): Promise<void> {
    const { conn } = p;
    // Resume: same player, same room, inside the window -> same entity, chat from lastChatId.
    if (hello.resumeToken !== undefined) {
      const s = this.byToken.get(hello.resumeToken);
      if (s && s.state !== 'gone' && s.playerId === claims.playerId && s.roomId === claims.room) {
        this.adopt(p, s, true, hello.lastChatId);
        return;
      }
    }
    // A single-use ticket (dev tickets) starts one session; after that only a resume may use it.
    if (claims.once) {
      const use = this.usedTickets.take(ticket, claims.exp, this.scheduler.now());
      if (!use.ok) {
        this.metrics.refuse('game', use.reason === 'used' ? 'ticket_reused' : 'single_use_registry_full');
        if (use.reason === 'used') this.refuse(p, ErrorCode.TICKET_INVALID, 'single-use ticket already used');
        else this.refuse(p, ErrorCode.SERVER_BUSY, undefined, use.retryAfterMs);
        return;
      }
    }
    const giveTicketBack = () => { if (claims.once) this.usedTickets.giveBack(ticket); };
    const lookup = await this.options.rooms.acquire(claims.room);
    if (conn.closed || !this.pending.has(conn)) {
      giveTicketBack();
      if (lookup.kind === 'local') this.options.rooms.release(claims.room);
      return;
    }
    if (this.draining || this.closed) {
      giveTicketBack();
      if (lookup.kind === 'local') this.options.rooms.release(claims.room);
      this.metrics.refuse('game', 'draining');
      this.refuse(p, ErrorCode.SERVER_DRAINING);
      return;
    }
    if (lookup.kind === 'busy') {
      giveTicketBack();
      this.metrics.refuse('game', 'room_cap');
      this.refuse(p, ErrorCode.SERVER_BUSY, 'no room slot free', lookup.retryAfterMs);
      return;
    }
    if (lookup.kind !== 'local') {
      giveTicketBack();
      this.metrics.refuse('game', 'unknown_room');
      this.refuse(p, ErrorCode.UNKNOWN_ROOM);
      return;
    }
    // One session per player: a second join (another tab, a lost resume token) replaces the first.
    this.byPlayer.get(claims.playerId)?.end(ErrorCode.SESSION_REPLACED, 'this player joined again');
    const room = lookup.room;
    const token = Buffer.from(this.random(RESUME_TOKEN_BYTES)).toString('base64url');
    // Names are broadcast to every player: cleaned like chat (shared/text.ts), whoever minted them.
    const name = sanitizeDisplayName(claims.name) || FALLBACK_DISPLAY_NAME;
    let session: PlayerSession | null = null;
    const member = {
      playerId: claims.playerId,
      name,
      playerJoined: (x: Parameters<PlayerSession['playerJoined']>[0]) => session?.playerJoined(x),
      playerLeft: (x: Parameters<PlayerSession['playerLeft']>[0]) => session?.playerLeft(x),
      chat: (m: Parameters<PlayerSession['chat']>[0]) => session?.chat(m),
      snapshot: (f: Parameters<PlayerSession['snapshot']>[0]) => session?.snapshot(f),
    };
    const joined = room.join(member);
    if (!joined.ok) {
      giveTicketBack();
      this.options.rooms.release(claims.room);
      const full = joined.reason === 'room_full';
      this.metrics.refuse('game', full ? 'room_full' : 'room_refused');
      this.refuse(p, full ? ErrorCode.ROOM_FULL : ErrorCode.INTERNAL_ERROR);
      return;
    }
    session = new PlayerSession(this, room, claims.playerId, name, joined.player.entity.id, token);
    // Dev players share a chat limit per address: a fresh dev ticket must not be a fresh burst.
    if (claims.once && this.options.singleUseChatPerAddress !== false) session.chatLimitKey = p.address;
    room.reattach(claims.playerId, session);
    this.byPlayer.set(claims.playerId, session);
    this.byToken.set(token, session);
    this.adopt(p, session, false, hello.lastChatId);
  }

  private adopt(p: Pending, session: PlayerSession, resumed: boolean, lastChatId: number | undefined): void {
    this.forgetPending(p);
    session.attach(p.conn, resumed, lastChatId);
  }

  private refuse(p: Pending, code: number, note?: string, retryAfterMs?: number): void {
    this.forgetPending(p);
    this.closeWithError(p.conn, code, note, retryAfterMs);
  }

  private forgetPending(p: Pending): void {
    p.timer?.cancel();
    p.timer = null;
    if (this.pending.delete(p.conn)) this.shares.give(p.address);
  }
}

/** What identifies one ticket among those of a player: its signature (the part after the dot). */
function ticketKey(ticket: string): string {
  return ticket.slice(ticket.indexOf('.') + 1);
}
