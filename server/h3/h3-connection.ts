/**
 * One HTTP/3 connection (RFC 9114) with the WebTransport extension (draft-ietf-webtrans-http3
 * -02 and -07), either role, over the narrow QUIC interface `H3Transport`. This file is the
 * dispatcher: it turns QUIC events into calls on the reader of each stream (h3-context.ts) and
 * session calls into calls on the piece that owns them:
 * - control-streams.ts: control streams, SETTINGS, GOAWAY, the peer's unidirectional streams;
 * - server-connect.ts / client-connect.ts: extended CONNECT in each role;
 * - connect-stream.ts: the capsules on a live session's CONNECT stream;
 * - session-table.ts: sessions and how they end, the idle close of the connection;
 * - wt-stream-registry.ts: WebTransport streams, early (buffered) streams, ended sessions;
 * - datagram-router.ts: HTTP datagrams.
 *
 * Errors are never thrown to the event loop: bad input from the peer ends in `connectionError`
 * (CONNECTION_CLOSE with an HTTP/3 code), a stream reset, a session close, or a counted drop.
 * Application callbacks are called through `invokeCallback` (app-callback.ts): one that throws
 * or rejects is counted in `callbackErrors` and aborts only its own session, whose CONNECT
 * stream is reset (both ways) with H3_INTERNAL_ERROR. A throw from our own timer code closes
 * this connection with H3_INTERNAL_ERROR.
 */
import { H3_CLOSED_CRITICAL_STREAM, H3_INTERNAL_ERROR, H3_NO_ERROR, errorCodeName } from './wire/errors.js';
import type { WebTransportSupport } from './wire/settings.js';
import { isBidiStream, isPeerInitiatedStream } from './wire/stream-id.js';
import type { WebTransportSessionHost, WebTransportSession, WebTransportStream } from './session.js';
import { bump, type H3Counters } from './h3-counters.js';
import { nodeH3Scheduler, type H3Scheduler, type H3Transport, type QuicCloseInfo, type QuicConnectionHandler } from './h3-transport.js';
import { DONE, type H3Context, type StreamReader } from './h3-context.js';
import { ControlStreams } from './control-streams.js';
import { ServerRequests, type ConnectRequest } from './server-connect.js';
import { ClientConnects } from './client-connect.js';
import { sendClose, sendDrain } from './connect-stream.js';
import { SessionTable } from './session-table.js';
import { WtStreamRegistry } from './wt-stream-registry.js';
import { DatagramRouter } from './datagram-router.js';
import { PeerBufferBudget, StreamTable } from './peer-buffers.js';

export type { ConnectRequest } from './server-connect.js';
export type { ConnectFailure } from './client-connect.js';

/** Server role: decides on each CONNECT and receives the sessions it accepted. */
export interface H3ServerPolicy {
  /** The HTTP status to answer: 2xx opens a session; anything else refuses it. */
  decide(request: ConnectRequest): number;
  onSession(session: WebTransportSession): void;
  /** The session ended (before its `onClose` runs). */
  onSessionClosed?(session: WebTransportSession): void;
}

export interface H3ConnectionOptions {
  role: 'server' | 'client';
  counters: H3Counters;
  /** Timers for the layer's deadlines (default: Node timers that do not hold the process). */
  scheduler?: H3Scheduler;
  /**
   * The peer-bytes budget this connection shares with the other connections of its server
   * (MAX_PEER_BYTES_TOTAL); default: a budget of its own.
   */
  budget?: PeerBufferBudget;
  /** Server role only. */
  policy?: H3ServerPolicy;
  /** Called once when the QUIC connection is gone. */
  onClosed?: (info: QuicCloseInfo) => void;
  /** Client role: the server's SETTINGS arrived (CONNECT may be sent). */
  onPeerSettings?: (support: WebTransportSupport) => void;
  /** Client role: the server sent GOAWAY (RFC 9114 §5.2). */
  onGoaway?: () => void;
  /**
   * Client role: checks the server's certificate once the handshake completes, before any
   * HTTP/3 byte is sent. Returns null to accept or a reason to refuse; a refusal closes the
   * connection with the TLS bad_certificate alert code (RFC 9001 §4.8: 0x100 + 42).
   */
  verifyPeer?: () => string | null;
  /**
   * Close the QUIC connection shortly after its last session ends (default true). Tests set it
   * false on a client to behave like Chromium, which leaves that to the server.
   */
  closeWhenIdle?: boolean;
}

