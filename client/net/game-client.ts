/**
 * The game's network client (class `GameClient` below).
 *
 * Size: about 660 lines, over the ~400 of the guide, because it is one state machine (idle,
 * connecting, connected, reconnecting, closed) whose transitions share the same timers (input
 * tick, ping, silence watchdog, welcome timeout, retry), the current channel and the resume
 * state; spreading the transitions over files would put each timer's start and stop in different
 * places. Everything that is not a transition already lives beside it: reconnect policy
 * (backoff.ts), channel opening (connector.ts), events (emitter.ts), the input record
 * (input-history.ts), snapshots (snapshot-decoder.ts, snapshot-tracker.ts), the heartbeat
 * (shared/heartbeat.ts), wire encoding (protocol.ts), options and events (game-client-types.ts).
 */
import { backoffDelayMs, resolveReconnectPolicy, type ReconnectPolicy } from './backoff.js';
import { CLOSE_ABNORMAL, type ChannelCloseInfo, type ChannelName, type ClientChannel } from './channel.js';
import { ConnectInfoError, MAX_ALTERNATES } from './connect-info.js';
import { openChannel, type OpenedChannel } from './connector.js';
import { TypedEmitter } from './emitter.js';
import type {
  CloseEvent,
  GameClientEvents,
  GameClientOptions,
  GameClientStats,
  TicketProvider,
  TransportPreference,
  WelcomeEvent,
} from './game-client-types.js';
import { ChatOutbox, type OutboxSettled } from './chat-outbox.js';
import { InputHistory, normalizeDirection, type InputRecord } from './input-history.js';
import {
  CLOSE_CODES,
  channelOfMessage,
  decodeServerMessage,
  encodeChatSend,
  encodeHello,
  encodeInput,
  encodeLeave,
  encodePing,
  encodePong,
  encodeSpectate,
  isTerminalCloseCode,
  MAX_CHAT_LENGTH,
  type ServerMessage,
} from './protocol.js';
import { MAX_WORLD_SIZE } from '../../shared/limits.js';
import { Heartbeat } from '../../shared/heartbeat.js';
import { SampleRing } from './sample-ring.js';
import { SnapshotDecoder } from './snapshot-decoder.js';
import { SnapshotTracker } from './snapshot-tracker.js';
import { defaultTimers, type FetchLike, type TimerApi, type TransportKind } from './transport-types.js';

/** Ping period: RTT samples for the HUD and liveness in both directions. */
export const PING_INTERVAL_MS = 500;

/**
 * Pings awaiting their pong (shared/heartbeat.ts); older ones are forgotten (their pong is lost
 * or very late). At two pings a second, 8 s of pongs in flight.
 */
export const PING_PENDING_LIMIT = 16;

/** Recent RTT samples kept for percentiles in `stats()` (about a minute of pings at 2 Hz). */
export const RTT_SAMPLE_LIMIT = 128;

/** Time from sending hello to receiving welcome before the attempt counts as failed. */
export const WELCOME_TIMEOUT_MS = 5_000;

/**
 * Silence from the server (no message of any kind) after which the connection is presumed dead
 * and the client reconnects. Snapshots arrive at 20 Hz and pongs at 2 Hz, so 5 s of silence is
 * not congestion. Browsers may not report a vanished peer for much longer (webtransport-h3.md).
 */
export const SERVER_SILENCE_TIMEOUT_MS = 5_000;

/** Recent snapshot arrival gaps kept for stats. */
export const SNAPSHOT_GAP_SAMPLE_LIMIT = 256;

export type GameClientState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

interface Resolved {
  baseUrl: string;
  ticket: TicketProvider;
  transport: TransportPreference;
  fetch: FetchLike | undefined;
  now: () => number;
  random: () => number;
  policy: ReconnectPolicy;
  timers: TimerApi;
  inputIntervalMs: number;
  pingIntervalMs: number;
  webTransportTimeoutMs: number | undefined;
}

/**
 * The game's network client, for the browser and for Node (bots, tests).
 *
 * Connects over WebTransport (datagrams + one bidirectional stream) or WebSocket, says hello,
 * then streams inputs at 20 Hz (each datagram repeating the last four, acking the newest snapshot
 * decoded), pings for RTT, decodes delta snapshots against a ring of baselines, and carries
 * chat. When the connection drops it reconnects with exponential backoff and full jitter and
 * resumes the session (same entity, missed chat replayed); on a drain notice it reconnects
 * after a random delay within the server's jitter window.
 */
export class GameClient {
  private readonly opts: Resolved;
  private readonly events = new TypedEmitter<GameClientEvents>((error, event) => {
    this.events.emit('error', { message: `listener for '${String(event)}' threw: ${errorText(error)}` });
  });
  private readonly options: GameClientOptions;

