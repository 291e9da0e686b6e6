/*
 * Past 400 lines: one session state machine serves players and spectators alike (a spectator is
 * a session whose room seat has no entity); the few places they differ are marked `spectator`.
 */
import { createHash } from 'node:crypto';
import { ErrorCode, errorInfo } from '../../shared/errors.js';
import { createDecodeScratch, decodeMessage, encodeMessage, type DecodeContext } from '../../shared/codec.js';
import {
  channelOf, PROTOCOL_VERSION, type Channel, type MessageBodies, type MessageName, type PlayerInfo,
} from '../../shared/messages.js';
import { Heartbeat } from '../../shared/heartbeat.js';
import { LAST_INPUT_SEQ_OFFSET } from '../../shared/snapshot/index.js';
import type { Scheduler, Timer } from '../clock.js';
import type { GameMetrics } from '../metrics.js';
import type { ChatMessage } from '../chat/types.js';
import type { Room } from '../rooms/room.js';
import type { RoomMember, WorldFrame } from '../rooms/types.js';
import { type CloseInfo, type Connection, type ProtocolError, type SendUnreliableOptions } from '../transports/connection.js';
import { CHAT_JOIN_HISTORY, type SessionTimings } from './config.js';
import type { HeartbeatSweep } from './heartbeat-sweep.js';
import { SnapshotSender } from './snapshot-sender.js';
import { sessionView, type SessionView } from './session-view.js';
import { TokenBucket } from '../chat/rate-limit.js';

/**
 * Pings awaiting their pong (shared/heartbeat.ts); older ones are forgotten (a lost pong is
 * normal on datagrams). At one ping a second, 8 s of pongs in flight.
 */
export const MAX_OUTSTANDING_PINGS = 8;
/**
 * Unreliable messages a client may send per second (sustained) and in a burst. A client sends
 * 20 inputs and about one ping a second; the rest of a flood is dropped (`rate_limited`) before
 * it costs any decoding.
 */
export const UNRELIABLE_RATE_PER_SECOND = 120;
export const UNRELIABLE_BURST = 60;

/** How the session decodes what a client sends on its reliable channel (made once, not per message). */
const RELIABLE_C2S: DecodeContext = { channel: 'reliable', direction: 'c2s' };
/**
 * The same for the unreliable channel: inputs decode into one scratch shared by every session,
 * overwritten by the next input. onUnreliable is done with an input before it returns
 * (Room.input copies what a hook is handed), and messages are handled one at a time.
 */
const UNRELIABLE_C2S: DecodeContext = { channel: 'unreliable', direction: 'c2s', scratch: createDecodeScratch() };

export type SessionState = 'active' | 'suspended' | 'gone';
/** A player has an entity; a spectator watches without one (server/rooms/spectators.ts). */
export type SessionRole = 'player' | 'spectator';

/** The session manager's key of a session: spectators apart from players (a space is no id character). */
export function sessionKey(role: SessionRole, playerId: string): string {
  return role === 'spectator' ? `spectator ${playerId}` : playerId;
}
/** Channel snapshots travel on: the table's (unreliable), or 'reliable' for the experiments' head-of-line arm. */
export type SnapshotChannel = Channel;

/**
 * What a player session needs from its owner (the SessionManager). Not to be confused with the
 * WebTransport layer's host of its sessions in server/h3.
 */