/** CRYPTO_ERROR for TLS alert bad_certificate (RFC 9001 §4.8, RFC 8446 §6). */
const QUIC_CRYPTO_BAD_CERTIFICATE = 0x100 + 42;

/** HTTP/3 connection (either role) over an `H3Transport` (a `QuicConnection`). */
export class H3Connection implements QuicConnectionHandler, WebTransportSessionHost, H3Context {
  readonly role: 'server' | 'client';
  readonly counters: H3Counters;
  readonly scheduler: H3Scheduler;
  readonly readers: StreamTable;
  readonly control: ControlStreams;
  readonly server: ServerRequests;
  readonly client: ClientConnects;
  readonly sessions: SessionTable;
  readonly registry: WtStreamRegistry;
  private readonly datagrams: DatagramRouter;
  /** How the QUIC connection ended (set before its sessions hear onClose); null while open. */
  closeInfo: QuicCloseInfo | null = null;
  private closed = false;

  constructor(readonly transport: H3Transport, readonly options: H3ConnectionOptions) {
    this.role = options.role;
    this.counters = options.counters;
    this.scheduler = options.scheduler ?? nodeH3Scheduler;
    this.readers = new StreamTable(options.budget ?? new PeerBufferBudget(), this.scheduler, (id, r) => this.guard(() => r.overLimit?.(id, 'time')));
    this.control = new ControlStreams(this);
    this.server = new ServerRequests(this);
    this.client = new ClientConnects(this);
    this.sessions = new SessionTable(this);
    this.registry = new WtStreamRegistry(this);
    this.datagrams = new DatagramRouter(this);
    transport.handler = this;
  }

