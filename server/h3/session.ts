/**
 * A WebTransport session (draft-ietf-webtrans-http3, -02 and -07) and its streams. The same
 * classes serve the server role (handed out by `WebTransportServer.onSession`) and the client
 * role (inside `NodeWebTransport`). All I/O goes through the owning HTTP/3 connection
 * (`WebTransportSessionHost`); these objects hold state and callbacks only.
 *
 * Error codes: every stream reset / stop code and session close code here is a WebTransport
 * application code (32-bit); the HTTP/3 mapping (draft-ietf-webtrans-http3 §4.3) happens below.
 * The one HTTP/3 code that reaches the application is `SessionCloseInfo.http3Code`, in a field
 * of its own, for a session that ended abruptly.
 */

/**
 * How a session ended. A clean end (draft-ietf-webtrans-http3 §6: a CLOSE_WEBTRANSPORT_SESSION
 * capsule, or a bare FIN meaning code 0) carries the WebTransport application `code` and
 * `reason`; an abrupt end (the CONNECT stream reset or stopped, by either side, or the QUIC
 * connection closed under the session) has code 0 and says why in `http3Code` and `reason`.
 */
export interface SessionCloseInfo {
  /**
   * WebTransport application close code (32-bit) of the CLOSE capsule; 0 for a bare FIN and for
   * every abrupt end.
   */
  code: number;
  /** The CLOSE capsule's reason, or what ended the session abruptly. */
  reason: string;
  /** True when the peer closed (or the connection failed), false when we closed. */
  byPeer: boolean;
  /**
   * Set only for an abrupt end: the HTTP/3 code (RFC 9114 §8.1, draft-ietf-webtrans-http3 §9)
   * the CONNECT stream was reset or stopped with (H3_MESSAGE_ERROR for a malformed capsule,
   * H3_INTERNAL_ERROR for a callback that threw, ...), or the application code the QUIC
   * connection was closed with. Absent after a clean close and when the connection ended with a
   * transport (non-HTTP/3) code or an idle timeout.
   */
  http3Code?: number;
  /**
   * Set when this side aborted the session because one of its application callbacks (or a
   * stream's) threw or rejected: the thrown value, for logging. `http3Code` is then
   * H3_INTERNAL_ERROR (0x102), the code the CONNECT stream was reset with (see index.ts).
   */
  error?: unknown;
}

/** @internal What a session needs from its HTTP/3 connection. */
export interface WebTransportSessionHost {
  sendDatagram(session: WebTransportSession, payload: Uint8Array): boolean;
  purgeDatagrams(session: WebTransportSession, pred: (payload: Uint8Array) => boolean): void;
  maxDatagramSize(session: WebTransportSession): number;
  openStream(session: WebTransportSession, bidi: boolean): WebTransportStream | null;
  closeSession(session: WebTransportSession, code: number, reason: string): void;
  drainSession(session: WebTransportSession): void;
  streamWrite(stream: WebTransportStream, data: Uint8Array, fin: boolean): boolean;
  streamReset(stream: WebTransportStream, code: number): void;
  streamStopSending(stream: WebTransportStream, code: number): void;
  streamQueuedBytes(stream: WebTransportStream): number;
  /** An application callback of the session or one of its streams threw: count, abort it. */
  callbackFailed(session: WebTransportSession, error: unknown): void;
}

/**
 * One WebTransport stream: bidirectional (0x41) or unidirectional (0x54), opened by either side.
 * A unidirectional stream is only writable (ours) or only readable (the peer's).
 */
export class WebTransportStream {
  /** Bytes arrived (in order). */
  onData: ((data: Uint8Array) => void) | null = null;
  /** The peer finished its send side (FIN). */
  onEnd: (() => void) | null = null;
  /**
   * The peer reset its send side. `code` is the WebTransport code, or null when the HTTP/3 code
   * (`http3Code`) is outside the WebTransport range (e.g. WT_SESSION_GONE, H3_REQUEST_CANCELLED).
   */
  onReset: ((code: number | null, http3Code: number) => void) | null = null;
  /**
   * The peer sent STOP_SENDING: our send side is gone. Same code convention as `onReset`;
   * `http3Code` is null when it could not be read (quiche collects a stopped send-only stream
   * at once, so on unidirectional streams the code is usually unknown).
   */
  onStopSending: ((code: number | null, http3Code: number | null) => void) | null = null;
  /** A refused `write` may be retried now. */
  onWritable: (() => void) | null = null;
  /** The session ended while the stream was open: both sides are gone (WT_SESSION_GONE). */
  onSessionClosed: (() => void) | null = null;

  /** @internal */ readDone = false;
  /** @internal */ writeDone = false;

  /** @internal */
  constructor(
    /** QUIC stream id. */
    readonly id: number,
    readonly session: WebTransportSession,
    /** True for a bidirectional stream. */
    readonly bidi: boolean,
    /** True when this side opened the stream. */
    readonly local: boolean,
    private readonly host: WebTransportSessionHost,
  ) {
    if (!bidi) {
      if (local) this.readDone = true;
      else this.writeDone = true;
    }
  }

  /** True while this side may still write. */
  get writable(): boolean {
    return !this.writeDone;
  }