export interface PlayerSessionHost {
  readonly scheduler: Scheduler;
  readonly metrics: GameMetrics;
  readonly timings: SessionTimings;
  readonly snapshotChannel: SnapshotChannel;
  /** The one timer that beats every session's heartbeat (heartbeat-sweep.ts). */
  readonly heartbeats: HeartbeatSweep;
  /** The cluster node this server is (named in the welcome), or null on a single server. */
  readonly nodeId: string | null;
  /** The session ended for good: forget it and release its room. */
  sessionGone(session: PlayerSession): void;
  /**
   * Encode, send, count; and close with `error` first. Shared with pre-hello connections. The
   * text is the catalogue's; `note` is a fixed text from our code, never the peer's.
   */
  closeWithError(conn: Connection, code: number, note?: string, retryAfterMs?: number): void;
  /** The one rule for a protocol error (counted, `error` first, no resume): ends `session`. */
  protocolError(conn: Connection, error: ProtocolError, session: PlayerSession): void;
  /** Counts a close the transport made on its own (a slow reader) in the close metric. */
  countTransportClose(info: CloseInfo): void;
  /**
   * Sends `bytes` on `channel` and counts it in tickwire_messages_total / tickwire_bytes_total
   * (direction "out") when the transport took it: every message a session sends, whatever its
   * kind, goes through here, so the count has one rule. `stampAt`/`stamp`: send `bytes` with
   * that u32 written at that offset, leaving `bytes` as is (transports/connection.ts sendOnChannel).
   */
  sendCounted(conn: Connection, channel: Channel, bytes: Uint8Array, options?: SendUnreliableOptions, stampAt?: number, stamp?: number): boolean;
}

/** Where a drained client's room goes (cluster): the node and its public HTTP base URL. */
export interface DrainTarget {
  nodeId: string;
  httpUrl: string;
}

/**
 * What identifies a resume token without keeping the token: base64url SHA-256. Sessions are
 * looked up by it, and a cluster checkpoint carries it so another node can check a resume.
 */
export function resumeTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * One player's session: outlives its connections inside the resume window.
 *
 *   (hello ok) -> active --connection lost / idle--> suspended --resume--> active
 *                   |                                   |
 *                   +--leave / protocol error / replaced / drain--> gone <--window over--+
 *
 * It is the room's `RoomMember`: the room hands it chat lines, join/leave events and snapshot
 * frames, and it turns them into messages on whatever connection it has now. A spectator's
 * session (`role` 'spectator', entity id 0) has a spectator seat instead of a player: it sends
 * `spectate` (ack and camera) where a player sends `input`, and its inputs and chat lines are
 * dropped and counted.
 */
export class PlayerSession implements RoomMember {
  state: SessionState = 'active';
  conn: Connection | null = null;
  /** Scheduler time the session began. */
  readonly startedAt: number;
  /** Scheduler time the current (or last) connection took the session over. */
  connectedAt: number;
  /** The read-only view handed to the embedding API (server/session/session-view.ts). */
  readonly view: SessionView;
  private snapshots: SnapshotSender | null = null;
  /**
   * Options of every unreliable snapshot send on the current connection: made once per
   * connection, the snapshot id travels as the commit tag (no closure per snapshot).
   */
  private snapshotSendOptions: SendUnreliableOptions & { commitTag: number } = { commitTag: 0 };
  /** The heartbeat fired and its ping has not gone out yet: it rides behind the next snapshot (beat). */
  private pingOwed = false;
  private resumeTimer: Timer | null = null;
  private lastHeardAt = 0;
  /** Ping table and RTT estimator (shared/heartbeat.ts), on the host's clock. */
  private readonly pings: Heartbeat;
  private unreliableBucket: TokenBucket | null = null;
  /**
   * Key of a chat limit this player shares with others (dev players: their address), so that a
   * fresh dev ticket is not a fresh chat burst. Set by the session manager.
   */
  chatLimitKey: string | undefined = undefined;
  /** The session manager's key (sessionKey). */
  readonly key: string;
  /** Where a spectator's camera looks (its `spectate` messages; the world's centre before the first). */
  private camera: { x: number; y: number };
  /** See resumeTokenHash(); the key the session manager finds this session by. */
  readonly resumeTokenHash: string;
  /** The token itself; null for a seat restored from another node until its player resumes. */
  private token: string | null;
  /**
   * Highest `chatSend.seq` this session accepted (0: none). One number, not a log: the client
   * sends its lines one at a time in seq order (client/net/chat-outbox.ts), so a seq at or below
   * it is a repeat of a line already shown. A resumed welcome carries it; a cluster checkpoint
   * carries it to the room's next node (server/cluster/checkpoint.ts).
   */
  lastChatSeq = 0;

