import type { ChatUnsentReason } from './chat-outbox.js';
import type { ChatBody, ChatRejectedBody, PlayerInfo, PlayerLeftBody } from '../../shared/messages.js';
import type { EntityState } from '../../shared/snapshot/view.js';
import type { ReconnectPolicy } from './backoff.js';
import type { InputRecord } from './input-history.js';
import type {
  FetchLike,
  TimerApi,
  TransportKind,
  WebSocketConstructor,
  WebTransportConstructor,
} from './transport-types.js';

export type TransportPreference = 'auto' | 'webtransport' | 'websocket';

/**
 * Returns a join ticket. Called before the first attempt and again after the server refused the
 * ticket as expired; other reconnects reuse the last ticket (a resume must name the same player).
 */
export type TicketProvider = () => string | Promise<string>;

export interface GameClientOptions {
  /** HTTP origin of the server, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** A join ticket, or a provider (see TicketProvider for when it is called). */
  ticket: string | TicketProvider;
  /** Default 'auto': WebTransport first, WebSocket when it is missing, fails or is slow. */
  transport?: TransportPreference;
  /** Default `globalThis.WebTransport`. Node callers inject server/h3's `NodeWebTransport`. */
  WebTransport?: WebTransportConstructor;
  /** Default `globalThis.WebSocket`. Node 20 callers inject `ws`. */
  WebSocket?: WebSocketConstructor;
  /** Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Monotonic-enough clock in ms for RTT and gaps. Default `performance.now()`. */
  now?: () => number;
  /** Uniform [0, 1) for backoff and drain jitter. Default `Math.random`. */
  random?: () => number;
  reconnect?: Partial<ReconnectPolicy>;
  /** Timers, injectable for tests. Default the global ones. */
  timers?: TimerApi;
  /** Input send rate. Default 20 Hz (DESIGN.md standard scene). */
  inputHz?: number;
  /** Ping interval for RTT and liveness. Default `PING_INTERVAL_MS`. */
  pingIntervalMs?: number;
  /** WebTransport readiness limit in 'auto' before falling back. Default 1000 ms. */
  webTransportTimeoutMs?: number;
}

/** One entity of a snapshot (shared/snapshot/view.ts) and a player of the room (shared/messages.ts). */
export type { EntityState, PlayerInfo };

export interface WelcomeEvent {
  playerId: string;
  entityId: number;
  name: string;
  roomId: string;
  tickHz: number;
  snapshotHz: number;
  resumed: boolean;
  serverTime: number;
  worldW: number;
  worldH: number;
  players: PlayerInfo[];
  transport: TransportKind;
  /** The cluster node that runs the room (absent on a single server): the HUD shows it. */
  nodeId?: string;
  /** Names the run of chat ids the room's history is in (cluster); sent back on resume. */
  chatEpoch?: string;
  /** A resumed session: the highest chat seq it accepted (the outbox forgets lines up to it). */
  lastChatSeq?: number;
}

export interface SnapshotEvent {
  /** Snapshot id (increases by one per snapshot sent to this client). */
  id: number;
  /**
   * Server clock (ms, epoch-based, modulo 2^32 on the wire) when the state was taken. Put the
   * full value back with shared/time32.ts (`unwrapTime32`, `time32Delta`).
   */
  serverTime: number;
  /** Simulation tick of the state (modulo 2^32). Always set by GameClient. */
  serverTick?: number;
  /**
   * Entity ids present in `entities` that this snapshot did not refresh (a full datagram left
   * them out; their state is from an earlier snapshot). Interpolation should not treat them as
   * fresh samples. Always set by GameClient.
   */
  omitted?: number[];
  /** Newest input seq of ours the server had applied; for prediction reconciliation. */
  lastInputSeq: number;
  /** Every entity this client sees, reconstructed from the baseline. */
  entities: EntityState[];
  /** Client clock (`now()`) on receipt. */
  receivedAt: number;
}

/** A chat line: the `chat` message's body (shared/messages.ts). */
export type ChatEvent = ChatBody;

/**
 * A refused chat line: the `chatRejected` message's body (`seq` names the line). A refusal for
 * now (`rate_limited`, `unavailable`) is followed by a resend from the outbox; the line's final
 * fate comes as `chatAccepted` or `chatUnsent`.
 */