  private stateValue: GameClientState = 'idle';
  private channel: ClientChannel | null = null;
  private welcomeInfo: WelcomeEvent | null = null;
  private resumeToken: string | null = null;
  private lastChatId = 0;
  private chatEpoch: string | undefined = undefined;
  /**
   * Where connect-info is asked (cluster: any node answers): `baseUrl` first, then the nodes the
   * server named (a drain's target, connect-info's alternates). An entry point that does not
   * answer hands over to the next one.
   */
  private entryPoints: string[];
  private entryIndex = 0;
  private attempt = 0;
  private everConnected = false;
  private gotWelcomeOnChannel = false;
  private skipWebTransportOnce = false;
  /** Ticket reused across reconnects; null = ask the provider. */
  private ticket: string | null = null;
  /** True when this attempt's ticket came straight from the provider (not reused). */
  private ticketFresh = true;
  private lastServerError: { code: number; message: string; retryAfterMs?: number } | null = null;

  /** Lines written and not yet settled by the server (client/net/chat-outbox.ts). */
  private readonly outbox = new ChatOutbox();
  /** Timer that sends the outbox's head again after a refusal's retryAfterMs. */
  private chatResendTimer: unknown = null;
  private readonly inputs = new InputHistory();
  private direction: [number, number] = [0, 0];
  /** A spectator's camera centre (world units); null: the world's centre. */
  private camera: [number, number] | null = null;
  /** Ping table and RTT estimator (shared/heartbeat.ts) on the injected clock. */
  private readonly heartbeat: Heartbeat;
  private readonly rttSamples = new SampleRing(RTT_SAMPLE_LIMIT);
  private readonly tracker = new SnapshotTracker();
  private readonly snapshots = new SnapshotDecoder();
  private readonly gaps = new SampleRing(SNAPSHOT_GAP_SAMPLE_LIMIT);
  private lastSnapshotAt: number | null = null;
  private lastHeardAt = 0;

  private inputTimer: unknown = null;
  private pingTimer: unknown = null;
  private retryTimer: unknown = null;
  private drainTimer: unknown = null;

  private readonly counters = {
    snapshotsReceived: 0,
    snapshotsDropped: 0,
    messagesDropped: 0,
    reconnects: 0,
    chatSent: 0,
    chatAccepted: 0,
    chatResent: 0,
    chatUnsent: 0,
    chatOutboxFull: 0,
    chatReceived: 0,
    chatRepeated: 0,
    inputsSent: 0,
    bytesDownReliable: 0,
    bytesDownUnreliable: 0,
    bytesUpReliable: 0,
    bytesUpUnreliable: 0,
  };

  private firstWelcome: { resolve: (w: WelcomeEvent) => void; reject: (e: Error) => void } | null = null;

  constructor(options: GameClientOptions) {
    this.options = options;
    const ticket = options.ticket;
    this.opts = {
      baseUrl: options.baseUrl,
      ticket: typeof ticket === 'function' ? ticket : () => ticket,
      transport: options.transport ?? 'auto',
      fetch: options.fetch ?? (typeof globalThis.fetch === 'function' ? (globalThis.fetch.bind(globalThis) as FetchLike) : undefined),
      now: options.now ?? (() => performance.now()),
      random: options.random ?? Math.random,
      policy: resolveReconnectPolicy(options.reconnect),
      timers: options.timers ?? defaultTimers,
      inputIntervalMs: 1000 / (options.inputHz ?? 20),
      pingIntervalMs: options.pingIntervalMs ?? PING_INTERVAL_MS,
      webTransportTimeoutMs: options.webTransportTimeoutMs,
    };
    this.entryPoints = [options.baseUrl];
    this.heartbeat = new Heartbeat({ now: this.opts.now, maxOutstanding: PING_PENDING_LIMIT });
  }

  // ---- public API -------------------------------------------------------------------------