  /** Peer address as 'host:port'. */
  get remoteAddress(): string {
    const r = this.transport.remote;
    return r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Server role: sends GOAWAY (RFC 9114 §5.2) naming the first request stream we will not
   * process, and a DRAIN capsule to every session. Idempotent.
   */
  drain(): void {
    if (this.closed) return;
    // A client's GOAWAY would carry a push id; we never accept pushes, so it sends 0.
    this.control.sendGoaway(this.role === 'server' ? this.server.goawayId : 0);
    this.sessions.forEach((s) => this.drainSession(s));
  }

  /**
   * Closes the QUIC connection with an HTTP/3 error code (RFC 9114 §8), counted by code name or,
   * for a named limit the peer passed, under `limit`.
   */
  connectionError(code: number, detail: string, limit?: string): void {
    if (this.closed) return;
    if (limit === undefined) bump(this.counters.connectionErrors, errorCodeName(code));
    else bump(this.counters.limits, limit);
    this.transport.close(true, code, detail.slice(0, 200));
  }

  /** Closes the QUIC connection cleanly (H3_NO_ERROR). */
  close(): void {
    if (this.closed) return;
    this.transport.close(true, H3_NO_ERROR, '');
  }

  /**
   * A stream error (RFC 9114 §8): the stream is reset and stopped with `code`, counted by code
   * name or, for a named limit the peer passed, under `limit`.
   */
  rejectStream(id: number, code: number, limit?: string): void {
    if (limit === undefined) bump(this.counters.streamErrors, errorCodeName(code));
    else bump(this.counters.limits, limit);
    this.transport.resetStream(id, code);
    this.transport.stopSending(id, code);
    this.readers.set(id, DONE);
    this.sessions.scheduleIdleClose();
  }

  /**
   * Client role: sends an extended CONNECT for a WebTransport session. Resolves with the session
   * on a 2xx response; rejects with a `ConnectFailure` (the status of a refusal) otherwise.
   */
  connect(authority: string, path: string, origin: string | null): Promise<WebTransportSession> {
    return this.client.connect(authority, path, origin);
  }

  /**
   * Runs our own timer code: a throw (a bug of ours) must not reach the event loop; it closes
   * this connection with H3_INTERNAL_ERROR (counted in `connectionErrors`) and nothing else.
   */
  guard(fn: () => void): void {
    try {
      fn();
    } catch {
      try {
        this.connectionError(H3_INTERNAL_ERROR, 'internal error');
      } catch {
        // The QUIC layer is beyond use too; its idle timeout ends it.
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // QuicConnectionHandler: QUIC events to the stream readers

  onEstablished(): void {
    if (this.options.verifyPeer) {
      const refusal = this.options.verifyPeer();
      if (refusal !== null) {
        this.transport.close(false, QUIC_CRYPTO_BAD_CERTIFICATE, refusal);
        return;
      }
    }
    this.control.open();
  }

  onStreamData(id: number, data: Uint8Array, fin: boolean): void {
    let reader = this.readers.get(id);
    if (!reader) {
      const fresh = this.classify(id);
      if (!fresh) return;
      reader = fresh;
      this.readers.set(id, reader);
    }
    reader.data(id, data, fin);
    this.enforce(id);
    // A stream whose peer side has ended needs no state: quiche ignores anything more on it.
    // (Readers of streams still open stay; quiche's stream limits bound how many there are.)
    if (fin && this.readers.get(id) === DONE) this.readers.delete(id);
  }

  onStreamReset(id: number, code: number): void {
    const reader = this.readers.get(id);
    if (!reader) return;
    this.readers.delete(id);
    reader.reset(id, code);
  }

  onStreamStopped(id: number, code: number | null): void {
    if (this.control.isOurControlStream(id)) {
      this.connectionError(H3_CLOSED_CRITICAL_STREAM, 'peer stopped our control stream');
      return;
    }
    if (this.registry.stopped(id, code)) return;
    this.readers.get(id)?.stopped?.(id, code);
  }

  onStreamWritable(id: number): void {
    this.registry.writable(id);
  }

  onDatagram(data: Uint8Array): void {
    this.datagrams.receive(data);
  }

  onClosed(info: QuicCloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    this.closeInfo = info;
    for (const r of this.readers.values()) r.connectionClosed?.(info);
    this.sessions.connectionClosed(info);
    this.readers.clear();
    this.registry.clear();
    this.options.onClosed?.(info);
  }

  /**
   * Books what stream `id`'s reader holds after it was fed and refuses the stream when that
   * passed a limit (peer-buffers.ts).
   */
  enforce(id: number): void {
    const limit = this.readers.account(id);
    if (limit !== null) this.readers.get(id)?.overLimit?.(id, limit);
  }

  /** The reader of a stream the peer just opened; null for our own stream already forgotten. */
  private classify(id: number): StreamReader | null {
    if (!isBidiStream(id)) return this.control.newUniStream();
    const peerInitiated = isPeerInitiatedStream(id, this.role);
    if (!peerInitiated) return null;
    return this.role === 'server' ? this.server.newRequestStream(id) : this.client.newServerStream();
  }

  // -------------------------------------------------------------------------------------------
  // WebTransportSessionHost: what sessions and streams ask of their connection

  sendDatagram(session: WebTransportSession, payload: Uint8Array): boolean {
    return this.datagrams.send(session, payload);
  }

  purgeDatagrams(session: WebTransportSession, pred: (payload: Uint8Array) => boolean): void {
    this.datagrams.purge(session, pred);
  }

  maxDatagramSize(session: WebTransportSession): number {
    return this.datagrams.maxSize(session);
  }

  openStream(session: WebTransportSession, bidi: boolean): WebTransportStream | null {
    return this.registry.open(session, bidi);
  }

  closeSession(session: WebTransportSession, code: number, reason: string): void {
    sendClose(this, session, code, reason);
  }

  drainSession(session: WebTransportSession): void {
    sendDrain(this, session);
  }

  streamWrite(stream: WebTransportStream, data: Uint8Array, fin: boolean): boolean {
    return this.registry.write(stream, data, fin);
  }

  streamReset(stream: WebTransportStream, code: number): void {
    this.registry.reset(stream, code);
  }

  streamStopSending(stream: WebTransportStream, code: number): void {
    this.registry.stopSending(stream, code);
  }

  streamQueuedBytes(stream: WebTransportStream): number {
    return this.transport.queuedBytes(stream.id);
  }

  callbackFailed(session: WebTransportSession, error: unknown): void {
    this.sessions.callbackFailed(session, error);
  }
}