  constructor(
    private readonly host: PlayerSessionHost,
    readonly room: Room,
    readonly playerId: string,
    readonly name: string,
    /** The player's entity; 0 for a spectator (entity ids start at 1). */
    readonly entityId: number,
    resumeToken: string | { hash: string },
    readonly role: SessionRole = 'player',
  ) {
    this.pings = new Heartbeat({ now: () => host.scheduler.now(), maxOutstanding: MAX_OUTSTANDING_PINGS });
    this.startedAt = host.scheduler.now();
    this.connectedAt = this.startedAt;
    this.key = sessionKey(role, playerId);
    this.camera = { x: room.world.width / 2, y: room.world.height / 2 };
    this.token = typeof resumeToken === 'string' ? resumeToken : null;
    this.resumeTokenHash = typeof resumeToken === 'string' ? resumeTokenHash(resumeToken) : resumeToken.hash;
    this.view = sessionView(this);
  }

  get spectator(): boolean {
    return this.role === 'spectator';
  }

  /** The resume token handed out in the welcome (null until a restored seat is resumed). */
  get resumeToken(): string | null {
    return this.token;
  }

  /**
   * A seat restored from another node's checkpoint (cluster): the player is in the room,
   * standing still, and its client resumes it with the token whose hash the seat carried,
   * within the resume window from now.
   */
  startRestored(): void {
    this.state = 'active';
    this.suspend();
  }

  /** Smoothed round-trip time from heartbeat pings (ms, RFC 6298); null before the first pong. */
  get rttMs(): number | null {
    return this.pings.rtt.smoothedMs;
  }

  get roomId(): string {
    return this.room.id;
  }

  /**
   * Puts `conn` in charge of this session and sends the welcome and the chat the client has not
   * seen. An older connection still open is closed with SESSION_REPLACED.
   */
  attach(conn: Connection, resumed: boolean, lastChatId: number | undefined, resume?: { token: string; chatEpoch?: string }): void {
    const old = this.conn;
    if (old) {
      this.unhook(old);
      this.host.closeWithError(old, ErrorCode.SESSION_REPLACED, 'this player connected again');
    }
    if (this.state === 'suspended') this.host.metrics.suspendedSessions.dec();
    this.state = 'active';
    this.resumeTimer?.cancel();
    this.resumeTimer = null;
    this.conn = conn;
    this.connectedAt = this.host.scheduler.now();
    if (resumed) {
      if (this.spectator) this.room.spectators.reattach(this.playerId, this);
      else this.room.reattach(this.playerId, this);
    }
    if (resume && this.token === null) this.token = resume.token;
    const snapshots = new SnapshotSender(() => conn.maxUnreliableSize);
    this.snapshots = snapshots;
    this.snapshotSendOptions = { replaceKey: 'snapshot', onCommitted: (id) => snapshots.committed(id), commitTag: 0 };
    this.pings.forgetPending();
    this.pingOwed = false;
    this.lastHeardAt = this.host.scheduler.now();
    this.unreliableBucket = new TokenBucket(UNRELIABLE_BURST, UNRELIABLE_RATE_PER_SECOND, this.lastHeardAt);
    conn.onReliable = (bytes) => this.onReliable(conn, bytes);
    conn.onUnreliable = (bytes) => this.onUnreliable(conn, bytes);
    conn.onClose = (info) => this.connectionLost(conn, info);
    conn.onProtocolError = (error) => this.host.protocolError(conn, error, this);

    const now = this.host.scheduler.now();
    const chatEpoch = this.room.chat.epoch;
    const sent = this.send('welcome', {
      v: PROTOCOL_VERSION,
      playerId: this.playerId,
      entityId: this.entityId,
      name: this.name,
      roomId: this.room.id,
      tickHz: this.room.loop.tickHz,
      snapshotHz: this.room.snapshotHz,
      resumeToken: this.token ?? '',
      resumed,
      serverTime: Math.floor(now),
      worldW: this.room.world.width,
      worldH: this.room.world.height,
      players: this.room.summaries(),
      ...(this.host.nodeId ? { nodeId: this.host.nodeId } : {}),
      ...(chatEpoch ? { chatEpoch } : {}),
      // The client's outbox resends exactly the lines after it (docs/protocol.md).
      ...(resumed ? { lastChatSeq: this.lastChatSeq } : {}),
    });
    if (!sent) {
      this.end(ErrorCode.INTERNAL_ERROR, 'could not send welcome');
      return;
    }
    // Chat the client has not seen: after its last id when it told us one (and its ids are of
    // this history's epoch), else recent history.
    const sameEpoch = !chatEpoch || resume?.chatEpoch === undefined || resume.chatEpoch === chatEpoch;
    const replay = lastChatId !== undefined && sameEpoch
      ? this.room.chat.since(lastChatId).messages
      : this.room.chat.history.all().slice(-CHAT_JOIN_HISTORY);
    for (const m of replay) this.chat(m);
    this.scheduleHeartbeat();
  }

