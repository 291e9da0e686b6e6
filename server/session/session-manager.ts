/*
 * Size: about 600 lines, over the ~400 of the guide: the one place that turns a hello into a
 * session (admission and the address's session share, ticket, resume, room lookup on a single
 * node or a cluster, seats for players and spectators, drain, restore) keeps every refusal's
 * code and counter in one path.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, errorInfo } from '../../shared/errors.js';
import { decodeMessage, encodeMessage } from '../../shared/codec.js';
import { channelOf, PROTOCOL_VERSION, type Channel, type HelloBody } from '../../shared/messages.js';
import { MAX_DURATION_MS, MAX_ERROR_MESSAGE_LENGTH } from '../../shared/limits.js';
import { FALLBACK_DISPLAY_NAME, sanitizeDisplayName } from '../../shared/text.js';
import { addressKey } from '../address.js';
import type { Scheduler, Timer } from '../clock.js';
import type { GameMetrics } from '../metrics.js';
import type { Room } from '../rooms/room.js';
import type { RoomManager } from '../rooms/room-manager.js';
import type { SeatState } from '../rooms/room-state.js';
import { sendOnChannel, type CloseInfo, type Connection, type ProtocolError, type SendUnreliableOptions } from '../transports/connection.js';
import {
  MAX_PENDING_CONNECTIONS, MAX_PENDING_PER_ADDRESS, MAX_SESSIONS_PER_ADDRESS, PENDING_BUSY_RETRY_AFTER_MS, PendingShares,
  SESSIONS_PER_ADDRESS_RETRY_AFTER_MS, SessionShares,
} from './admission.js';
import { DEFAULT_SESSION_TIMINGS, RESUME_TOKEN_BYTES, type SessionTimings } from './config.js';
import { HeartbeatSweep } from './heartbeat-sweep.js';
import {
  PlayerSession, codeName, resumeTokenHash, sessionKey, type DrainTarget, type PlayerSessionHost, type SnapshotChannel,
} from './player-session.js';
import { SingleUseTickets, type TicketUseRegistry } from './single-use-tickets.js';
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
  /** Live sessions (active and suspended) one address may hold (default MAX_SESSIONS_PER_ADDRESS). */
  maxSessionsPerAddress?: number;
  /**
   * Players of single-use tickets (dev tickets) share one chat limit per address (default true),
   * so that fresh tickets are not fresh chat bursts; false for load generators on one machine.
   */
  singleUseChatPerAddress?: boolean;
}

/** A per-node rate limit on hellos (cluster admission, server/cluster/admission.ts). */
export type HelloAdmission = () => { ok: true } | { ok: false; retryAfterMs: number };

/** What a cluster node adds to the session layer (wired by server/cluster-mode.ts at listen). */
export interface SessionClusterHooks {
  /** This node's id, named in every welcome. */
  nodeId: string;
  /** Over the limit: the hello is refused with SERVER_BUSY and its retry time. */
  admitHello: HelloAdmission;
  /** The single-use ticket registry shared by every node (Redis). */
  ticketUses: TicketUseRegistry;
}

/** A seat of a room restored from another node, and the hash of its session's resume token. */
export interface RestoredSeat {
  seat: SeatState;
  resumeTokenHash: string | null;
  /** The session's highest accepted chat seq on the node it came from (0: none). */
  lastChatSeq?: number;
}

/** A spectator restored from another node's checkpoint (cluster): no entity, resumable by its token hash. */
export interface RestoredWatcher {
  playerId: string;
  name: string;
  resumeTokenHash: string;
}