export type ChatRejectedEvent = ChatRejectedBody;

/** A line written with `sendChat` that the server accepted (its `chat` echo comes in room order). */
export interface ChatAcceptedEvent {
  /** The line's client sequence number in its session. */
  seq: number;
  text: string;
}

/**
 * A line written with `sendChat` that left the outbox without being accepted: refused for good
 * (`empty`, `too_long`, or `rate_limited` / `unavailable` past the resend limit), `session_lost`
 * (it was on the wire when the session was lost: it may or may not have been shown), or `closed`
 * (the client closed before it could go). `seq` is 0 for a line that never went out.
 */
export interface ChatUnsentEvent {
  seq: number;
  text: string;
  reason: ChatUnsentReason;
}

export interface TransportEvent {
  transport: TransportKind;
  /** Why WebTransport was not used, when 'auto' fell back. */
  fallbackReason?: string;
}

export interface CloseEvent {
  code: number;
  reason: string;
  byPeer: boolean;
}

export interface ReconnectingEvent {
  /** 1-based attempt number within this outage. */
  attempt: number;
  delayMs: number;
  /** What ended the last connection or attempt. */
  reason: string;
  code: number;
}

export interface DrainEvent {
  deadlineMs: number;
  reconnectJitterMs: number;
  /** When (ms from now) this client will reconnect. */
  reconnectInMs: number;
  /** Cluster: the node the room moved to (the reconnect asks it for connect-info first). */
  nodeId?: string;
}

export interface ErrorEvent {
  message: string;
  /** Close/error code from shared/errors when the server named one. */
  code?: number;
  /** With SERVER_BUSY: the server asked to wait this long before retrying (the client does). */
  retryAfterMs?: number;
}

export interface GameClientEvents {
  welcome: WelcomeEvent;
  snapshot: SnapshotEvent;
  playerJoined: PlayerInfo;
  playerLeft: PlayerLeftBody;
  chat: ChatEvent;
  chatRejected: ChatRejectedEvent;
  chatAccepted: ChatAcceptedEvent;
  chatUnsent: ChatUnsentEvent;
  transport: TransportEvent;
  close: CloseEvent;
  reconnecting: ReconnectingEvent;
  drain: DrainEvent;
  error: ErrorEvent;
  /** Each input as it is sampled and sent (for client-side prediction). */
  input: InputRecord;
}

export interface ChannelBytes {
  reliable: number;
  unreliable: number;
}

export interface GameClientStats {
  transport: TransportKind | null;
  connected: boolean;
  /** Smoothed RTT (RFC 6298), null before the first pong. */
  rttMs: number | null;
  /** Recent RTT samples, oldest first. */
  rttSamples: number[];
  snapshotsReceived: number;
  /** Recent gaps between consecutive snapshot arrivals, ms. */
  snapshotGapMs: number[];
  /** Application message bytes per channel, this client's lifetime. */
  bytesDown: ChannelBytes;
  bytesUp: ChannelBytes;
  /** Snapshots estimated lost from id gaps (late arrivals subtracted). */
  datagramsLost: number;
  /** Successful reconnections (welcome after the first). */
  reconnects: number;
  /** Snapshots that could not be decoded (missing baseline, bad bytes). */
  snapshotsDropped: number;
  /** Server messages dropped as undecodable or out of place. */
  messagesDropped: number;
  /** Lines `sendChat` took into the outbox. */
  chatSent: number;
  /** Lines the server accepted (chatAccepted or a resumed welcome's lastChatSeq). */
  chatAccepted: number;
  /** Times a line went out again (after a refusal for now, or on a resumed session). */
  chatResent: number;
  /** Lines that left the outbox unaccepted (`chatUnsent` events). */
  chatUnsent: number;
  /** Lines `sendChat` refused because the outbox was full (CHAT_OUTBOX_LIMIT). */
  chatOutboxFull: number;
  /** Lines waiting in the outbox now. */
  chatPending: number;
  chatReceived: number;
  /** Chat lines dropped as already seen (an id at or below the newest one): should stay 0. */
  chatRepeated: number;
  inputsSent: number;
}