  // --- RoomMember -------------------------------------------------------------------------------

  playerJoined(player: PlayerInfo): void {
    this.send('playerJoined', { entityId: player.entityId, playerId: player.playerId, name: player.name });
  }

  playerLeft(player: PlayerInfo): void {
    this.send('playerLeft', { entityId: player.entityId, playerId: player.playerId });
  }

  chat(message: ChatMessage): void {
    this.send('chat', { id: message.id, entityId: message.entityId, name: message.name, text: message.text, t: message.t });
  }

  snapshot(frame: WorldFrame): void {
    const conn = this.conn;
    if (!conn || !this.snapshots) return;
    const player = this.spectator ? undefined : this.room.getPlayer(this.playerId);
    const sender = this.snapshots;
    const bytes = this.spectator
      ? sender.encode(frame, undefined, 0, this.camera)
      : sender.encode(frame, this.entityId, Math.max(0, player?.lastInputSeq ?? 0));
    if (!bytes) {
      this.host.metrics.dropped.inc({ reason: 'too_large' });
      return;
    }
    // A shared encoding is stamped with this client's lastInputSeq by whoever copies it last
    // (the WebSocket frame, or a stamped copy): one copy per client.
    const stampAt = sender.stamp < 0 ? -1 : LAST_INPUT_SEQ_OFFSET;
    const id = frame.snapshotId;
    if (this.host.snapshotChannel === 'reliable') {
      if (this.host.sendCounted(conn, 'reliable', bytes, undefined, stampAt, sender.stamp)) sender.committed(id);
    } else {
      const options = this.snapshotSendOptions;
      options.commitTag = id;
      if (!this.host.sendCounted(conn, 'unreliable', bytes, options, stampAt, sender.stamp)) this.host.metrics.dropped.inc({ reason: 'queue_full' });
    }
    if (this.pingOwed) this.sendPing();
  }

  /** Snapshot encoding counters of the current connection. */
  snapshotStats() {
    return this.snapshots?.stats;
  }

  // --- lifecycle --------------------------------------------------------------------------------

  /**
   * Tell the client the server is going away (game message plus the transport's drain); in a
   * cluster `target` names the node its room moved to.
   */
  sendDrain(deadlineMs: number, reconnectJitterMs: number, target?: DrainTarget | null): void {
    if (!this.conn) return;
    this.send('drain', { deadlineMs, reconnectJitterMs, ...(target ? { nodeId: target.nodeId, httpUrl: target.httpUrl } : {}) });
    this.conn.drain();
  }

  /**
   * Ends the session for good: closes the connection (with `code`, after an `error` message,
   * unless `code` is null), takes the player out of the room.
   */
  end(code: number | null, message = '', retryAfterMs?: number): void {
    if (this.state === 'gone') return;
    if (this.state === 'suspended') this.host.metrics.suspendedSessions.dec();
    this.state = 'gone';
    this.stopHeartbeat();
    this.resumeTimer?.cancel();
    this.resumeTimer = null;
    const conn = this.conn;
    this.conn = null;
    if (conn) {
      this.unhook(conn);
      if (code !== null) this.host.closeWithError(conn, code, message || undefined, retryAfterMs);
      else conn.close(ErrorCode.NORMAL, message);
    }
    if (this.spectator) this.room.spectators.remove(this.playerId);
    else this.room.leave(this.playerId);
    this.host.sessionGone(this);
  }

