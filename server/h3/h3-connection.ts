/**
 * HTTP/3 (RFC 9114) with the WebTransport extension (draft-ietf-webtrans-http3 -02 and -07) on
 * one QUIC connection, for both roles. It owns the control streams, classifies every incoming
 * stream, runs extended CONNECT (RFC 9220) on request streams, multiplexes WebTransport streams
 * and HTTP datagrams (RFC 9297) to sessions, and turns protocol violations into the precise error
 * (connection error, stream reset, or session close) the specs name.
 *
 * Errors are never thrown to the event loop: bad input from the peer ends in `connectionError`
 * (CONNECTION_CLOSE with an HTTP/3 code), a stream reset, a session close, or a counted drop.
 * Application callbacks are called through `invokeCallback` (app-callback.ts): one that throws
 * or rejects is counted in `callbackErrors` and aborts only its own session, whose CONNECT
 * stream is reset (both ways) with H3_INTERNAL_ERROR. A throw from our own timer code closes
 * this connection with H3_INTERNAL_ERROR.
 */
import type { QuicCloseInfo, QuicConnection, QuicConnectionHandler } from './quic/quic-connection.js';
import { FrameDecoder, FRAME_CANCEL_PUSH, FRAME_GOAWAY, FRAME_HEADERS, FRAME_MAX_PUSH_ID, FRAME_PUSH_PROMISE, FRAME_SETTINGS, decodeGoaway, encodeGoawayFrame, encodeHeadersFrame, type FrameEvent } from './wire/frames.js';
import { CLIENT_SETTINGS, SERVER_SETTINGS, decodeSettings, encodeSettingsFrame, webTransportSupport, type WebTransportSupport } from './wire/settings.js';
import { UNI_STREAM_CONTROL, encodeUniStreamType, encodeWtBidiStreamHeader, encodeWtUniStreamHeader, parseUniStreamHeader } from './wire/wt-streams.js';
import { decodeDatagram, datagramPrefixLength, encodeDatagram } from './wire/datagram.js';
import { writeVarint } from './wire/varint.js';
import { concatBytes } from './wire/bytes.js';
import { CapsuleParser, encodeCloseSessionData, encodeDrainSessionData } from './wire/capsules.js';
import {
  H3_CLOSED_CRITICAL_STREAM, H3_FRAME_UNEXPECTED, H3_ID_ERROR, H3_INTERNAL_ERROR, H3_MESSAGE_ERROR, H3_MISSING_SETTINGS,
  H3_NO_ERROR, H3_REQUEST_REJECTED, H3_STREAM_CREATION_ERROR, WT_BUFFERED_STREAM_REJECTED, WT_SESSION_GONE,
  errorCodeName, http3CodeToWebTransport, webTransportCodeToHttp3,
} from './wire/errors.js';
import { decodeFieldSection, encodeFieldSection } from './wire/qpack/field-section.js';
import { buildConnectRequestHeaders, buildConnectResponseHeaders, validateConnectRequest, validateConnectResponse } from './wire/connect-request.js';
import { WebTransportSession, WebTransportStream, type SessionCloseInfo, type SessionHost } from './session.js';
import { bump, type H3Counters } from './h3-counters.js';
import { invokeCallback } from './app-callback.js';
import {
  BUFFERED_STREAM_TIMEOUT_MS, CONNECTION_CLOSE_LINGER_MS, CONNECTION_CLOSE_MAX_WAIT_MS,
  MAX_BUFFERED_STREAM_BYTES, MAX_BUFFERED_STREAMS_PER_CONNECTION, MAX_REQUESTS_BEFORE_SETTINGS,
  MAX_ENDED_SESSIONS_REMEMBERED, MAX_SESSIONS_PER_CONNECTION,
} from './h3-limits.js';

/** A validated extended CONNECT request (RFC 9220 §3, draft-ietf-webtrans-http3 §3.2). */
export interface ConnectRequest {
  streamId: number;
  authority: string;
  path: string;
  /** `origin` header, '' when absent. */
  origin: string;
  /** Every field line as received (lowercase names). */
  headers: ReadonlyArray<readonly [string, string]>;
}

/** Server role: decides on each CONNECT and receives the sessions it accepted. */
export interface H3ServerPolicy {
  /** The HTTP status to answer: 200 opens a session; anything else refuses it. */
  decide(request: ConnectRequest, connection: H3Connection): number;
  onSession(session: WebTransportSession): void;
  /** The session ended (before its `onClose` runs). */
  onSessionClosed?(session: WebTransportSession): void;
}

export interface H3ConnectionOptions {
  role: 'server' | 'client';
  counters: H3Counters;
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

/** Client role: a CONNECT in flight. */
interface PendingConnect {
  resolve: (session: WebTransportSession) => void;
  reject: (error: { status?: number; message: string }) => void;
  path: string;
  origin: string;
}

type InState =
  /** Peer unidirectional stream whose type is not read yet. */
  | { kind: 'uni-header'; buf: Uint8Array }
  | { kind: 'control'; dec: FrameDecoder; gotSettings: boolean }
  /** QPACK encoder/decoder stream of the peer: read and discarded (our table capacity is 0). */
  | { kind: 'discard'; critical: boolean }
  /** Server: a request stream before its HEADERS; client: a server-initiated bidi stream. */
  | { kind: 'request'; dec: FrameDecoder }
  /** Server: HEADERS seen, waiting for the peer's SETTINGS before deciding. */
  | { kind: 'request-waiting'; dec: FrameDecoder; request: ConnectRequest }
  /** Client: our CONNECT, waiting for the response HEADERS. */
  | { kind: 'connect-pending'; dec: FrameDecoder; pending: PendingConnect }
  /** The CONNECT stream of a live session: DATA frames carry capsules. */
  | { kind: 'connect'; dec: FrameDecoder; capsules: CapsuleParser; session: WebTransportSession }
  | { kind: 'wt'; stream: WebTransportStream }
  | { kind: 'wt-buffered'; sessionId: number; bidi: boolean; chunks: Uint8Array[]; bytes: number; fin: boolean; timer: NodeJS.Timeout }
  /** Anything more on this stream is ignored. */
  | { kind: 'done' };

/** Framing buffer for outgoing HTTP datagrams (larger ones fall back to an allocation). */
const DATAGRAM_SCRATCH = new Uint8Array(2048);

/** RFC 9000 §2.1 stream id bits. */
function isBidi(id: number): boolean {
  return (id & 2) === 0;
}
function isClientInitiated(id: number): boolean {
  return (id & 1) === 0;
}

/** HTTP/3 connection (either role) over a `QuicConnection`. */
export class H3Connection implements QuicConnectionHandler, SessionHost {
  /** Sessions by session id (CONNECT stream id). */
  readonly sessions = new Map<number, WebTransportSession>();
  private readonly ended = new Set<number>();
  private readonly inStreams = new Map<number, InState>();
  private readonly wtStreams = new Map<number, WebTransportStream>();
  private bufferedStreams = 0;
  private pendingRequests = 0;
  private controlStreamId = -1;
  private peerControlSeen = false;
  private peerQpackEncoderSeen = false;
  private peerQpackDecoderSeen = false;
  private peerSupport: WebTransportSupport | null = null;
  private maxClientBidiSeen = -4;
  private goawaySent = false;
  private goawayReceived = false;
  private closeTimer: NodeJS.Timeout | null = null;
  private requestsSeen = 0;
  private closed = false;
  private readonly counters: H3Counters;

