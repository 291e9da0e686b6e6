/**
 * Server role: request streams and extended CONNECT (RFC 9114 §4, RFC 9220,
 * draft-ietf-webtrans-http3 §3). A client bidirectional stream starts with HEADERS (a request) or
 * with the WebTransport signal (a WebTransport stream, handed to the registry). A request is
 * validated, parked until the client's SETTINGS when they have not arrived yet (§3.1: we must
 * know the client speaks WebTransport), then answered: 2xx opens a session on the stream, any
 * other status refuses it, and a malformed request is a stream error.
 */
import { FrameDecoder, FRAME_HEADERS, encodeHeadersFrame, type FrameEvent } from './wire/frames.js';
import { decodeFieldSection, encodeFieldSection } from './wire/qpack/field-section.js';
import { buildConnectResponseHeaders, validateConnectRequest } from './wire/connect-request.js';
import { H3_EXCESSIVE_LOAD, H3_FRAME_UNEXPECTED, H3_MESSAGE_ERROR, H3_NO_ERROR, H3_REQUEST_REJECTED } from './wire/errors.js';
import { bump } from './h3-counters.js';
import { invokeCallback } from './app-callback.js';
import {
  MAX_PARKED_REQUEST_BYTES, MAX_REQUESTS_BEFORE_SETTINGS, MAX_SESSIONS_PER_CONNECTION, PARKED_REQUEST_TIMEOUT_MS, PARTIAL_FRAME_TIMEOUT_MS,
} from './h3-limits.js';
import { LIMIT_LABEL, type PeerBufferLimit } from './peer-buffers.js';
import { WebTransportSession } from './session.js';
import { DONE, FramedReader, pumpFrames, type H3Context } from './h3-context.js';
import { ConnectStreamReader } from './connect-stream.js';

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

export class ServerRequests {
  /** Highest client bidirectional stream id seen (for GOAWAY, RFC 9114 §5.2). */
  private maxClientBidiSeen = -4;
  /** Requests parked until the client's SETTINGS. */
  private parkedCount = 0;

  constructor(private readonly c: H3Context) {}

  /** The id our GOAWAY names: the first client bidi stream we have not seen (RFC 9114 §7.2.6). */
  get goawayId(): number {
    return this.maxClientBidiSeen + 4;
  }

  /** The reader of a new client bidirectional stream. */
  newRequestStream(id: number): RequestReader {
    if (id > this.maxClientBidiSeen) this.maxClientBidiSeen = id;
    return new RequestReader(this.c, new FrameDecoder({ acceptWebTransportStream: true }));
  }

  /** The client's SETTINGS arrived: answer the parked requests, then read on behind them. */
  settingsArrived(): void {
    for (const [id, r] of [...this.c.readers]) {
      if (!(r instanceof RequestReader) || r.request === null) continue;
      this.parkedCount--;
      const request = r.request;
      r.request = null;
      this.answer(id, r.dec, request);
      pumpFrames(this.c, id, false);
      this.c.enforce(id);
    }
  }

  /** @internal RequestReader: a parked request's stream was reset. */
  unpark(): void {
    this.parkedCount--;
  }

  /** @internal RequestReader: a request's HEADERS arrived. */
  headers(id: number, r: RequestReader, payload: Uint8Array): boolean {
    const c = this.c;
    const fs = decodeFieldSection(payload);
    if (fs.status === 'error') {
      if (fs.code === H3_MESSAGE_ERROR) {
        c.rejectStream(id, H3_MESSAGE_ERROR);
        return false;
      }
      // QPACK decompression failure is a connection error (RFC 9204 §2.2).
      c.connectionError(fs.code, fs.detail);
      return false;
    }
    const v = validateConnectRequest(fs.headers);
    if (v.status === 'error') {
      // RFC 9114 §4.1.2: a malformed request is a stream error of type H3_MESSAGE_ERROR.
      c.rejectStream(id, v.code);
      return false;
    }
    if (v.status === 'not-webtransport') {
      // A well-formed HTTP request that is not a WebTransport CONNECT: we serve nothing else.
      this.respond(id, 400, true);
      c.sessions.scheduleIdleClose();
      return false;
    }
    const request: ConnectRequest = {
      streamId: id,
      authority: v.request.authority,
      path: v.request.path,
      origin: v.request.origin ?? '',
      headers: fs.headers,
    };
    // RFC 9114 §5.2: a request at or above the id our GOAWAY named is not processed. (The id is
    // the one sent, not the highest seen since: every stream seen after GOAWAY is above it.)
    const goaway = c.control.goawaySentId;
    if (goaway !== null && id >= goaway) {
      c.rejectStream(id, H3_REQUEST_REJECTED);
      return false;
    }
    if (!c.control.peerSupport) {
      if (this.parkedCount >= MAX_REQUESTS_BEFORE_SETTINGS) {
        c.rejectStream(id, H3_REQUEST_REJECTED, 'parked_request_slots');
        return false;
      }
      this.parkedCount++;
      r.park(request, payload.byteLength);
      return false;
    }
    return this.answer(id, r.dec, request);
  }