  /** Connection gone but the player may come back: keep the entity, start the resume window. */
  private suspend(): void {
    if (this.state !== 'active') return;
    this.state = 'suspended';
    this.host.metrics.suspendedSessions.inc();
    this.stopHeartbeat();
    this.conn = null;
    this.snapshots = null;
    if (this.spectator) this.room.spectators.suspend(this.playerId);
    else this.room.suspend(this.playerId);
    this.resumeTimer = this.host.scheduler.after(this.host.timings.resumeWindowMs, () => {
      this.resumeTimer = null;
      this.end(null, 'resume window over');
    });
  }

  private connectionLost(conn: Connection, info: CloseInfo): void {
    if (conn !== this.conn) return;
    this.host.countTransportClose(info);
    this.unhook(conn);
    this.suspend();
  }

  private unhook(conn: Connection): void {
    conn.onReliable = null;
    conn.onUnreliable = null;
    conn.onClose = null;
    conn.onProtocolError = null;
  }

  // --- incoming ---------------------------------------------------------------------------------

  private onReliable(conn: Connection, bytes: Uint8Array): void {
    if (conn !== this.conn) return;
    this.lastHeardAt = this.host.scheduler.now();
    this.countReceived('reliable', bytes);
    const r = decodeMessage(bytes, RELIABLE_C2S);
    if (!r.ok) {
      // The reliable channel cannot corrupt or reorder: bad bytes here mean a broken or hostile
      // client, and the stream cannot be trusted after them. Close with the decoder's code.
      this.host.protocolError(conn, { code: r.code, reason: r.reason, kind: r.reason }, this);
      return;
    }
    switch (r.name) {
      case 'chatSend': {
        if (this.spectator) {
          // Spectators read the chat; they have no entity to speak as.
          this.host.metrics.refuse('game', 'spectator_chat');
          return;
        }
        const seq = r.body.seq;
        if (seq !== undefined && seq <= this.lastChatSeq) {
          // A resend of a line already shown (its chatAccepted was lost with a connection):
          // not shown again, costs no token or flood strike, and is answered so the client
          // stops waiting for it.
          this.host.metrics.dropped.inc({ reason: 'chat_repeat' });
          this.send('chatAccepted', { seq: this.lastChatSeq });
          return;
        }
        // The seq goes with the line so the cluster can store it beside the line (ChatAuthor).
        const result = this.room.sendChat(this.playerId, r.body.text, this.chatLimitKey,
          seq !== undefined ? { session: this.resumeTokenHash, seq } : undefined);
        if (result.ok) {
          if (seq !== undefined) {
            this.lastChatSeq = seq;
            this.send('chatAccepted', { seq });
          }
          return;
        }
        if (result.reason === 'flood') {
          this.host.metrics.dropped.inc({ reason: 'rate_limited' });
          this.host.metrics.refuse('game', 'chat_flood');
          this.end(ErrorCode.CHAT_FLOOD);
          return;
        }
        if (result.reason === 'rate_limited') this.host.metrics.dropped.inc({ reason: 'rate_limited' });
        else this.host.metrics.invalid.inc({ reason: 'invalid_field' });
        this.send('chatRejected', { reason: result.reason, retryAfterMs: result.retryAfterMs, ...(seq !== undefined ? { seq } : {}) });
        return;
      }
      case 'leave':
        this.end(ErrorCode.NORMAL, 'left');
        return;
      case 'hello':
        this.host.protocolError(conn, { code: ErrorCode.BAD_MESSAGE, reason: 'invalid_field', kind: 'hello_again' }, this);
        return;
      default:
        // Decoding checks direction and channel, so only c2s reliable messages reach here.
        return;
    }
  }