  constructor(readonly quic: QuicConnection, private readonly options: H3ConnectionOptions) {
    this.counters = options.counters;
    quic.handler = this;
  }

  get role(): 'server' | 'client' {
    return this.options.role;
  }

  /** Peer address as 'host:port'. */
  get remoteAddress(): string {
    const r = this.quic.remote;
    return r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`;
  }

  /** The peer's WebTransport capabilities, once its SETTINGS arrived. */
  get peerSettings(): WebTransportSupport | null {
    return this.peerSupport;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** How the QUIC connection ended (set before its sessions hear onClose); null while open. */
  closeInfo: QuicCloseInfo | null = null;

  /**
   * Server role: sends GOAWAY (RFC 9114 §5.2) naming the first request stream we will not
   * process, and a DRAIN capsule to every session. Idempotent.
   */
  drain(): void {
    if (this.closed) return;
    if (!this.goawaySent && this.controlStreamId >= 0) {
      this.goawaySent = true;
      this.counters.goawaysSent++;
      // Server GOAWAY carries a client bidi stream id (RFC 9114 §7.2.6); the client's
      // GOAWAY would carry a push id, and we never push, so the client sends 0.
      const id = this.role === 'server' ? this.maxClientBidiSeen + 4 : 0;
      this.quic.write(this.controlStreamId, encodeGoawayFrame(id));
    }
    for (const s of this.sessions.values()) this.drainSession(s);
  }

  /** Closes the QUIC connection with an HTTP/3 error code (RFC 9114 §8). */
  connectionError(code: number, detail: string): void {
    if (this.closed) return;
    bump(this.counters.connectionErrors, errorCodeName(code));
    this.quic.close(true, code, detail.slice(0, 200));
  }

  /** Closes the QUIC connection cleanly (H3_NO_ERROR). */
  close(): void {
    if (this.closed) return;
    this.quic.close(true, H3_NO_ERROR, '');
  }

  /**
   * Client role: sends an extended CONNECT for a WebTransport session. Resolves with the session
   * on a 2xx response; rejects with the status otherwise.
   */
  connect(authority: string, path: string, origin: string | null): Promise<WebTransportSession> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject({ message: 'connection closed' });
        return;
      }
      const id = this.quic.openStream(true);
      const fields = buildConnectRequestHeaders({ authority, path, origin: origin ?? undefined });
      const pending: PendingConnect = { resolve, reject, path, origin: origin ?? '' };
      this.inStreams.set(id, { kind: 'connect-pending', dec: new FrameDecoder(), pending });
      if (!this.quic.write(id, encodeHeadersFrame(encodeFieldSection(fields)))) {
        this.inStreams.delete(id);
        reject({ message: 'could not open a request stream' });
      }
    });
  }

  // -------------------------------------------------------------------------------------------
  // QuicConnectionHandler

  onEstablished(): void {
    if (this.options.verifyPeer) {
      const refusal = this.options.verifyPeer();
      if (refusal !== null) {
        this.quic.close(false, QUIC_CRYPTO_BAD_CERTIFICATE, refusal);
        return;
      }
    }
    // RFC 9114 §6.2.1: each side opens one control stream; SETTINGS is its first frame.
    this.controlStreamId = this.quic.openStream(false);
    const settings = this.role === 'server' ? SERVER_SETTINGS : CLIENT_SETTINGS;
    const type = encodeUniStreamType(UNI_STREAM_CONTROL);
    const frame = encodeSettingsFrame(settings);
    const out = new Uint8Array(type.length + frame.length);
    out.set(type, 0);
    out.set(frame, type.length);
    this.quic.write(this.controlStreamId, out);
  }

  onStreamData(id: number, data: Uint8Array, fin: boolean): void {
    let st = this.inStreams.get(id);
    if (!st) {
      const fresh = this.classifyNewStream(id);
      if (!fresh) return;
      st = fresh;
      this.inStreams.set(id, st);
    }
    this.feed(id, st, data, fin);
    // A stream whose peer side has ended needs no state: quiche ignores anything more on it.
    // (Entries of streams still open stay; quiche's stream limits bound how many there are.)
    if (fin && this.inStreams.get(id)?.kind === 'done') this.inStreams.delete(id);
  }

  onStreamReset(id: number, code: number): void {
    const st = this.inStreams.get(id);
    if (!st) return;
    switch (st.kind) {
      case 'control':
        this.connectionError(H3_CLOSED_CRITICAL_STREAM, 'peer reset its control stream');
        return;
      case 'discard':
        if (st.critical) this.connectionError(H3_CLOSED_CRITICAL_STREAM, 'peer reset a QPACK stream');
        return;
      case 'connect':
        // draft-ietf-webtrans-http3 §6: a reset CONNECT stream ends the session abruptly. The
        // reason names the HTTP/3 code (H3_INTERNAL_ERROR: the peer's application code failed).
        this.inStreams.delete(id);
        this.endSession(st.session, { code: 0, reason: `CONNECT stream reset (${errorCodeName(code)})`, byPeer: true }, false);
        return;
      case 'connect-pending':
        this.inStreams.delete(id);
        st.pending.reject({ message: `CONNECT stream reset (${errorCodeName(code)})` });
        return;
      case 'wt': {
        const s = st.stream;
        this.inStreams.delete(id);
        if (!s.readDone) {
          s.readDone = true;
          invokeCallback(s, s.onReset, s.session.callbackFailed, http3CodeToWebTransport(code), code);
        }
        this.maybeForget(s);
        return;
      }
      case 'wt-buffered':
        clearTimeout(st.timer);
        this.bufferedStreams--;
        this.inStreams.delete(id);
        return;
      case 'request-waiting':
        this.pendingRequests--;
        this.inStreams.delete(id);
        return;
      default:
        this.inStreams.delete(id);
    }
  }

  onStreamStopped(id: number, code: number | null): void {
    if (id === this.controlStreamId) {
      this.connectionError(H3_CLOSED_CRITICAL_STREAM, 'peer stopped our control stream');
      return;
    }
    const s = this.wtStreams.get(id);
    if (s) {
      if (!s.writeDone) {
        s.writeDone = true;
        invokeCallback(s, s.onStopSending, s.session.callbackFailed, code === null ? null : http3CodeToWebTransport(code), code);
      }
      this.maybeForget(s);
      return;
    }
    const st = this.inStreams.get(id);
    if (st?.kind === 'connect') {
      this.inStreams.set(id, { kind: 'done' });
      this.endSession(st.session, { code: 0, reason: '', byPeer: true }, false);
    }
  }

  onStreamWritable(id: number): void {
    const s = this.wtStreams.get(id);
    if (s) invokeCallback(s, s.onWritable, s.session.callbackFailed);
  }

  onDatagram(data: Uint8Array): void {
    // Fast path for the common case, a 1- or 2-byte Quarter Stream ID (RFC 9297 §2.1, varint
    // per RFC 9000 §16): no result object, no BigInt. Everything else goes through the codec.
    const first = data.byteLength > 0 ? data[0] : 0xff;
    if (first < 0x80 && data.byteLength >= (first < 0x40 ? 1 : 2)) {
      const short = first < 0x40;
      const q = short ? first : ((first & 0x3f) << 8) | data[1];
      const s = this.sessions.get(q * 4);
      if (s && !s.closed) {
        s.datagramsReceived++;
        invokeCallback(s, s.onDatagram, s.callbackFailed, data.subarray(short ? 1 : 2));
      } else {
        this.counters.datagramsDroppedUnknownSession++;
      }
      return;
    }
    const d = decodeDatagram(data);
    if (d.status === 'ok') {
      const s = this.sessions.get(d.streamId);
      if (s && !s.closed) {
        s.datagramsReceived++;
        invokeCallback(s, s.onDatagram, s.callbackFailed, d.payload);
        return;
      }
      // RFC 9297 §2.1 permits buffering datagrams for a session not yet open; a game datagram
      // that late is useless, so we drop and count it.
      this.counters.datagramsDroppedUnknownSession++;
      return;
    }
    if (d.status === 'unknown-stream') {
      this.counters.datagramsDroppedUnknownSession++;
      return;
    }
    this.connectionError(d.code, d.detail);
  }

  onClosed(info: QuicCloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    this.closeInfo = info;
    if (this.closeTimer) clearTimeout(this.closeTimer);
    for (const st of this.inStreams.values()) {
      if (st.kind === 'wt-buffered') clearTimeout(st.timer);
      if (st.kind === 'connect-pending') st.pending.reject({ message: `connection closed (${info.reason || info.code})` });
    }
    for (const s of [...this.sessions.values()]) {
      this.endSession(s, { code: 0, reason: info.reason || 'connection closed', byPeer: true }, false);
    }
    this.inStreams.clear();
    this.wtStreams.clear();
    this.options.onClosed?.(info);
  }

  // -------------------------------------------------------------------------------------------
  // SessionHost

  sendDatagram(session: WebTransportSession, payload: Uint8Array): boolean {
    // quiche copies the datagram synchronously, so it is framed in a reused buffer (RFC 9297
    // §2.1: Quarter Stream ID varint, then the payload) instead of a fresh allocation.
    const q = session.id / 4;
    const prefix = q < 0x40 ? 1 : q < 0x4000 ? 2 : q < 0x40000000 ? 4 : 8;
    const total = prefix + payload.byteLength;
    if (total > DATAGRAM_SCRATCH.byteLength) return this.quic.sendDatagram(encodeDatagram(session.id, payload)) === 'sent';
    writeVarint(DATAGRAM_SCRATCH, 0, q);
    DATAGRAM_SCRATCH.set(payload, prefix);
    return this.quic.sendDatagram(DATAGRAM_SCRATCH.subarray(0, total)) === 'sent';
  }

  purgeDatagrams(session: WebTransportSession, pred: (payload: Uint8Array) => boolean): void {
    const prefix = datagramPrefixLength(session.id);
    // `pred` is application code called from inside the native binding: a throw must not cross
    // the native frames. Keep the rest of the queue and rethrow to the caller once back in JS.
    let thrown: { error: unknown } | null = null;
    this.quic.purgeDatagrams((d) => {
      if (thrown) return false;
      const dec = decodeDatagram(d);
      if (dec.status !== 'ok' || dec.streamId !== session.id) return false;
      try {
        return pred(d.subarray(prefix));
      } catch (error) {
        thrown = { error };
        return false;
      }
    });
    if (thrown) throw (thrown as { error: unknown }).error;
  }

  maxDatagramSize(session: WebTransportSession): number {
    const max = this.quic.maxDatagramPayload();
    return max === null ? 0 : Math.max(0, max - datagramPrefixLength(session.id));
  }

  openStream(session: WebTransportSession, bidi: boolean): WebTransportStream | null {
    if (session.closed || this.closed) return null;
    const id = this.quic.openStream(bidi);
    const header = bidi ? encodeWtBidiStreamHeader(session.id) : encodeWtUniStreamHeader(session.id);
    if (!this.quic.write(id, header)) return null;
    const stream = new WebTransportStream(id, session, bidi, true, this);
    this.wtStreams.set(id, stream);
    session.streams.set(id, stream);
    if (bidi) this.inStreams.set(id, { kind: 'wt', stream });
    return stream;
  }

  closeSession(session: WebTransportSession, code: number, reason: string): void {
    if (session.closed) return;
    // draft-ietf-webtrans-http3 §6: CLOSE_WEBTRANSPORT_SESSION in a DATA frame, then FIN.
    this.quic.write(session.id, encodeCloseSessionData(code, reason), true);
    this.endSession(session, { code, reason, byPeer: false }, false, true);
  }

  drainSession(session: WebTransportSession): void {
    if (session.closed) return;
    this.counters.drainsSent++;
    this.quic.write(session.id, encodeDrainSessionData());
  }

  streamWrite(stream: WebTransportStream, data: Uint8Array, fin: boolean): boolean {
    if (stream.session.closed) return false;
    const ok = this.quic.write(stream.id, data, fin);
    if (fin) this.maybeForget(stream);
    return ok;
  }

  streamReset(stream: WebTransportStream, code: number): void {
    this.quic.resetStream(stream.id, webTransportCodeToHttp3(code >>> 0));
    this.maybeForget(stream);
  }

  streamStopSending(stream: WebTransportStream, code: number): void {
    this.quic.stopSending(stream.id, webTransportCodeToHttp3(code >>> 0));
    this.inStreams.set(stream.id, { kind: 'done' });
    this.maybeForget(stream);
  }

  streamQueuedBytes(stream: WebTransportStream): number {
    return this.quic.queuedBytes(stream.id);
  }

  /**
   * An application callback of `session` (or of one of its streams) threw, or its promise
   * rejected: counted, and the session alone is aborted with H3_INTERNAL_ERROR on its CONNECT
   * stream. The connection, its other sessions and the endpoint carry on. A failure in a
   * callback of an already ended session (its `onClose`, a stream's `onSessionClosed`, a late
   * rejection) is only counted.
   */
  callbackFailed(session: WebTransportSession, error: unknown): void {
    this.counters.callbackErrors++;
    if (session.closed || this.closed) return;
    this.abortSession(session, H3_INTERNAL_ERROR, 'application callback threw', error);
  }

  // -------------------------------------------------------------------------------------------
  // Incoming streams

  private classifyNewStream(id: number): InState | null {
    if (!isBidi(id)) return { kind: 'uni-header', buf: new Uint8Array(0) };
    const peerInitiated = isClientInitiated(id) === (this.role === 'server');
    if (!peerInitiated) return null; // our own bidi stream with no state: already forgotten
    if (this.role === 'server') {
      if (id > this.maxClientBidiSeen) this.maxClientBidiSeen = id;
    }
    return { kind: 'request', dec: new FrameDecoder({ acceptWebTransportStream: true }) };
  }

  private feed(id: number, st: InState, data: Uint8Array, fin: boolean): void {
    switch (st.kind) {
      case 'uni-header':
        this.feedUniHeader(id, st, data, fin);
        return;
      case 'control':
        st.dec.push(data);
        this.pumpControl(st);
        if (fin && !this.closed) this.connectionError(H3_CLOSED_CRITICAL_STREAM, 'peer closed its control stream');
        return;
      case 'discard':
        if (fin && st.critical) this.connectionError(H3_CLOSED_CRITICAL_STREAM, 'peer closed a QPACK stream');
        return;
      case 'request':
      case 'request-waiting':
      case 'connect-pending':
      case 'connect':
        st.dec.push(data);
        this.pumpRequest(id, fin);
        return;
      case 'wt': {
        const s = st.stream;
        if (s.readDone) return;
        if (data.byteLength > 0) {
          invokeCallback(s, s.onData, s.session.callbackFailed, data);
          // The callback stopped reading, or threw and its session was aborted.
          if (s.readDone) return;
        }
        if (fin) {
          s.readDone = true;
          this.inStreams.set(id, { kind: 'done' });
          invokeCallback(s, s.onEnd, s.session.callbackFailed);
          this.maybeForget(s);
        }
        return;
      }
      case 'wt-buffered':
        this.feedBuffered(id, st, data, fin);
        return;
      case 'done':
        return;
    }
  }

  private feedUniHeader(id: number, st: { kind: 'uni-header'; buf: Uint8Array }, data: Uint8Array, fin: boolean): void {
    const buf = st.buf.length === 0 ? data : concatBytes([st.buf, data]);
    const h = parseUniStreamHeader(buf);
    if (h.status === 'need-more') {
      if (fin) {
        this.inStreams.set(id, { kind: 'done' });
        return;
      }
      st.buf = buf.slice();
      return;
    }
    if (h.status === 'error') {
      this.connectionError(h.code, h.detail);
      return;
    }
    const rest = buf.subarray(h.headerLength);
    switch (h.kind) {
      case 'control': {
        if (this.peerControlSeen) {
          this.connectionError(H3_STREAM_CREATION_ERROR, 'second control stream');
          return;
        }
        this.peerControlSeen = true;
        const next: InState = { kind: 'control', dec: new FrameDecoder(), gotSettings: false };
        this.inStreams.set(id, next);
        this.feed(id, next, rest, fin);
        return;
      }
      case 'qpack-encoder':
      case 'qpack-decoder': {
        const seen = h.kind === 'qpack-encoder' ? this.peerQpackEncoderSeen : this.peerQpackDecoderSeen;
        if (seen) {
          this.connectionError(H3_STREAM_CREATION_ERROR, `second ${h.kind} stream`);
          return;
        }
        if (h.kind === 'qpack-encoder') this.peerQpackEncoderSeen = true;
        else this.peerQpackDecoderSeen = true;
        const next: InState = { kind: 'discard', critical: true };
        this.inStreams.set(id, next);
        this.feed(id, next, rest, fin);
        return;
      }
      case 'push':
        // RFC 9114 §6.2.2: only servers push; a client never sent MAX_PUSH_ID here.
        if (this.role === 'server') this.connectionError(H3_STREAM_CREATION_ERROR, 'client opened a push stream');
        else this.connectionError(H3_ID_ERROR, 'push stream without MAX_PUSH_ID');
        return;
      case 'webtransport':
        this.attachWtStream(id, h.sessionId, false, rest, fin);
        return;
      case 'unknown':
        // RFC 9114 §6.2: unknown (incl. GREASE, §6.2.3) stream types: abort reading, no error.
        this.counters.unknownUniStreams++;
        this.quic.stopSending(id, H3_STREAM_CREATION_ERROR);
        this.inStreams.set(id, { kind: 'done' });
        return;
    }
  }

  private pumpControl(st: { kind: 'control'; dec: FrameDecoder; gotSettings: boolean }): void {
    for (;;) {
      if (this.closed) return;
      const ev = st.dec.next();
      if (ev.status === 'need-more') return;
      if (ev.status === 'error') {
        this.connectionError(ev.code, ev.detail);
        return;
      }
      if (ev.status === 'skipped') {
        if (!st.gotSettings) {
          this.connectionError(H3_MISSING_SETTINGS, 'first control frame is not SETTINGS');
          return;
        }
        this.counters.unknownFramesSkipped++;
        continue;
      }
      if (ev.status !== 'frame') {
        // DATA (or a WT signal) on the control stream: RFC 9114 §7.2.1.
        this.connectionError(st.gotSettings ? H3_FRAME_UNEXPECTED : H3_MISSING_SETTINGS, 'DATA on the control stream');
        return;
      }
      if (!st.gotSettings) {
        if (ev.type !== FRAME_SETTINGS) {
          this.connectionError(H3_MISSING_SETTINGS, 'first control frame is not SETTINGS');
          return;
        }
        const s = decodeSettings(ev.payload);
        if (s.status === 'error') {
          this.connectionError(s.code, s.detail);
          return;
        }
        st.gotSettings = true;
        this.peerSupport = webTransportSupport(s.values);
        this.onPeerSettings();
        continue;
      }
      switch (ev.type) {
        case FRAME_SETTINGS:
          this.connectionError(H3_FRAME_UNEXPECTED, 'second SETTINGS frame');
          return;
        case FRAME_GOAWAY: {
          const g = decodeGoaway(ev.payload);
          if (g.status === 'error') {
            this.connectionError(g.code, g.detail);
            return;
          }
          // RFC 9114 §5.2: a server's GOAWAY names a client bidi stream id.
          if (this.role === 'client' && g.safe && g.id % 4 !== 0) {
            this.connectionError(H3_ID_ERROR, 'GOAWAY id is not a client bidi stream id');
            return;
          }
          this.onGoawayReceived();
          continue;
        }
        case FRAME_MAX_PUSH_ID:
          if (this.role === 'client') {
            this.connectionError(H3_FRAME_UNEXPECTED, 'MAX_PUSH_ID from a server');
            return;
          }
          continue;
        case FRAME_CANCEL_PUSH:
          continue; // We never push; nothing to cancel.
        default:
          // HEADERS, PUSH_PROMISE on the control stream (RFC 9114 §7.2.2, §7.2.5).
          this.connectionError(H3_FRAME_UNEXPECTED, `frame 0x${ev.type.toString(16)} on the control stream`);
          return;
      }
    }
  }

  private onPeerSettings(): void {
    if (this.role === 'client') {
      this.options.onPeerSettings?.(this.peerSupport!);
      return;
    }
    // Requests that waited for SETTINGS (draft-ietf-webtrans-http3 §3.1).
    for (const [id, st] of [...this.inStreams]) {
      if (st.kind !== 'request-waiting') continue;
      this.pendingRequests--;
      this.inStreams.set(id, { kind: 'request', dec: st.dec });
      this.answerRequest(id, st.dec, st.request);
      this.pumpRequest(id, false);
    }
  }

  private onGoawayReceived(): void {
    this.counters.goawaysReceived++;
    if (this.goawayReceived) return;
    this.goawayReceived = true;
    this.options.onGoaway?.();
    for (const s of this.sessions.values()) this.markDrain(s);
  }

  private markDrain(s: WebTransportSession): void {
    if (s.drainReceived || s.closed) return;
    s.drainReceived = true;
    invokeCallback(s, s.onDrain, s.callbackFailed);
  }

  /** Drives the frame decoder of a bidirectional stream that is not a WebTransport stream. */
  private pumpRequest(id: number, fin: boolean): void {
    for (;;) {
      if (this.closed) return;
      const st = this.inStreams.get(id);
      if (!st) return;
      if (st.kind !== 'request' && st.kind !== 'connect' && st.kind !== 'connect-pending' && st.kind !== 'request-waiting') return;
      if (st.kind === 'request-waiting') {
        if (fin) this.inStreams.set(id, { kind: 'done' });
        return; // keep bytes in the decoder until SETTINGS
      }
      const ev = st.dec.next();
      if (ev.status === 'need-more') break;
      if (!this.handleRequestEvent(id, st, ev, fin)) return;
    }
    if (!fin) return;
    const st = this.inStreams.get(id);
    if (!st) return;
    if (st.kind === 'connect') {
      const err = st.dec.finish() ?? st.capsules.finish();
      this.inStreams.set(id, { kind: 'done' });
      if (err) {
        this.sessionProtocolError(st.session, err.code, err.detail);
        return;
      }
      // draft-ietf-webtrans-http3 §6: FIN without a CLOSE capsule = closed with code 0. After a
      // CLOSE capsule this is the expected FIN; either way answer with our FIN and linger.
      this.endSession(st.session, { code: 0, reason: '', byPeer: true }, true);
      return;
    }
    if (st.kind === 'request') {
      // A request stream that ends before (or right after) HEADERS: nothing to answer.
      this.inStreams.set(id, { kind: 'done' });
      return;
    }
    if (st.kind === 'connect-pending') {
      this.inStreams.set(id, { kind: 'done' });
      st.pending.reject({ message: 'CONNECT stream ended without a response' });
    }
  }

  /** Returns false when the stream's state changed such that pumping must stop. */
  private handleRequestEvent(id: number, st: Extract<InState, { kind: 'request' | 'connect' | 'connect-pending' }>, ev: FrameEvent, fin: boolean): boolean {
    if (ev.status === 'need-more') return true;
    if (ev.status === 'error') {
      // Frame-level errors are connection errors (RFC 9114 §7.1); in a live session's CONNECT
      // stream we close only that session when the code is a message error.
      if (st.kind === 'connect' && ev.code === H3_MESSAGE_ERROR) {
        this.sessionProtocolError(st.session, ev.code, ev.detail);
        return false;
      }
      this.connectionError(ev.code, ev.detail);
      return false;
    }
    if (ev.status === 'skipped') {
      this.counters.unknownFramesSkipped++;
      return true;
    }
    if (ev.status === 'webtransport-stream') {
      // Only possible as the first bytes of a peer bidi stream (st.kind === 'request').
      if (!ev.sessionIdSafe || ev.sessionId % 4 !== 0) {
        this.connectionError(H3_ID_ERROR, 'WebTransport stream names an invalid session id');
        return false;
      }
      // `rest` holds every byte pushed so far, so this chunk's FIN belongs with it.
      this.attachWtStream(id, ev.sessionId, true, ev.rest, fin);
      return false;
    }
    if (st.kind === 'request') {
      if (this.role === 'client') {
        // RFC 9114 §6.1: server-initiated bidi streams are not HTTP/3 request streams.
        this.connectionError(H3_STREAM_CREATION_ERROR, 'server-initiated bidirectional stream without WebTransport signal');
        return false;
      }
      if (ev.status === 'data' || ev.type !== FRAME_HEADERS) {
        // RFC 9114 §4.1: a request starts with HEADERS; other frame types are unexpected.
        this.connectionError(H3_FRAME_UNEXPECTED, 'request stream does not start with HEADERS');
        return false;
      }
      return this.onRequestHeaders(id, st.dec, ev.payload);
    }
    if (st.kind === 'connect-pending') {
      if (ev.status === 'data' || ev.type !== FRAME_HEADERS) {
        this.connectionError(H3_FRAME_UNEXPECTED, 'response does not start with HEADERS');
        return false;
      }
      return this.onResponseHeaders(id, st, ev.payload);
    }
    // st.kind === 'connect': capsules in DATA frames.
    if (ev.status === 'data') {
      st.capsules.push(ev.chunk.slice());
      return this.pumpCapsules(id, st);
    }
    if (ev.type === FRAME_HEADERS) return true; // trailers: nothing to do with them
    if (ev.type === FRAME_PUSH_PROMISE && this.role === 'client') {
      this.connectionError(H3_ID_ERROR, 'PUSH_PROMISE without MAX_PUSH_ID');
      return false;
    }
    // SETTINGS, GOAWAY, MAX_PUSH_ID, CANCEL_PUSH on a request stream: RFC 9114 §7.2.
    this.connectionError(H3_FRAME_UNEXPECTED, `frame 0x${ev.type.toString(16)} on a request stream`);
    return false;
  }

  private pumpCapsules(id: number, st: Extract<InState, { kind: 'connect' }>): boolean {
    for (;;) {
      const c = st.capsules.next();
      switch (c.status) {
        case 'need-more':
          return true;
        case 'skipped':
          this.counters.unknownCapsulesSkipped++;
          continue;
        case 'drain':
          this.counters.drainsReceived++;
          this.markDrain(st.session);
          continue;
        case 'close':
          // The FIN that follows finishes the stream; we answer with ours now.
          this.inStreams.set(id, { kind: 'done' });
          this.endSession(st.session, { code: c.code, reason: c.reason, byPeer: true }, true);
          return false;
        case 'error':
          this.sessionProtocolError(st.session, c.code, c.detail);
          return false;
      }
    }
  }

  /** Server: a request's HEADERS arrived. */
  private onRequestHeaders(id: number, dec: FrameDecoder, payload: Uint8Array): boolean {
    const fs = decodeFieldSection(payload);
    if (fs.status === 'error') {
      if (fs.code === H3_MESSAGE_ERROR) {
        this.rejectStream(id, H3_MESSAGE_ERROR);
        return false;
      }
      // QPACK decompression failure is a connection error (RFC 9204 §2.2).
      this.connectionError(fs.code, fs.detail);
      return false;
    }
    const v = validateConnectRequest(fs.headers);
    if (v.status === 'error') {
      // RFC 9114 §4.1.2: a malformed request is a stream error of type H3_MESSAGE_ERROR.
      this.rejectStream(id, v.code);
      return false;
    }
    this.requestsSeen++;
    if (v.status === 'not-webtransport') {
      // A well-formed HTTP request that is not a WebTransport CONNECT: we serve nothing else.
      this.respond(id, 400, true);
      this.scheduleIdleClose();
      return false;
    }
    const request: ConnectRequest = {
      streamId: id,
      authority: v.request.authority,
      path: v.request.path,
      origin: v.request.origin ?? '',
      headers: fs.headers,
    };
    if (this.goawaySent && id >= this.maxClientBidiSeen + 4) {
      this.rejectStream(id, H3_REQUEST_REJECTED);
      return false;
    }
    if (!this.peerSupport) {
      if (this.pendingRequests >= MAX_REQUESTS_BEFORE_SETTINGS) {
        this.rejectStream(id, H3_REQUEST_REJECTED);
        return false;
      }
      this.pendingRequests++;
      this.inStreams.set(id, { kind: 'request-waiting', dec, request });
      return false;
    }
    return this.answerRequest(id, dec, request);
  }

  private answerRequest(id: number, dec: FrameDecoder, request: ConnectRequest): boolean {
    const support = this.peerSupport!;
    let status: number;
    if (!(support.draft02 || support.draft07) || !support.datagrams) status = 400;
    else if (this.sessions.size >= MAX_SESSIONS_PER_CONNECTION) status = 429;
    else status = this.options.policy?.decide(request, this) ?? 404;
    if (status < 200 || status > 299) {
      this.respond(id, status, true);
      this.scheduleIdleClose();
      return false;
    }
    this.respond(id, 200, false);
    const session = new WebTransportSession(id, request.path, request.origin, this.remoteAddress, this);
    this.sessions.set(id, session);
    this.counters.sessionsOpened++;
    this.cancelIdleClose();
    this.inStreams.set(id, { kind: 'connect', dec, capsules: new CapsuleParser(), session });
    // The policy hands the session to the application (`WebTransportServer.onSession`).
    const policy = this.options.policy;
    if (policy) invokeCallback(policy, policy.onSession, session.callbackFailed, session);
    // Streams that overtook the CONNECT join it (or, when onSession failed, are refused).
    this.adoptBuffered(session);
    return !session.closed;
  }

  private respond(id: number, status: number, fin: boolean): void {
    bump(this.counters.responses, String(status));
    // Older Chromium versions required `sec-webtransport-http3-draft: draft02` on the 200.
    const fields = buildConnectResponseHeaders(status, { draft02: true });
    this.quic.write(id, encodeHeadersFrame(encodeFieldSection(fields)), fin);
    if (fin) {
      // We answered without reading the rest; tell the peer to stop sending (RFC 9114 §4.1.1).
      this.quic.stopSending(id, H3_NO_ERROR);
      this.inStreams.set(id, { kind: 'done' });
    }
  }

  private rejectStream(id: number, code: number): void {
    bump(this.counters.streamErrors, errorCodeName(code));
    this.quic.resetStream(id, code);
    this.quic.stopSending(id, code);
    this.inStreams.set(id, { kind: 'done' });
    this.scheduleIdleClose();
  }

  /** Client: the CONNECT response's HEADERS arrived. */
  private onResponseHeaders(id: number, st: Extract<InState, { kind: 'connect-pending' }>, payload: Uint8Array): boolean {
    const fs = decodeFieldSection(payload);
    if (fs.status === 'error') {
      this.connectionError(fs.code, fs.detail);
      return false;
    }
    const r = validateConnectResponse(fs.headers);
    if (r.status === 'error') {
      this.rejectStream(id, r.code);
      st.pending.reject({ message: `malformed response: ${r.detail}` });
      return false;
    }
    const status = r.statusCode;
    if (status >= 100 && status < 200) return true; // interim response: keep waiting
    if (status < 200 || status > 299) {
      this.inStreams.set(id, { kind: 'done' });
      this.quic.write(id, new Uint8Array(0), true);
      st.pending.reject({ status, message: `server answered ${status}` });
      this.scheduleIdleClose();
      return false;
    }
    const session = new WebTransportSession(id, st.pending.path, st.pending.origin, this.remoteAddress, this);
    this.sessions.set(id, session);
    this.counters.sessionsOpened++;
    this.inStreams.set(id, { kind: 'connect', dec: st.dec, capsules: new CapsuleParser(), session });
    if (this.goawayReceived) session.drainReceived = true;
    st.pending.resolve(session);
    this.adoptBuffered(session);
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // WebTransport streams

  private attachWtStream(id: number, sessionId: number, bidi: boolean, rest: Uint8Array, fin: boolean): void {
    const session = this.sessions.get(sessionId);
    if (session && !session.closed) {
      const stream = new WebTransportStream(id, session, bidi, false, this);
      const st: InState = { kind: 'wt', stream };
      this.inStreams.set(id, st);
      this.wtStreams.set(id, stream);
      session.streams.set(id, stream);
      invokeCallback(session, bidi ? session.onBidiStream : session.onUniStream, session.callbackFailed, stream);
      if (session.closed) return;
      if (rest.byteLength > 0 || fin) this.feed(id, st, rest, fin);
      return;
    }
    if (this.ended.has(sessionId)) {
      this.counters.streamsRejectedSessionGone++;
      this.refuseStream(id, bidi, WT_SESSION_GONE);
      return;
    }
    // draft-ietf-webtrans-http3 §4.6: a stream may overtake its CONNECT; buffer a few briefly.
    if (this.bufferedStreams >= MAX_BUFFERED_STREAMS_PER_CONNECTION || this.closeTimer !== null && this.sessions.size === 0 && this.role === 'client') {
      this.counters.streamsRejectedBuffered++;
      this.refuseStream(id, bidi, WT_BUFFERED_STREAM_REJECTED);
      return;
    }
    this.bufferedStreams++;
    const timer = setTimeout(() => this.guardTimer(() => {
      const cur = this.inStreams.get(id);
      if (cur?.kind !== 'wt-buffered') return;
      this.bufferedStreams--;
      this.counters.streamsRejectedBuffered++;
      this.refuseStream(id, bidi, WT_BUFFERED_STREAM_REJECTED);
    }), BUFFERED_STREAM_TIMEOUT_MS);
    timer.unref();
    const st: InState = { kind: 'wt-buffered', sessionId, bidi, chunks: [], bytes: 0, fin: false, timer };
    this.inStreams.set(id, st);
    if (rest.byteLength > 0 || fin) this.feedBuffered(id, st, rest, fin);
  }

  private feedBuffered(id: number, st: Extract<InState, { kind: 'wt-buffered' }>, data: Uint8Array, fin: boolean): void {
    st.bytes += data.byteLength;
    if (st.bytes > MAX_BUFFERED_STREAM_BYTES) {
      clearTimeout(st.timer);
      this.bufferedStreams--;
      this.counters.streamsRejectedBuffered++;
      this.refuseStream(id, st.bidi, WT_BUFFERED_STREAM_REJECTED);
      return;
    }
    if (data.byteLength > 0) st.chunks.push(data);
    if (fin) st.fin = true;
  }

  private adoptBuffered(session: WebTransportSession): void {
    if (this.bufferedStreams === 0) return;
    for (const [id, st] of [...this.inStreams]) {
      if (st.kind !== 'wt-buffered' || st.sessionId !== session.id) continue;
      clearTimeout(st.timer);
      this.bufferedStreams--;
      const data = st.chunks.length === 1 ? st.chunks[0] : concatBytes(st.chunks);
      this.inStreams.delete(id);
      this.attachWtStream(id, session.id, st.bidi, data, st.fin);
    }
  }

  private refuseStream(id: number, bidi: boolean, code: number): void {
    this.quic.stopSending(id, code);
    if (bidi) this.quic.resetStream(id, code);
    this.inStreams.set(id, { kind: 'done' });
  }

  private maybeForget(s: WebTransportStream): void {
    if (!s.readDone || !s.writeDone) return;
    if (this.quic.queuedBytes(s.id) > 0) return;
    this.wtStreams.delete(s.id);
    s.session.streams.delete(s.id);
    this.inStreams.delete(s.id);
    this.quic.forgetStream(s.id);
  }

  // -------------------------------------------------------------------------------------------
  // Session end and connection close

  private sessionProtocolError(session: WebTransportSession, code: number, detail: string): void {
    this.counters.sessionProtocolErrors++;
    this.abortSession(session, code, detail);
  }

  /**
   * Ends a session abruptly (draft-ietf-webtrans-http3 §6): its CONNECT stream is reset and
   * stopped with the HTTP/3 `code`, which the local `onClose` also reports.
   */
  private abortSession(session: WebTransportSession, code: number, reason: string, error?: unknown): void {
    this.quic.resetStream(session.id, code);
    this.quic.stopSending(session.id, code);
    this.inStreams.set(session.id, { kind: 'done' });
    const info: SessionCloseInfo = error === undefined ? { code, reason, byPeer: false } : { code, reason, byPeer: false, error };
    this.endSession(session, info, false);
  }

  /**
   * Ends a session: streams of the session are reset / stopped with WT_SESSION_GONE
   * (draft-ietf-webtrans-http3 §6), the app hears `onClose`, and the connection closes shortly
   * after its last session. `answerFin` sends our FIN on the CONNECT stream (peer closed);
   * `capsuleSent` says we just queued a CLOSE capsule, which must leave before the resets.
   */
  private endSession(session: WebTransportSession, info: SessionCloseInfo, answerFin: boolean, capsuleSent = false): void {
    if (session.closed) {
      // The peer's FIN answering our CLOSE capsule: the exchange is complete, close soon.
      if (answerFin && this.sessions.size === 0) this.scheduleIdleClose(CONNECTION_CLOSE_LINGER_MS);
      return;
    }
    session.closed = true;
    session.closeInfo = info;
    this.sessions.delete(session.id);
    this.ended.add(session.id);
    if (this.ended.size > MAX_ENDED_SESSIONS_REMEMBERED) {
      // Forget the oldest: a late stream for it is then buffered and rejected instead.
      const oldest = this.ended.values().next().value;
      if (oldest !== undefined) this.ended.delete(oldest);
    }
    this.counters.sessionsClosed++;
    this.options.policy?.onSessionClosed?.(session);
    if (answerFin && !this.closed) this.quic.write(session.id, new Uint8Array(0), true);
    // draft-ietf-webtrans-http3 §6: every stream of the session is reset and stopped with
    // WEBTRANSPORT_SESSION_GONE. When we sent the CLOSE capsule, those frames wait until the
    // capsule's packet has left: quiche places RESET_STREAM ahead of STREAM data in a packet,
    // and Chromium that sees its streams reset before the capsule sometimes reports the
    // session as lost (closed rejects) instead of giving the page our code.
    const toReset: number[] = [];
    const toStop: number[] = [];
    for (const s of [...session.streams.values()]) {
      if (!s.writeDone) toReset.push(s.id);
      if (!s.readDone) toStop.push(s.id);
      const wasOpen = !s.writeDone || !s.readDone;
      s.writeDone = true;
      s.readDone = true;
      this.wtStreams.delete(s.id);
      this.inStreams.set(s.id, { kind: 'done' });
      // The session is already marked closed: a throw here is only counted.
      if (wasOpen) invokeCallback(s, s.onSessionClosed, session.callbackFailed);
    }
    session.streams.clear();
    if (!this.closed && toReset.length + toStop.length > 0) {
      const resetAll = (): void => {
        if (this.closed) return;
        for (const id of toReset) this.quic.resetStream(id, WT_SESSION_GONE);
        for (const id of toStop) this.quic.stopSending(id, WT_SESSION_GONE);
      };
      if (capsuleSent) this.quic.afterFlush(resetAll);
      else resetAll();
    }
    invokeCallback(session, session.onClose, session.callbackFailed, info);
    if (!this.closed && this.sessions.size === 0) {
      this.scheduleIdleClose(answerFin || info.byPeer ? CONNECTION_CLOSE_LINGER_MS : CONNECTION_CLOSE_MAX_WAIT_MS);
    }
  }

  /**
   * Closes the connection soon when it carries no session: browsers never reuse it and drop it
   * silently, so without this it would live until the idle timeout.
   */
  private scheduleIdleClose(delay = CONNECTION_CLOSE_MAX_WAIT_MS): void {
    if (this.closed || this.sessions.size > 0 || this.options.closeWhenIdle === false) return;
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = setTimeout(() => this.guardTimer(() => {
      this.closeTimer = null;
      if (this.sessions.size === 0 && !this.hasPendingConnect()) this.close();
    }), delay);
    this.closeTimer.unref();
  }

  /**
   * Runs our own timer code: a throw (a bug of ours) must not reach the event loop; it closes
   * this connection with H3_INTERNAL_ERROR (counted in `connectionErrors`) and nothing else.
   */
  private guardTimer(fn: () => void): void {
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

  private cancelIdleClose(): void {
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = null;
  }

  private hasPendingConnect(): boolean {
    for (const st of this.inStreams.values()) if (st.kind === 'connect-pending' || st.kind === 'request-waiting') return true;
    return false;
  }
}