export interface SessionDrainOptions {
  /**
   * Cluster: keep taking hellos while draining; they are answered by the room manager (a room
   * handed over gets WRONG_NODE, a room still here is resumed). Default: refuse with
   * SERVER_DRAINING.
   */
  keepAccepting?: boolean;
  /** Cluster: where each room went, named in its members' drain notice. */
  target?: (roomId: string) => DrainTarget | null;
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
  readonly heartbeats: HeartbeatSweep;
  readonly snapshotChannel: SnapshotChannel;
  private readonly pending = new Map<Connection, Pending>();
  private readonly shares: PendingShares;
  /** Live sessions (and joins in flight) per address key: TOO_MANY_SESSIONS beyond the share. */
  private readonly sessionShares: SessionShares;
  /** The address key each session's slot is held under (the address that started it). */
  private readonly sessionAddress = new Map<PlayerSession, string>();
  private readonly byPlayer = new Map<string, PlayerSession>();
  /** Sessions by the hash of their resume token (resumeTokenHash). */
  private readonly byToken = new Map<string, PlayerSession>();
  private usedTickets: TicketUseRegistry = new SingleUseTickets();
  private cluster: SessionClusterHooks | null = null;
  private draining = false;
  private keepAccepting = false;
  private closed = false;
  private readonly random: (n: number) => Uint8Array;

  constructor(private readonly options: SessionManagerOptions) {
    this.scheduler = options.scheduler;
    this.metrics = options.metrics;
    this.timings = { ...DEFAULT_SESSION_TIMINGS, ...options.timings };
    this.heartbeats = new HeartbeatSweep(this.scheduler, this.timings.heartbeatIntervalMs);
    this.snapshotChannel = options.snapshotChannel ?? channelOf('snapshot');
    this.random = options.randomBytes ?? ((n) => randomBytes(n));
    this.shares = new PendingShares(options.maxPending ?? MAX_PENDING_CONNECTIONS, options.maxPendingPerAddress ?? MAX_PENDING_PER_ADDRESS);
    this.sessionShares = new SessionShares(options.maxSessionsPerAddress ?? MAX_SESSIONS_PER_ADDRESS);
    this.metrics.connectionCounts = () => this.connectionCounts();
  }

  /** This server's cluster node id (named in welcomes), or null on a single server. */
  get nodeId(): string | null {
    return this.cluster?.nodeId ?? null;
  }