  /** True while the peer may still send data. */
  get readable(): boolean {
    return !this.readDone;
  }

  /** Bytes accepted by `write` but not yet handed to QUIC. */
  get queuedBytes(): number {
    return this.host.streamQueuedBytes(this);
  }

  /**
   * Queues bytes. Returns false, taking nothing, when the stream's write queue limit would be
   * passed (wait for `onWritable`) or the stream/session is closed.
   */
  write(data: Uint8Array): boolean {
    if (this.writeDone) return false;
    return this.host.streamWrite(this, data, false);
  }

  /** Finishes the send side (FIN) after the queued bytes. */
  end(): void {
    if (this.writeDone) return;
    this.writeDone = true;
    this.host.streamWrite(this, new Uint8Array(0), true);
  }

  /** Abandons the send side with RESET_STREAM carrying WebTransport code `code`. */
  reset(code = 0): void {
    if (this.writeDone && !this.bidi && !this.local) return;
    this.writeDone = true;
    this.host.streamReset(this, code);
  }

  /** Asks the peer to stop sending (STOP_SENDING with WebTransport code `code`). */
  stopSending(code = 0): void {
    if (this.readDone) return;
    this.readDone = true;
    this.host.streamStopSending(this, code);
  }
}

/**
 * One WebTransport session. Server role: from `WebTransportServer.onSession`. Client role: the
 * engine under `NodeWebTransport`.
 */
export class WebTransportSession {
  /** One datagram payload (without the HTTP datagram prefix). */
  onDatagram: ((data: Uint8Array) => void) | null = null;
  /** The peer opened a bidirectional stream. */
  onBidiStream: ((stream: WebTransportStream) => void) | null = null;
  /** The peer opened a unidirectional stream. */
  onUniStream: ((stream: WebTransportStream) => void) | null = null;
  /** The session ended (once). */
  onClose: ((info: SessionCloseInfo) => void) | null = null;
  /** The peer asked us to wind the session down (DRAIN capsule or HTTP/3 GOAWAY). */
  onDrain: (() => void) | null = null;

  /** @internal */ closed = false;
  /** @internal */ closeInfo: SessionCloseInfo | null = null;
  /** @internal */ drainReceived = false;
  /** @internal */ readonly streams = new Map<number, WebTransportStream>();
  /** Datagrams dropped at send because the queue was full or the datagram too large. */
  datagramsDropped = 0;
  datagramsSent = 0;
  datagramsReceived = 0;
  /**
   * @internal Where a throw from this session's (or its streams') callbacks goes: one function
   * per session, made once, so the datagram path allocates no closure per call.
   */
  readonly callbackFailed = (error: unknown): void => this.host.callbackFailed(this, error);

  /** @internal */
  constructor(
    /** The session id: the stream id of its CONNECT request (draft-ietf-webtrans-http3 §2). */
    readonly id: number,
    /** Request path of the CONNECT (e.g. '/wt'). */
    readonly path: string,
    /** `origin` header of the CONNECT, or '' when absent (non-browser clients). */
    readonly origin: string,
    /** Peer address as 'host:port'. */
    readonly remoteAddress: string,
    /** @internal */ readonly host: WebTransportSessionHost,
  ) {}

  /** True once the session ended. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Largest datagram payload that fits one QUIC packet now (quiche's limit minus the HTTP
   * datagram prefix). Browsers may accept less (Chromium reports 1199, Firefox 1212).
   */
  get maxDatagramSize(): number {
    return this.host.maxDatagramSize(this);
  }

  /**
   * Sends one datagram (RFC 9297). Never blocks: returns false when it was dropped (queue full,
   * too large, or session closed); drops are counted in `datagramsDropped`.
   */
  sendDatagram(data: Uint8Array): boolean {
    if (this.closed) return false;
    const ok = this.host.sendDatagram(this, data);
    if (ok) this.datagramsSent++;
    else this.datagramsDropped++;
    return ok;
  }

  /** Drops queued, not yet sent datagrams of this session for which `pred` is true. */
  purgeDatagrams(pred: (payload: Uint8Array) => boolean): void {
    if (!this.closed) this.host.purgeDatagrams(this, pred);
  }

  /** Opens a bidirectional stream; null when the session is closed or too many streams are open. */
  openBidiStream(): WebTransportStream | null {
    return this.closed ? null : this.host.openStream(this, true);
  }

  /** Opens a unidirectional (send-only) stream; null when closed or at the stream limit. */
  openUniStream(): WebTransportStream | null {
    return this.closed ? null : this.host.openStream(this, false);
  }

  /**
   * Closes the session with CLOSE_WEBTRANSPORT_SESSION (32-bit `code`, reason truncated to 1024
   * UTF-8 bytes), then FIN; all its streams are reset. Idempotent.
   */
  close(code = 0, reason = ''): void {
    if (this.closed) return;
    this.host.closeSession(this, code >>> 0, reason);
  }

  /** Asks the peer to wind down (DRAIN_WEBTRANSPORT_SESSION capsule, draft-07 §4.7). */
  drain(): void {
    if (!this.closed) this.host.drainSession(this);
  }
}