  private answer(id: number, dec: FrameDecoder, request: ConnectRequest): boolean {
    const c = this.c;
    const support = c.control.peerSupport!;
    let status: number;
    if (!(support.draft02 || support.draft07) || !support.datagrams) status = 400;
    else if (c.sessions.size >= MAX_SESSIONS_PER_CONNECTION) status = 429;
    else status = c.options.policy?.decide(request) ?? 404;
    if (status < 200 || status > 299) {
      this.respond(id, status, true);
      c.sessions.scheduleIdleClose();
      return false;
    }
    this.respond(id, 200, false);
    const session = new WebTransportSession(id, request.path, request.origin, c.remoteAddress, c);
    c.sessions.add(session);
    c.sessions.cancelIdleClose();
    c.readers.set(id, new ConnectStreamReader(c, dec, session));
    // The policy hands the session to the application (`WebTransportServer.onSession`).
    const policy = c.options.policy;
    if (policy) invokeCallback(policy, policy.onSession, session.callbackFailed, session);
    // Streams that overtook the CONNECT join it (or, when onSession failed, are refused).
    c.registry.adoptBuffered(session);
    return !session.closed;
  }

  private respond(id: number, status: number, fin: boolean): void {
    const c = this.c;
    bump(c.counters.responses, String(status));
    // Older Chromium versions required `sec-webtransport-http3-draft: draft02` on the 200.
    const fields = buildConnectResponseHeaders(status, { draft02: true });
    c.transport.write(id, encodeHeadersFrame(encodeFieldSection(fields)), fin);
    if (fin) {
      // We answered without reading the rest; tell the peer to stop sending (RFC 9114 §4.1.1).
      c.transport.stopSending(id, H3_NO_ERROR);
      c.readers.set(id, DONE);
    }
  }
}

/**
 * A client bidirectional stream before its request was answered: the first frame decides
 * between a request (HEADERS) and a WebTransport stream; a request may then wait (parked) for
 * the client's SETTINGS, its bytes held in the decoder.
 */
export class RequestReader extends FramedReader {
  /** Set while the request waits for the client's SETTINGS. */
  request: ConnectRequest | null = null;
  /** Size of the parked request's HEADERS payload (its decoded fields are held meanwhile). */
  private headersBytes = 0;

  /** Parks the request until the client's SETTINGS; bytes behind it stay in the decoder. */
  park(request: ConnectRequest, headersBytes: number): void {
    this.request = request;
    this.headersBytes = headersBytes;
  }

  get waiting(): boolean {
    return this.request !== null;
  }

  override data(id: number, bytes: Uint8Array, fin: boolean): void {
    if (this.request === null) {
      super.data(id, bytes, fin);
      return;
    }
    this.dec.push(bytes);
    if (fin) {
      // The client finished the stream before we could answer: nothing to answer any more.
      this.request = null;
      this.c.server.unpark();
      this.c.readers.set(id, DONE);
    }
  }

  reset(): void {
    if (this.request !== null) this.c.server.unpark();
  }

  /** A partial HEADERS frame, or a parked request: its fields and what the client sent behind them. */
  override get heldBytes(): number {
    return this.dec.bufferedBytes + (this.request === null ? 0 : this.headersBytes);
  }

  override get holdLimitMs(): number {
    return this.request === null ? PARTIAL_FRAME_TIMEOUT_MS : PARKED_REQUEST_TIMEOUT_MS;
  }

  get holdCap(): number | undefined {
    return this.request === null ? undefined : this.headersBytes + MAX_PARKED_REQUEST_BYTES;
  }

  /**
   * Refused past a limit (RFC 9114 §8.1): H3_EXCESSIVE_LOAD for what this peer sent too much of,
   * H3_REQUEST_REJECTED (not processed, safe to retry, §4.1.1) for a timeout or a server that
   * holds too much for everyone.
   */
  overLimit(id: number, limit: PeerBufferLimit): void {
    const what = this.request === null ? 'request_headers' : 'parked_request';
    if (this.request !== null) {
      this.request = null;
      this.c.server.unpark();
    }
    const code = limit === 'time' || limit === 'server_cap' ? H3_REQUEST_REJECTED : H3_EXCESSIVE_LOAD;
    this.c.rejectStream(id, code, `${what}_${LIMIT_LABEL[limit]}`);
  }

  protected frame(id: number, ev: Extract<FrameEvent, { status: 'frame' | 'data' }>): boolean {
    if (ev.status === 'data' || ev.type !== FRAME_HEADERS) {
      // RFC 9114 §4.1: a request starts with HEADERS; other frame types are unexpected.
      this.c.connectionError(H3_FRAME_UNEXPECTED, 'request stream does not start with HEADERS');
      return false;
    }
    return this.c.server.headers(id, this, ev.payload);
  }

  end(id: number): void {
    // A request stream that ends before (or right after) HEADERS: nothing to answer.
    this.c.readers.set(id, DONE);
  }
}
