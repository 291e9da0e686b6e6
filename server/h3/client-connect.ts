/**
 * Client role: sending an extended CONNECT for a WebTransport session (RFC 9220,
 * draft-ietf-webtrans-http3 §3.2) and reading its response; and the server's bidirectional
 * streams, which on a client can only be WebTransport streams (RFC 9114 §6.1: servers open no
 * request streams).
 */
import { FrameDecoder, FRAME_HEADERS, encodeHeadersFrame, type FrameEvent } from './wire/frames.js';
import { decodeFieldSection, encodeFieldSection } from './wire/qpack/field-section.js';
import { buildConnectRequestHeaders, validateConnectResponse } from './wire/connect-request.js';
import { H3_EXCESSIVE_LOAD, H3_FRAME_UNEXPECTED, H3_STREAM_CREATION_ERROR, errorCodeName } from './wire/errors.js';
import { LIMIT_LABEL, type PeerBufferLimit } from './peer-buffers.js';
import { WebTransportSession } from './session.js';
import { DONE, FramedReader, type H3Context } from './h3-context.js';
import { ConnectStreamReader } from './connect-stream.js';
import type { QuicCloseInfo } from './h3-transport.js';

/** Why a CONNECT failed: the HTTP status of a refusal, or what went wrong. */
export interface ConnectFailure {
  status?: number;
  message: string;
}

/** A CONNECT in flight. */
interface PendingConnect {
  resolve: (session: WebTransportSession) => void;
  reject: (error: ConnectFailure) => void;
  path: string;
  origin: string;
}

export class ClientConnects {
  constructor(private readonly c: H3Context) {}

  /**
   * Sends an extended CONNECT on a new request stream. Resolves with the session on a 2xx
   * response; rejects with the status (or a reason) otherwise.
   */
  connect(authority: string, path: string, origin: string | null): Promise<WebTransportSession> {
    const c = this.c;
    return new Promise((resolve, reject) => {
      if (c.isClosed) {
        reject({ message: 'connection closed' });
        return;
      }
      const id = c.transport.openStream(true);
      const fields = buildConnectRequestHeaders({ authority, path, origin: origin ?? undefined });
      const pending: PendingConnect = { resolve, reject, path, origin: origin ?? '' };
      c.readers.set(id, new ConnectPendingReader(c, new FrameDecoder(), pending));
      if (!c.transport.write(id, encodeHeadersFrame(encodeFieldSection(fields)))) {
        c.readers.delete(id);
        reject({ message: 'could not open a request stream' });
      }
    });
  }

  /** The reader of a bidirectional stream the server opened. */
  newServerStream(): FramedReader {
    return new ServerBidiReader(this.c, new FrameDecoder({ acceptWebTransportStream: true }));
  }
}

/** Our CONNECT, waiting for the response HEADERS. */
class ConnectPendingReader extends FramedReader {
  readonly waiting = true;

  constructor(c: H3Context, dec: FrameDecoder, private readonly pending: PendingConnect) {
    super(c, dec);
  }

  reset(_id: number, code: number): void {
    this.pending.reject({ message: `CONNECT stream reset (${errorCodeName(code)})` });
  }

  connectionClosed(info: QuicCloseInfo): void {
    this.pending.reject({ message: `connection closed (${info.reason || info.code})` });
  }

  /** A partial response HEADERS frame past a limit. */
  overLimit(id: number, limit: PeerBufferLimit): void {
    this.c.rejectStream(id, H3_EXCESSIVE_LOAD, `response_headers_${LIMIT_LABEL[limit]}`);
    this.pending.reject({ message: `response over a limit (${LIMIT_LABEL[limit]})` });
  }

  protected frame(id: number, ev: Extract<FrameEvent, { status: 'frame' | 'data' }>): boolean {
    if (ev.status === 'data' || ev.type !== FRAME_HEADERS) {
      this.c.connectionError(H3_FRAME_UNEXPECTED, 'response does not start with HEADERS');
      return false;
    }
    return this.response(id, ev.payload);
  }

  end(id: number): void {
    this.c.readers.set(id, DONE);
    this.pending.reject({ message: 'CONNECT stream ended without a response' });
  }

  /** The CONNECT response's HEADERS arrived. */
  private response(id: number, payload: Uint8Array): boolean {
    const c = this.c;
    const fs = decodeFieldSection(payload);
    if (fs.status === 'error') {
      c.connectionError(fs.code, fs.detail);
      return false;
    }
    const r = validateConnectResponse(fs.headers);
    if (r.status === 'error') {
      c.rejectStream(id, r.code);
      this.pending.reject({ message: `malformed response: ${r.detail}` });
      return false;
    }
    const status = r.statusCode;
    if (status >= 100 && status < 200) return true; // interim response: keep waiting
    if (status < 200 || status > 299) {
      c.readers.set(id, DONE);
      c.transport.write(id, new Uint8Array(0), true);
      this.pending.reject({ status, message: `server answered ${status}` });
      c.sessions.scheduleIdleClose();
      return false;
    }
    const session = new WebTransportSession(id, this.pending.path, this.pending.origin, c.remoteAddress, c);
    c.sessions.add(session);
    c.readers.set(id, new ConnectStreamReader(c, this.dec, session));
    if (c.control.peerDraining) session.drainReceived = true;
    this.pending.resolve(session);
    c.registry.adoptBuffered(session);
    return true;
  }
}

/** A bidirectional stream the server opened: only the WebTransport signal may start it. */
class ServerBidiReader extends FramedReader {
  reset(): void {
    // Reset before its first frame: nothing to do.
  }

  protected frame(): boolean {
    // RFC 9114 §6.1: server-initiated bidi streams are not HTTP/3 request streams.
    this.c.connectionError(H3_STREAM_CREATION_ERROR, 'server-initiated bidirectional stream without WebTransport signal');
    return false;
  }

  end(id: number): void {
    this.c.readers.set(id, DONE);
  }

  /** A partial first frame past a limit. */
  overLimit(id: number, limit: PeerBufferLimit): void {
    this.c.rejectStream(id, H3_EXCESSIVE_LOAD, `server_stream_${LIMIT_LABEL[limit]}`);
  }
}