  private onUnreliable(conn: Connection, bytes: Uint8Array): void {
    if (conn !== this.conn) return;
    const now = this.host.scheduler.now();
    this.lastHeardAt = now;
    this.countReceived('unreliable', bytes);
    if (this.unreliableBucket && !this.unreliableBucket.take(now).ok) {
      this.host.metrics.dropped.inc({ reason: 'rate_limited' });
      return;
    }
    const r = decodeMessage(bytes, UNRELIABLE_C2S);
    if (!r.ok) {
      // Datagrams may be junk without the peer being at fault (or at least without it hurting
      // anyone else): drop and count, never close.
      this.host.metrics.invalid.inc({ reason: r.reason });
      return;
    }
    switch (r.name) {
      case 'input': {
        if (this.spectator) {
          this.host.metrics.refuse('game', 'spectator_input');
          return;
        }
        this.snapshots?.ack(r.body.ack);
        if (this.room.input(this.playerId, r.body) === 'stale') this.host.metrics.dropped.inc({ reason: 'stale' });
        return;
      }
      case 'spectate': {
        if (!this.spectator) {
          this.host.metrics.refuse('game', 'player_spectate');
          return;
        }
        this.snapshots?.ack(r.body.ack);
        this.camera = { x: Math.min(r.body.x, this.room.world.width), y: Math.min(r.body.y, this.room.world.height) };
        return;
      }
      case 'ping':
        this.send('pong', r.body);
        return;
      case 'pong':
        if (this.pings.onPong(r.body) === 'unknown') this.host.metrics.dropped.inc({ reason: 'stale' });
        return;
      default:
        return;
    }
  }

  // --- heartbeat --------------------------------------------------------------------------------

  /** Beats from the host's next heartbeat sweep on (server/session/heartbeat-sweep.ts). */
  private scheduleHeartbeat(): void {
    this.host.heartbeats.add(this);
  }

  private stopHeartbeat(): void {
    this.host.heartbeats.delete(this);
  }

  /**
   * The heartbeat, once per interval (the host's HeartbeatSweep calls it): closes an idle
   * connection (the session is suspended), else owes the client a ping.
   */
  beat(): void {
    const conn = this.conn;
    if (!conn || this.state !== 'active') return;
    const now = this.host.scheduler.now();
    if (now - this.lastHeardAt >= this.host.timings.idleTimeoutMs) {
      // The peer vanished without a close (cable pulled, NAT timeout): close this connection,
      // but keep the session so the client can resume when it is back.
      this.unhook(conn);
      this.host.closeWithError(conn, ErrorCode.IDLE_TIMEOUT, 'nothing heard from the client');
      this.suspend();
      return;
    }
    // The ping waits for the next snapshot to this client and goes out right behind it, so both
    // leave in one write (websocket.ts corks a socket for the turn) instead of a write of its own
    // per client per interval. One still owed at the next beat (no snapshot went out for a whole
    // interval: the room halted, or every snapshot was dropped) goes on its own.
    if (this.pingOwed) this.sendPing();
    this.pingOwed = true;
  }

  private sendPing(): void {
    this.pingOwed = false;
    this.send('ping', this.pings.nextPing());
  }

  // --- sending ----------------------------------------------------------------------------------

  /** Encodes and sends on the message's channel (the table's); false when not sent. Never throws. */
  private send<K extends MessageName>(name: K, body: MessageBodies[K]): boolean {
    const conn = this.conn;
    if (!conn || conn.closed) return false;
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(name, body);
    } catch {
      // Our own body broke the schema (a bug, or a room hook produced bad text): skip it.
      this.host.metrics.dropped.inc({ reason: 'invalid_field' });
      return false;
    }
    return this.host.sendCounted(conn, channelOf(name), bytes);
  }

  private countReceived(channel: Channel, bytes: Uint8Array): void {
    this.host.metrics.countMessage(channel, 'in', bytes.length);
  }
}

/** Name of a close code for metric labels. */
export function codeName(code: number): string {
  return errorInfo(code)?.name ?? String(code);
}