  /** Cluster mode (server/cluster-mode.ts): admission on hellos, the shared ticket registry, the node id. */
  useCluster(hooks: SessionClusterHooks): void {
    this.cluster = hooks;
    this.usedTickets = hooks.ticketUses;
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

  /** The player session of `playerId` (a spectator's: `getSession(sessionKey('spectator', id))`). */
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
    if (this.closed || (this.draining && !this.keepAccepting)) {
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

  /**
   * Game-level drain notice plus the transport drain to every connected client; new connections
   * are refused (unless `keepAccepting`: a cluster node redirects them while it drains).
   */
  drain(deadlineMs: number, reconnectJitterMs: number, options: SessionDrainOptions = {}): void {
    this.draining = true;
    this.keepAccepting = options.keepAccepting === true;
    if (!this.keepAccepting) for (const p of [...this.pending.values()]) this.refuse(p, ErrorCode.SERVER_DRAINING);
    for (const s of this.byPlayer.values()) s.sendDrain(deadlineMs, reconnectJitterMs, options.target?.(s.roomId));
  }

  /**
   * Seats of a room just restored from another node's checkpoint (cluster): each becomes a
   * suspended session its client resumes with its old token (checked by hash). Seats that
   * cannot be resumed (no token hash, or the player already has a session here) leave the room.
   * Returns the sessions created: each holds the room until it ends.
   */
  restoreSeats(room: Room, seats: readonly RestoredSeat[], watchers: readonly RestoredWatcher[] = []): number {
    let restored = 0;
    for (const { seat, resumeTokenHash: hash, lastChatSeq } of seats) {
      if (!room.getPlayer(seat.playerId)) continue; // not restored by the room (full, clashing id)
      if (hash === null || this.byPlayer.has(seat.playerId) || this.byToken.has(hash)) {
        room.leave(seat.playerId);
        continue;
      }
      const session = new PlayerSession(this, room, seat.playerId, seat.name, seat.entity.id, { hash });
      session.lastChatSeq = lastChatSeq ?? 0;
      room.reattach(seat.playerId, session);
      this.byPlayer.set(seat.playerId, session);
      this.byToken.set(hash, session);
      session.startRestored();
      restored++;
    }
    // Spectators come back the same way, as spectators: a suspended spectator seat their client
    // resumes with its old token (the role is checked on resume, as for players).
    for (const w of watchers) {
      const key = sessionKey('spectator', w.playerId);
      if (this.byPlayer.has(key) || this.byToken.has(w.resumeTokenHash)) continue;
      const session = new PlayerSession(this, room, w.playerId, w.name, 0, { hash: w.resumeTokenHash }, 'spectator');
      if (!room.watch(session).ok) continue; // the spectator limit (a definition that lowered it)
      this.byPlayer.set(key, session);
      this.byToken.set(w.resumeTokenHash, session);
      session.startRestored();
      restored++;
    }
    return restored;
  }

  /**
   * The room stopped here (cluster: its lease was lost): its sessions end with `code` (and a
   * retry time) without leaving the room, which lives on elsewhere; their clients reconnect and
   * resume there.
   */
  endRoom(roomId: string, code: number, retryAfterMs?: number): void {
    for (const s of [...this.byPlayer.values()]) if (s.roomId === roomId) s.end(code, '', retryAfterMs);
  }

  /** The resume-token hash of `playerId`'s (or spectator `playerId`'s) session in `roomId`, for a checkpoint (cluster). */
  tokenHashOf(roomId: string, playerId: string, spectator = false): string | null {
    const s = this.byPlayer.get(sessionKey(spectator ? 'spectator' : 'player', playerId));
    return s && s.roomId === roomId && s.state !== 'gone' ? s.resumeTokenHash : null;
  }

  /** The highest accepted chat seq of `playerId`'s session in `roomId` (0: none), for a checkpoint (cluster). */
  lastChatSeqOf(roomId: string, playerId: string): number {
    const s = this.byPlayer.get(sessionKey('player', playerId));
    return s && s.roomId === roomId && s.state !== 'gone' ? s.lastChatSeq : 0;
  }

  /** Ends every session and pending connection with `code` (`note`: a fixed text from our code). */
  closeAll(code: number = ErrorCode.SERVER_DRAINING, note?: string): void {
    this.closed = true;
    for (const p of [...this.pending.values()]) this.refuse(p, code, note);
    for (const s of [...this.byPlayer.values()]) s.end(code, note ?? '');
  }

  // --- PlayerSessionHost ------------------------------------------------------------------------

  sessionGone(session: PlayerSession): void {
    const address = this.sessionAddress.get(session);
    if (address !== undefined) {
      this.sessionAddress.delete(session);
      this.sessionShares.give(address);
    }
    if (this.byPlayer.get(session.key) === session) this.byPlayer.delete(session.key);
    if (this.byToken.get(session.resumeTokenHash) === session) this.byToken.delete(session.resumeTokenHash);
    this.options.rooms.release(session.roomId, session.spectator ? undefined : session.playerId);
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
      this.sendCounted(conn, channelOf('error'), bytes);
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

  sendCounted(conn: Connection, channel: Channel, bytes: Uint8Array, options?: SendUnreliableOptions, stampAt = -1, stamp = 0): boolean {
    const ok = sendOnChannel(conn, channel, bytes, options, stampAt, stamp);
    if (ok) this.metrics.countMessage(channel, 'out', bytes.length);
    return ok;
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
    // Cluster admission first: in a reconnect storm a refusal must cost as little as possible.
    const admitted = this.cluster?.admitHello() ?? null;
    if (admitted && !admitted.ok) {
      this.metrics.refuse('game', 'admission');
      this.refuse(p, ErrorCode.SERVER_BUSY, 'too many sessions starting on this node', admitted.retryAfterMs);
      return;
    }
    const ticket = verifyTicket(this.options.ticketSecret, hello.ticket, this.scheduler.now());
    // An expired ticket may still resume a live session of its player (the ticket bounds when a
    // session may start, not how long it may last: a player who lost the connection after the
    // ticket's lifetime keeps its entity and chat); it never starts one.
    const resumable = !ticket.ok && ticket.code === ErrorCode.TICKET_EXPIRED && this.resumable(hello.resumeToken, ticket.claims);
    if (!ticket.ok && !resumable) {
      this.metrics.refuse('game', ticket.code === ErrorCode.TICKET_EXPIRED ? 'ticket_expired' : 'ticket_invalid');
      this.refuse(p, ticket.code);
      return;
    }
    p.joining = true;
    p.timer?.cancel();
    p.timer = null;
    void this.join(p, ticket.claims!, hello, ticketKey(hello.ticket)).catch(() => this.refuse(p, ErrorCode.INTERNAL_ERROR));
  }

  /**
   * The live session `resumeToken` names (looked up by its hash), when it is `claims`' player's
   * in `claims`' room with the same role, and the room still runs here (a stopped room was handed
   * over or lost its lease: it lives on elsewhere).
   */
  private resumable(resumeToken: string | undefined, claims: TicketClaims): PlayerSession | null {
    if (resumeToken === undefined) return null;
    const s = this.byToken.get(resumeTokenHash(resumeToken));
    return s && s.state !== 'gone' && s.playerId === claims.playerId && s.roomId === claims.room
      && s.role === (claims.role ?? 'player') && !s.room.isStopped ? s : null;
  }

  private async join(p: Pending, claims: TicketClaims, hello: HelloBody, ticket: string): Promise<void> {
    // Resume: same player, same room, same role, inside the window -> same seat, chat from
    // lastChatId. Never refused by the address's session share: the session counts already.
    const local = this.resumable(hello.resumeToken, claims);
    if (local) {
      this.adopt(p, local, true, hello);
      return;
    }
    if (claims.exp <= this.scheduler.now()) {
      // An expired ticket whose session went while the join was decided: it starts nothing.
      this.metrics.refuse('game', 'ticket_expired');
      this.refuse(p, ErrorCode.TICKET_EXPIRED);
      return;
    }
    // A new session takes a slot of its address's share now, before the room lookup, so that
    // joins in flight count too. The session this join would replace (same player, started from
    // this address) gives its slot back when replaced: it does not count against the join.
    const replaced = this.byPlayer.get(sessionKey(claims.role ?? 'player', claims.playerId));
    const freed = replaced && this.sessionAddress.get(replaced) === p.address ? 1 : 0;
    if (!this.sessionShares.take(p.address, freed)) {
      this.metrics.refuse('game', 'sessions_per_address');
      this.refuse(p, ErrorCode.TOO_MANY_SESSIONS, undefined, SESSIONS_PER_ADDRESS_RETRY_AFTER_MS);
      return;
    }
    let kept = false;
    try {
      kept = await this.startSession(p, claims, hello, ticket);
    } finally {
      if (!kept) this.sessionShares.give(p.address);
    }
  }

  /**
   * The rest of a join that may start a session (the address's slot is taken): room lookup,
   * single-use ticket, seat. True when a new session was started and holds the slot.
   */
  private async startSession(p: Pending, claims: TicketClaims, hello: HelloBody, ticket: string): Promise<boolean> {
    const { conn } = p;
    const rooms = this.options.rooms;
    const room = claims.room;
    const role = claims.role ?? 'player';
    // Spectators watch rooms that are open; they never open one (on a cluster node, a room that
    // runs elsewhere is answered below with WRONG_NODE like a player's).
    if (role === 'spectator' && !this.cluster && !rooms.get(room)) {
      this.metrics.refuse('game', 'unknown_room');
      this.refuse(p, ErrorCode.UNKNOWN_ROOM, 'no such room is open to watch');
      return false;
    }
    const lookup = await rooms.acquire(room);
    const held = lookup.kind === 'local';
    const gone = () => conn.closed || !this.pending.has(conn);
    /** Refuse the hello (counted as `reason`), giving back what the join took so far. */
    const refuse = (code: number, reason: string, note?: string, retryAfterMs?: number, ticketTaken = false) => {
      if (ticketTaken) void this.usedTickets.giveBack(ticket);
      if (held) rooms.release(room);
      this.metrics.refuse('game', reason);
      this.refuse(p, code, note, retryAfterMs);
    };
    if (gone()) {
      if (held) rooms.release(room);
      return false;
    }
    if ((this.draining && !this.keepAccepting) || this.closed) {
      refuse(ErrorCode.SERVER_DRAINING, 'draining');
      return false;
    }
    switch (lookup.kind) {
      case 'local':
        break;
      case 'busy':
        refuse(ErrorCode.SERVER_BUSY, 'room_cap', 'no room slot free', lookup.retryAfterMs);
        return false;
      case 'remote':
        refuse(ErrorCode.WRONG_NODE, 'wrong_node');
        return false;
      case 'unavailable':
        refuse(ErrorCode.CLUSTER_UNAVAILABLE, 'cluster_unavailable', undefined, lookup.retryAfterMs);
        return false;
      default:
        refuse(ErrorCode.UNKNOWN_ROOM, 'unknown_room');
        return false;
    }
    // A seat restored from another node: the acquire above may just have brought it back.
    const restored = this.resumable(hello.resumeToken, claims);
    if (restored) {
      rooms.release(room); // the restored session holds the room itself
      this.adopt(p, restored, true, hello);
      return false;
    }
    // A single-use ticket (dev tickets) starts one session; after that only a resume may use it.
    if (claims.once) {
      const use = await this.usedTickets.take(ticket, claims.exp, this.scheduler.now());
      if (!use.ok) {
        if (use.reason === 'used') refuse(ErrorCode.TICKET_INVALID, 'ticket_reused', 'single-use ticket already used');
        else if (use.reason === 'full') refuse(ErrorCode.SERVER_BUSY, 'single_use_registry_full', undefined, use.retryAfterMs);
        else refuse(ErrorCode.CLUSTER_UNAVAILABLE, 'cluster_unavailable', undefined, use.retryAfterMs);
        return false;
      }
    }
    const ticketTaken = claims.once === true;
    // Cluster: the room's shared seat count (connect-info reservations on any node included);
    // spectators take no player seat.
    if (rooms.admit && role === 'player') {
      const seat = await rooms.admit(room, claims.playerId);
      if (!seat.ok) {
        if (seat.reason === 'full') refuse(ErrorCode.ROOM_FULL, 'room_full', undefined, undefined, ticketTaken);
        else refuse(ErrorCode.CLUSTER_UNAVAILABLE, 'cluster_unavailable', undefined, seat.retryAfterMs, ticketTaken);
        return false;
      }
    }
    if (gone()) {
      if (ticketTaken) void this.usedTickets.giveBack(ticket);
      rooms.release(room, role === 'player' ? claims.playerId : undefined);
      return false;
    }
    // One session per player (and per spectator): a second join (another tab, a lost resume token) replaces the first.
    const key = sessionKey(role, claims.playerId);
    this.byPlayer.get(key)?.end(ErrorCode.SESSION_REPLACED, 'this player joined again');
    const target = lookup.room;
    const token = Buffer.from(this.random(RESUME_TOKEN_BYTES)).toString('base64url');
    // Names are broadcast to every player: cleaned like chat (shared/text.ts), whoever minted them.
    const name = sanitizeDisplayName(claims.name) || FALLBACK_DISPLAY_NAME;
    const seated = role === 'spectator' ? this.seatSpectator(target, claims.playerId, name, token) : this.seatPlayer(target, claims.playerId, name, token);
    if (!seated.ok) {
      if (ticketTaken) void this.usedTickets.giveBack(ticket);
      rooms.release(room, role === 'player' ? claims.playerId : undefined);
      this.metrics.refuse('game', seated.reason);
      if (seated.code === ErrorCode.CLUSTER_UNAVAILABLE) this.refuse(p, seated.code, undefined, ROOM_MOVING_RETRY_AFTER_MS);
      else this.refuse(p, seated.code);
      return false;
    }
    const session = seated.session;
    // Dev players share a chat limit per address: a fresh dev ticket must not be a fresh burst.
    if (claims.once && this.options.singleUseChatPerAddress !== false) session.chatLimitKey = p.address;
    this.byPlayer.set(key, session);
    this.byToken.set(session.resumeTokenHash, session);
    this.sessionAddress.set(session, p.address);
    this.adopt(p, session, false, hello);
    return true;
  }

  /** A player's seat: an entity (the room's `join`, with its hook), and the others are told. */
  private seatPlayer(room: Room, playerId: string, name: string, token: string): Seated {
    let session: PlayerSession | null = null;
    const member = {
      playerId,
      name,
      playerJoined: (x: Parameters<PlayerSession['playerJoined']>[0]) => session?.playerJoined(x),
      playerLeft: (x: Parameters<PlayerSession['playerLeft']>[0]) => session?.playerLeft(x),
      chat: (m: Parameters<PlayerSession['chat']>[0]) => session?.chat(m),
      snapshot: (f: Parameters<PlayerSession['snapshot']>[0]) => session?.snapshot(f),
    };
    const joined = room.join(member);
    if (!joined.ok) {
      const full = joined.reason === 'room_full';
      // A room that stopped under us (cluster: it is moving, or lost its lease) is worth a retry.
      const moving = joined.reason === 'closed' && this.cluster !== null;
      if (full) return { ok: false, reason: 'room_full', code: ErrorCode.ROOM_FULL };
      if (moving) return { ok: false, reason: 'cluster_unavailable', code: ErrorCode.CLUSTER_UNAVAILABLE };
      return { ok: false, reason: 'room_refused', code: ErrorCode.INTERNAL_ERROR };
    }
    session = new PlayerSession(this, room, playerId, name, joined.player.entity.id, token);
    room.reattach(playerId, session);
    return { ok: true, session };
  }

  /** A spectator's seat: no entity (id 0), nobody told, counted against the room's spectator limit. */
  private seatSpectator(room: Room, playerId: string, name: string, token: string): Seated {
    const session = new PlayerSession(this, room, playerId, name, 0, token, 'spectator');
    const watched = room.watch(session);
    if (!watched.ok) {
      const full = watched.reason === 'spectators_full';
      return { ok: false, reason: full ? 'spectators_full' : 'room_refused', code: full ? ErrorCode.SPECTATORS_FULL : ErrorCode.INTERNAL_ERROR };
    }
    return { ok: true, session };
  }

  private adopt(p: Pending, session: PlayerSession, resumed: boolean, hello: HelloBody): void {
    this.forgetPending(p);
    const resume = hello.resumeToken !== undefined ? { token: hello.resumeToken, chatEpoch: hello.chatEpoch } : undefined;
    session.attach(p.conn, resumed, hello.lastChatId, resume);
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

/** A seat taken in a room for a new session, or why not (a refusal reason and close code). */
type Seated = { ok: true; session: PlayerSession } | { ok: false; reason: string; code: number };

/** `retryAfterMs` of a join whose room stopped while it joined (cluster: the room is moving). */
export const ROOM_MOVING_RETRY_AFTER_MS = 1_000;

/** What identifies one ticket among those of a player: its signature (the part after the dot). */
function ticketKey(ticket: string): string {
  return ticket.slice(ticket.indexOf('.') + 1);
}