  /** Adds an event listener; returns a function that removes it. */
  on<K extends keyof GameClientEvents>(event: K, listener: (payload: GameClientEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  off<K extends keyof GameClientEvents>(event: K, listener: (payload: GameClientEvents[K]) => void): void {
    this.events.off(event, listener);
  }

  /**
   * Starts connecting. Resolves with the first welcome; rejects when the client closes before
   * one (a terminal error such as an invalid ticket, or reconnect attempts exhausted).
   */
  connect(): Promise<WelcomeEvent> {
    if (this.stateValue !== 'idle') return Promise.reject(new Error(`connect() in state ${this.stateValue}`));
    this.stateValue = 'connecting';
    const promise = new Promise<WelcomeEvent>((resolve, reject) => {
      this.firstWelcome = { resolve, reject };
    });
    void this.runAttempt();
    return promise;
  }

  /**
   * Sets the move direction sent with every input from now on (a spectator sends no input: its
   * direction is kept but unused); components clamp to [-1, 1], a
   * longer vector is scaled to unit length, and each input quantizes it (sampledDirection in
   * input-history.ts), so the `input` event carries exactly the direction the server applies.
   */
  setInput(dx: number, dy: number): void {
    this.direction = normalizeDirection(dx, dy);
  }

  /**
   * A spectator's camera centre in world units, sent with every `spectate` (its ack) from now on:
   * the server shares with it the snapshot encodings of the cell it looks at.
   */
  setCamera(x: number, y: number): void {
    const w = this.welcomeInfo;
    const clamp = (v: number, max: number) => Math.round(Math.min(Math.max(Number.isFinite(v) ? v : 0, 0), max));
    this.camera = [clamp(x, w?.worldW ?? MAX_WORLD_SIZE), clamp(y, w?.worldH ?? MAX_WORLD_SIZE)];
  }

  /** True once a welcome said this session watches without an entity (a spectator ticket). */
  get spectator(): boolean {
    return this.welcomeInfo !== null && this.welcomeInfo.entityId === 0;
  }

  /**
   * Writes a chat line into the outbox (client/net/chat-outbox.ts), which sends it now or, while
   * reconnecting, on the resumed session, and resends it across drops until the server settles
   * it: `chatAccepted` when it is in (its `chat` echo follows in room order), `chatUnsent` when it
   * is given up. False (nothing kept) before connect() or after close, for a spectator (it has no
   * entity to speak as), for an empty line or one longer than the protocol allows, and when
   * CHAT_OUTBOX_LIMIT lines already wait (counted as `chatOutboxFull`).
   */
  sendChat(text: string): boolean {
    if (this.stateValue === 'idle' || this.stateValue === 'closed' || this.spectator) return false;
    if (text.length === 0 || text.length > MAX_CHAT_LENGTH) return false;
    if (!this.outbox.push(text).ok) {
      this.counters.chatOutboxFull++;
      return false;
    }
    this.counters.chatSent++;
    this.pumpChat();
    return true;
  }

  /** Leaves the game for good: tells the server, closes, emits `close`. Idempotent. */
  close(reason = 'client closed'): void {
    if (this.stateValue === 'closed') return;
    const channel = this.channel;
    if (channel && !channel.closed && this.stateValue === 'connected') {
      this.send(() => encodeLeave());
      // Let the leave arrive before the transport closes (else the server keeps the player
      // for its resume window); the client itself is closed from here on.
      this.channel = null;
      channel.closeGracefully(CLOSE_CODES.NORMAL, reason);
    }
    this.finish({ code: CLOSE_CODES.NORMAL, reason, byPeer: false });
  }

  /** A method, not a property read, so TypeScript does not narrow it across awaits. */
  private isClosedState(): boolean {
    return this.stateValue === 'closed';
  }

  get state(): GameClientState {
    return this.stateValue;
  }

  get transport(): TransportKind | null {
    return this.channel?.kind ?? null;
  }

  get connected(): boolean {
    return this.stateValue === 'connected';
  }

  /** The latest welcome (null before the first). */
  get welcome(): WelcomeEvent | null {
    return this.welcomeInfo;
  }

  /** Newest chat id seen; sent on resume so the server replays what came after. */
  get lastSeenChatId(): number {
    return this.lastChatId;
  }

  /** Inputs sent after `afterSeq` (for prediction replay after a snapshot's `lastInputSeq`). */
  inputsSince(afterSeq: number): InputRecord[] {
    return this.inputs.since(afterSeq);
  }

  stats(): GameClientStats {
    const c = this.counters;
    return {
      transport: this.transport,
      connected: this.connected,
      rttMs: this.heartbeat.rtt.smoothedMs,
      rttSamples: this.rttSamples.values(),
      snapshotsReceived: c.snapshotsReceived,
      snapshotGapMs: this.gaps.values(),
      bytesDown: { reliable: c.bytesDownReliable, unreliable: c.bytesDownUnreliable },
      bytesUp: { reliable: c.bytesUpReliable, unreliable: c.bytesUpUnreliable },
      datagramsLost: this.tracker.lostEstimate,
      reconnects: c.reconnects,
      snapshotsDropped: c.snapshotsDropped,
      messagesDropped: c.messagesDropped,
      chatSent: c.chatSent,
      chatAccepted: c.chatAccepted,
      chatResent: c.chatResent,
      chatUnsent: c.chatUnsent,
      chatOutboxFull: c.chatOutboxFull,
      chatPending: this.outbox.size,
      chatReceived: c.chatReceived,
      chatRepeated: c.chatRepeated,
      inputsSent: c.inputsSent,
    };
  }

  // ---- connection attempts ----------------------------------------------------------------

  private async runAttempt(): Promise<void> {
    this.retryTimer = null;
    if (this.isClosedState()) return;
    // The ticket first: a slow ticket service must not hold an open socket past the server's
    // hello timeout.
    let ticket: string;
    try {
      ticket = await this.currentTicket();
    } catch (error) {
      // A provider that was told to wait (a dev endpoint's 429) may say how long: `retryAfterMs`.
      this.attemptFailed({ code: CLOSE_ABNORMAL, reason: `ticket provider failed: ${errorText(error)}`, byPeer: false }, retryAfterOf(error));
      return;
    }
    if (this.isClosedState()) return;
    let opened: OpenedChannel;
    try {
      opened = await openChannel({
        baseUrl: this.entryPoints[this.entryIndex] ?? this.opts.baseUrl,
        ticket,
        preference: this.skipWebTransportOnce ? 'websocket' : this.opts.transport,
        WebTransport: this.options.WebTransport ?? (globalThis as { WebTransport?: GameClientOptions['WebTransport'] }).WebTransport,
        WebSocket: this.options.WebSocket ?? (globalThis as { WebSocket?: GameClientOptions['WebSocket'] }).WebSocket,
        fetch: this.opts.fetch,
        timers: this.opts.timers,
        channelOf: channelOfMessage,
        webTransportTimeoutMs: this.opts.webTransportTimeoutMs,
      });
    } catch (error) {
      // A node that refused (busy, the cluster cannot place the room now) says how long to wait;
      // one that did not answer at all may be gone (a crashed or drained node): ask the next.
      if (!(error instanceof ConnectInfoError) || error.status >= 500) this.nextEntryPoint(error instanceof ConnectInfoError);
      const retryAfterMs = error instanceof ConnectInfoError ? error.retryAfterMs : 0;
      const code = error instanceof ConnectInfoError && error.code !== null ? error.code : CLOSE_ABNORMAL;
      this.attemptFailed({ code, reason: errorText(error), byPeer: true }, retryAfterMs);
      return;
    }
    this.learnEntryPoints(opened.info.alternates ?? []);
    this.skipWebTransportOnce = false;
    if (this.isClosedState()) {
      opened.channel.close(CLOSE_CODES.NORMAL, 'client closed');
      return;
    }
    this.adopt(opened.channel);
    this.events.emit('transport', { transport: opened.channel.kind, fallbackReason: opened.fallbackReason });
    this.lastServerError = null;
    this.send(() =>
      encodeHello({
        ticket,
        resumeToken: this.resumeToken ?? undefined,
        lastChatId: this.resumeToken ? this.lastChatId : undefined,
        chatEpoch: this.resumeToken ? this.chatEpoch : undefined,
      }),
    );
    // The welcome must follow soon; the silence watchdog doubles as the welcome timeout.
    this.lastHeardAt = this.opts.now();
    this.startWatchdog(WELCOME_TIMEOUT_MS);
  }

  /**
   * The ticket for this attempt. Reconnects reuse the last one: a resume must present the same
   * player, and a provider (a dev endpoint, say) may mint a new player id per call. The provider
   * is asked again only before the first attempt and after the server said TICKET_EXPIRED.
   */
  private async currentTicket(): Promise<string> {
    this.ticketFresh = this.ticket === null;
    if (this.ticket === null) this.ticket = await this.opts.ticket();
    return this.ticket;
  }

  /**
   * The next entry point for connect-info. `answered`: the node answered (a 5xx), so it is
   * alive: only move on when others are known.
   */
  private nextEntryPoint(answered: boolean): void {
    if (this.entryPoints.length <= 1 && answered) return;
    this.entryIndex = (this.entryIndex + 1) % this.entryPoints.length;
  }

  /** Other nodes a connect-info answer named, kept (bounded) as entry points. */
  private learnEntryPoints(urls: readonly string[]): void {
    for (const url of urls) {
      if (this.entryPoints.includes(url)) continue;
      if (this.entryPoints.length >= MAX_ALTERNATES + 1) break;
      this.entryPoints.push(url);
    }
  }

  /** Wires a freshly opened channel as the current one. */
  private adopt(channel: ClientChannel): void {
    this.channel = channel;
    this.gotWelcomeOnChannel = false;
    channel.onMessage = (bytes, ch) => this.onMessage(channel, bytes, ch);
    channel.onClose = (info) => {
      if (this.channel !== channel) return;
      this.channelLost(channel, info);
    };
    channel.onTransportDrain = () => {
      // The game-level drain notice (with its jitter window) is what we act on.
    };
    // Snapshot ids and baselines are per connection: the first snapshot on a new one is full.
    this.tracker.reset();
    this.snapshots.reset();
    this.lastSnapshotAt = null;
    this.heartbeat.forgetPending();
  }

  private attemptFailed(info: CloseEvent, retryAfterMs = 0): void {
    this.stopTimers();
    this.channel = null;
    this.scheduleRetry(info, retryAfterMs);
  }

  private channelLost(lostChannel: ClientChannel, info: ChannelCloseInfo): void {
    this.stopTimers();
    this.channel = null;
    if (this.stateValue === 'closed') return;
    // A code the server named in an `error` message before closing is more precise than the
    // transport's close code (WebTransport may only report an abrupt end).
    const code = info.code === CLOSE_ABNORMAL || info.code === 0 ? (this.lastServerError?.code ?? info.code) : info.code;
    const reason = info.reason || this.lastServerError?.message || '';
    const event: CloseEvent = { code, reason, byPeer: info.byPeer };
    if (!this.gotWelcomeOnChannel && lostChannel.kind === 'webtransport' && this.opts.transport === 'auto' && this.lastServerError === null) {
      // WebTransport opened but the game never started on it (middlebox, broken stream):
      // the next attempt goes straight to WebSocket, as if WebTransport had failed to open.
      this.skipWebTransportOnce = true;
    }
    if (this.drainTimer !== null) {
      this.stateValue = 'reconnecting'; // a drain reconnect is already scheduled
      return;
    }
    // A busy server says how long to stay away (`error.retryAfterMs`); a SERVER_BUSY close that
    // could not carry one (a WebTransport session refused before its stream opened) gets a floor.
    const retryAfterMs = this.lastServerError?.retryAfterMs
      ?? (code === CLOSE_CODES.SERVER_BUSY || code === CLOSE_CODES.TOO_MANY_SESSIONS ? BUSY_RETRY_FLOOR_MS : 0);
    if (code === CLOSE_CODES.WRONG_NODE) {
      // The room runs (or was just placed) elsewhere: connect-info names it, ask again at once,
      // within a short jitter so a crowd redirected together is spread. Bounded by maxAttempts.
      this.scheduleRetry(event, 0, Math.floor(this.opts.random() * WRONG_NODE_RETRY_JITTER_MS));
      return;
    }
    this.scheduleRetry(event, retryAfterMs);
  }

  /**
   * Reconnects after backoff with full jitter; a server's `retryAfterMs` is a floor added in
   * front of the jittered delay, so clients refused together do not come back together.
   */
  private scheduleRetry(cause: CloseEvent, retryAfterMs = 0, fixedDelayMs?: number): void {
    if (this.stateValue === 'closed') return;
    const ticketIsFixed = typeof this.options.ticket === 'string';
    if (cause.code === CLOSE_CODES.TICKET_EXPIRED || cause.code === CLOSE_CODES.TICKET_INVALID) {
      this.ticket = null;
      // A reused ticket refused as invalid (a replacement server with a rotated secret, say)
      // earns one retry with a fresh ticket from the provider; a fresh one refused is final.
      const retryFresh = cause.code === CLOSE_CODES.TICKET_INVALID && !ticketIsFixed && !this.ticketFresh;
      if (!retryFresh && isTerminalCloseCode(cause.code, ticketIsFixed)) {
        this.finish(cause);
        return;
      }
    } else if (isTerminalCloseCode(cause.code, ticketIsFixed)) {
      this.finish(cause);
      return;
    }
    if (this.attempt >= this.opts.policy.maxAttempts) {
      this.finish({ ...cause, reason: `gave up after ${this.attempt} attempts: ${cause.reason}` });
      return;
    }
    const delayMs = fixedDelayMs ?? Math.max(0, retryAfterMs) + backoffDelayMs(this.opts.policy, this.attempt, this.opts.random);
    this.attempt++;
    this.stateValue = this.everConnected ? 'reconnecting' : 'connecting';
    this.events.emit('reconnecting', { attempt: this.attempt, delayMs, reason: cause.reason, code: cause.code });
    this.retryTimer = this.opts.timers.setTimeout(() => void this.runAttempt(), delayMs);
  }

  private finish(info: CloseEvent): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.stopTimers();
    if (this.retryTimer !== null) this.opts.timers.clearTimeout(this.retryTimer);
    if (this.drainTimer !== null) this.opts.timers.clearTimeout(this.drainTimer);
    this.retryTimer = null;
    this.drainTimer = null;
    const channel = this.channel;
    this.channel = null;
    if (channel && !channel.closed) channel.close(info.byPeer ? CLOSE_CODES.NORMAL : info.code, info.reason);
    this.settleChat(this.outbox.clear());
    if (this.firstWelcome) {
      this.firstWelcome.reject(new Error(`closed before welcome: ${info.code} ${info.reason}`));
      this.firstWelcome = null;
    }
    this.events.emit('close', info);
  }

  // ---- timers -------------------------------------------------------------------------------

  private startWatchdog(limitMs: number): void {
    // One interval drives pings and the silence check; inputs have their own (20 Hz) timer.
    if (this.pingTimer !== null) this.opts.timers.clearInterval(this.pingTimer);
    const period = Math.min(this.opts.pingIntervalMs, limitMs);
    this.pingTimer = this.opts.timers.setInterval(() => this.onPingTick(limitMs), period);
  }

  private onPingTick(limitMs: number): void {
    const channel = this.channel;
    if (!channel) return;
    const now = this.opts.now();
    if (now - this.lastHeardAt > limitMs) {
      const what = this.stateValue === 'connected' ? 'server silent' : 'no welcome';
      // close() reports through the channel's onClose, which schedules the reconnect.
      channel.close(CLOSE_CODES.IDLE_TIMEOUT, `${what} for ${Math.round(now - this.lastHeardAt)} ms`);
      return;
    }
    if (this.stateValue !== 'connected') return;
    this.send(() => encodePing(this.heartbeat.nextPing()));
  }

  private startInputs(): void {
    if (this.inputTimer !== null) this.opts.timers.clearInterval(this.inputTimer);
    this.inputTimer = this.opts.timers.setInterval(() => this.sendInputTick(), this.opts.inputIntervalMs);
  }

  /**
   * One input tick: sample the direction, send it with the previous ones and the ack. A
   * spectator sends `spectate` instead: the ack and its camera.
   */
  sendInputTick(): void {
    if (this.stateValue !== 'connected' || !this.channel) return;
    if (this.spectator) {
      const w = this.welcomeInfo!;
      const [x, y] = this.camera ?? [Math.round(w.worldW / 2), Math.round(w.worldH / 2)];
      const ack = this.snapshots.ackId;
      this.send(() => encodeSpectate({ ack, x, y }));
      return;
    }
    const [dx, dy] = this.direction;
    const record = this.inputs.push(dx, dy, this.opts.now());
    const ack = this.snapshots.ackId;
    // Newest first: inputs[i] has seq `seq - i` (shared/messages.ts InputBody).
    const inputs = this.inputs.redundant().reverse().map((r): [number, number] => [r.dx, r.dy]);
    const bytes = () => encodeInput({ seq: record.seq, ack, inputs });
    if (this.send(bytes)) this.counters.inputsSent++;
    this.events.emit('input', record);
  }

  private stopTimers(): void {
    const t = this.opts.timers;
    if (this.inputTimer !== null) t.clearInterval(this.inputTimer);
    if (this.pingTimer !== null) t.clearInterval(this.pingTimer);
    if (this.chatResendTimer !== null) t.clearTimeout(this.chatResendTimer);
    this.inputTimer = null;
    this.pingTimer = null;
    this.chatResendTimer = null;
  }

  // ---- chat outbox ------------------------------------------------------------------------

  /** Sends the outbox's head when connected and nothing of ours is on the wire. */
  private pumpChat(): void {
    if (this.stateValue !== 'connected' || !this.channel) return;
    const line = this.outbox.take(this.opts.now());
    if (!line) {
      // A head refused for now waits for its retry time (a timer may fire a little early).
      const at = this.outbox.waitingUntil;
      if (at !== null) this.armChatResend(at);
      return;
    }
    if (!this.send(() => encodeChatSend(line.text, line.seq))) {
      // Not handed to the transport (it is closing): the head goes again on the next session.
      this.outbox.unsent(line.seq);
      return;
    }
    if (line.resend) this.counters.chatResent++;
  }

  /** Reports what the outbox settled, and arms the resend timer when the head must wait. */
  private settleChat(settled: OutboxSettled): void {
    for (const line of settled.accepted) {
      this.counters.chatAccepted++;
      this.events.emit('chatAccepted', line);
    }
    for (const line of settled.unsent) {
      this.counters.chatUnsent++;
      this.events.emit('chatUnsent', line);
    }
    if (settled.resendAt !== undefined) this.armChatResend(settled.resendAt);
  }

  /** Sends the outbox's head again at `at` (the client's clock), unless closed by then. */
  private armChatResend(at: number): void {
    if (this.stateValue === 'closed') return;
    if (this.chatResendTimer !== null) this.opts.timers.clearTimeout(this.chatResendTimer);
    // +1 ms: timers may fire a fraction early against the clock `now()` reads.
    const delay = Math.max(0, at - this.opts.now()) + 1;
    this.chatResendTimer = this.opts.timers.setTimeout(() => {
      this.chatResendTimer = null;
      this.pumpChat();
    }, delay);
  }

  // ---- I/O ----------------------------------------------------------------------------------

  /**
   * Encoders throw only on a body that breaks the schema (our bug, or a caller's NaN clock);
   * that must not escape a timer callback, so it becomes an `error` event and a failed send.
   */
  private encode(make: () => Uint8Array): Uint8Array | null {
    try {
      return make();
    } catch (error) {
      this.events.emit('error', { message: `could not encode a message: ${errorText(error)}` });
      return null;
    }
  }

  /**
   * Encodes and sends one message on its table channel (shared/messages.ts `channelOfMessage`),
   * counting its bytes; false when not sent.
   */
  private send(make: () => Uint8Array): boolean {
    if (!this.channel) return false;
    const bytes = this.encode(make);
    if (!bytes) return false;
    const unreliable = channelOfMessage(bytes) === 'unreliable';
    const ok = unreliable ? this.channel.sendUnreliable(bytes) : this.channel.sendReliable(bytes);
    if (ok && unreliable) this.counters.bytesUpUnreliable += bytes.byteLength;
    else if (ok) this.counters.bytesUpReliable += bytes.byteLength;
    return ok;
  }

  private onMessage(channel: ClientChannel, bytes: Uint8Array, ch: ChannelName): void {
    if (channel !== this.channel) return;
    if (ch === 'reliable') this.counters.bytesDownReliable += bytes.byteLength;
    else this.counters.bytesDownUnreliable += bytes.byteLength;
    this.lastHeardAt = this.opts.now();
    const decoded = decodeServerMessage(bytes, ch);
    if (!decoded.ok) {
      this.counters.messagesDropped++;
      return;
    }
    this.handle(decoded.message);
  }

  private handle(msg: ServerMessage): void {
    if (this.stateValue !== 'connected' && msg.type !== 'welcome' && msg.type !== 'error' && msg.type !== 'ping') {
      // Nothing but welcome (or a refusal) is expected before welcome.
      this.counters.messagesDropped++;
      return;
    }
    switch (msg.type) {
      case 'welcome':
        this.onWelcome(msg.body);
        return;
      case 'snapshot':
        this.onSnapshot(msg.bytes);
        return;
      case 'ping':
        this.send(() => encodePong(msg.body));
        return;
      case 'pong': {
        const sample = this.heartbeat.onPong(msg.body);
        if (typeof sample === 'number') this.rttSamples.push(sample);
        return; // an unknown or duplicate pong changes nothing
      }
      case 'chat':
        // Chat ids increase; a line we already saw is dropped (exactly once), and counted: the
        // server replays only after the lastChatId our hello carried, so a repeat is its fault.
        if (msg.body.id <= this.lastChatId) {
          this.counters.chatRepeated++;
          return;
        }
        this.lastChatId = msg.body.id;
        this.counters.chatReceived++;
        this.events.emit('chat', msg.body);
        return;
      case 'chatRejected':
        this.events.emit('chatRejected', msg.body);
        if (msg.body.seq !== undefined) {
          this.settleChat(this.outbox.rejected(msg.body.seq, msg.body.reason, msg.body.retryAfterMs, this.opts.now()));
          this.pumpChat();
        }
        return;
      case 'chatAccepted':
        this.settleChat(this.outbox.accepted(msg.body.seq));
        this.pumpChat();
        return;
      case 'playerJoined':
        this.events.emit('playerJoined', msg.body);
        return;
      case 'playerLeft':
        this.events.emit('playerLeft', msg.body);
        return;
      case 'drain':
        this.onDrain(msg.body.deadlineMs, msg.body.reconnectJitterMs, msg.body.nodeId, msg.body.httpUrl);
        return;
      case 'error':
        this.lastServerError = msg.body;
        this.events.emit('error', { message: msg.body.message, code: msg.body.code, ...(msg.body.retryAfterMs !== undefined ? { retryAfterMs: msg.body.retryAfterMs } : {}) });
        return;
    }
  }

  private onWelcome(body: Omit<WelcomeEvent, 'transport'> & { resumeToken: string }): void {
    if (this.stateValue === 'connected' || !this.channel) {
      this.counters.messagesDropped++;
      return;
    }
    const { resumeToken, ...rest } = body;
    const welcome: WelcomeEvent = { ...rest, transport: this.channel.kind };
    if (this.everConnected) this.counters.reconnects++;
    if (!welcome.resumed) {
      // A server that did not know our session may number chat afresh (another process after a
      // drain), so our last id would hide its lines. No duplicates follow from forgetting it:
      // the server replays only lines after the lastChatId our hello carried.
      this.lastChatId = 0;
    }
    this.everConnected = true;
    this.gotWelcomeOnChannel = true;
    this.attempt = 0;
    this.resumeToken = resumeToken;
    this.chatEpoch = welcome.chatEpoch;
    this.welcomeInfo = welcome;
    this.snapshots.setWorld(welcome.worldW, welcome.worldH);
    this.stateValue = 'connected';
    this.startWatchdog(SERVER_SILENCE_TIMEOUT_MS);
    this.startInputs();
    this.events.emit('welcome', welcome);
    if (this.firstWelcome) {
      this.firstWelcome.resolve(welcome);
      this.firstWelcome = null;
    }
    // The outbox after the welcome's listeners: lines up to lastChatSeq are in, the rest go
    // again (resumed) or are renumbered for the new session; the line that was on the wire when a
    // session was lost is given up (ChatOutbox.welcome).
    this.settleChat(this.outbox.welcome(welcome.resumed, welcome.lastChatSeq));
    this.pumpChat();
  }

  private onSnapshot(body: Uint8Array): void {
    const result = this.snapshots.decode(body);
    if (!result.ok) {
      this.counters.snapshotsDropped++;
      return;
    }
    const snap = result.snapshot;
    const arrival = this.tracker.record(snap.id);
    if (arrival !== 'new') {
      // Older than what we have: its state is stale for display. It still served as a baseline.
      return;
    }
    const now = this.opts.now();
    if (this.lastSnapshotAt !== null) this.gaps.push(now - this.lastSnapshotAt);
    this.lastSnapshotAt = now;
    this.counters.snapshotsReceived++;
    this.events.emit('snapshot', {
      id: snap.id,
      serverTime: snap.serverTime,
      serverTick: snap.serverTick,
      lastInputSeq: snap.lastInputSeq,
      entities: snap.entities,
      omitted: snap.omitted,
      receivedAt: now,
    });
  }

  private onDrain(deadlineMs: number, jitterMs: number, nodeId?: string, httpUrl?: string): void {
    if (this.drainTimer !== null) return;
    if (httpUrl !== undefined && /^https?:\/\//.test(httpUrl)) {
      // The node that takes the room over answers connect-info for it (any node would; this one
      // surely outlives the drain).
      this.entryPoints = [httpUrl, ...this.entryPoints.filter((u) => u !== httpUrl)].slice(0, MAX_ALTERNATES + 1);
      this.entryIndex = 0;
    }
    // Reconnect within the jitter window, and before the server's deadline closes us anyway.
    const windowMs = Math.max(0, Math.min(jitterMs, deadlineMs));
    const delay = Math.floor(this.opts.random() * windowMs);
    this.events.emit('drain', { deadlineMs, reconnectJitterMs: jitterMs, reconnectInMs: delay, ...(nodeId !== undefined ? { nodeId } : {}) });
    this.drainTimer = this.opts.timers.setTimeout(() => {
      this.drainTimer = null;
      if (this.stateValue === 'closed') return;
      const channel = this.channel;
      this.stopTimers();
      this.channel = null;
      // No `leave`: the session should stay resumable if we land on the same server again.
      if (channel && !channel.closed) channel.close(CLOSE_CODES.NORMAL, 'reconnecting after drain');
      this.stateValue = 'reconnecting';
      this.events.emit('reconnecting', { attempt: 1, delayMs: 0, reason: 'server draining', code: CLOSE_CODES.SERVER_DRAINING });
      this.attempt = 1;
      void this.runAttempt();
    }, delay);
  }
}

/**
 * Least wait after a SERVER_BUSY or TOO_MANY_SESSIONS close that carried no `retryAfterMs` (the
 * server's pending-hello refusal asks for 1 s, its session-share refusal 10 s:
 * server/session/admission.ts).
 */
export const BUSY_RETRY_FLOOR_MS = 1_000;

/** A WRONG_NODE refusal is retried (through connect-info) after a uniform delay below this. */
export const WRONG_NODE_RETRY_JITTER_MS = 100;

/** `retryAfterMs` a ticket provider's error carries, if any (0 otherwise). */
function retryAfterOf(error: unknown): number {
  const v = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
