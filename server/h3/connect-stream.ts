/**
 * The CONNECT stream of a live WebTransport session (draft-ietf-webtrans-http3 §5, §6): after
 * the response, its DATA frames carry capsules (RFC 9297 §3.2). CLOSE_WEBTRANSPORT_SESSION ends
 * the session with the peer's code, DRAIN_WEBTRANSPORT_SESSION asks it to wind down, unknown
 * capsules are skipped; a FIN without a CLOSE capsule is a close with code 0 and a reset of the
 * stream ends the session abruptly. Sending our CLOSE and DRAIN capsules lives here too.
 */
import type { FrameDecoder, FrameEvent } from './wire/frames.js';
import { FRAME_HEADERS, FRAME_PUSH_PROMISE } from './wire/frames.js';
import { CapsuleParser, encodeCloseSessionData, encodeDrainSessionData } from './wire/capsules.js';
import { H3_EXCESSIVE_LOAD, H3_FRAME_UNEXPECTED, H3_ID_ERROR, H3_MESSAGE_ERROR, errorCodeName } from './wire/errors.js';
import { bump } from './h3-counters.js';
import { LIMIT_LABEL, type PeerBufferLimit } from './peer-buffers.js';
import type { SessionCloseInfo, WebTransportSession } from './session.js';
import { DONE, FramedReader, type H3Context } from './h3-context.js';

export class ConnectStreamReader extends FramedReader {
  private readonly capsules = new CapsuleParser();

  constructor(c: H3Context, dec: FrameDecoder, readonly session: WebTransportSession) {
    super(c, dec);
  }

  /**
   * Frame-level errors are connection errors (RFC 9114 §7.1); in a live session's CONNECT
   * stream only that session is closed when the code is a message error.
   */
  protected override decodeError(_id: number, code: number, detail: string): void {
    if (code === H3_MESSAGE_ERROR) this.c.sessions.protocolError(this.session, code, detail);
    else this.c.connectionError(code, detail);
  }

  protected frame(id: number, ev: Extract<FrameEvent, { status: 'frame' | 'data' }>): boolean {
    if (ev.status === 'data') {
      this.capsules.push(ev.chunk.slice());
      return this.pumpCapsules(id);
    }
    if (ev.type === FRAME_HEADERS) return true; // trailers: nothing to do with them
    if (ev.type === FRAME_PUSH_PROMISE && this.c.role === 'client') {
      this.c.connectionError(H3_ID_ERROR, 'PUSH_PROMISE without MAX_PUSH_ID');
      return false;
    }
    // SETTINGS, GOAWAY, MAX_PUSH_ID, CANCEL_PUSH on a request stream: RFC 9114 §7.2.
    this.c.connectionError(H3_FRAME_UNEXPECTED, `frame 0x${ev.type.toString(16)} on a request stream`);
    return false;
  }

  end(id: number): void {
    const err = this.dec.finish() ?? this.capsules.finish();
    this.c.readers.set(id, DONE);
    if (err) {
      this.c.sessions.protocolError(this.session, err.code, err.detail);
      return;
    }
    // draft-ietf-webtrans-http3 §6: FIN without a CLOSE capsule = closed with code 0. After a
    // CLOSE capsule this is the expected FIN; either way answer with our FIN and linger.
    this.c.sessions.end(this.session, { code: 0, reason: '', byPeer: true }, true);
  }

  /**
   * draft-ietf-webtrans-http3 §6: a reset CONNECT stream ends the session abruptly, with the
   * HTTP/3 code the peer gave (H3_INTERNAL_ERROR: the peer's application code failed).
   */
  reset(_id: number, code: number): void {
    this.c.sessions.end(this.session, { code: 0, reason: `CONNECT stream reset (${errorCodeName(code)})`, byPeer: true, http3Code: code }, false);
  }

  /** The peer stopped reading the CONNECT stream: the session is over (abruptly). */
  stopped(id: number, code: number | null): void {
    this.c.readers.set(id, DONE);
    const info: SessionCloseInfo = code === null ? { code: 0, reason: '', byPeer: true } : { code: 0, reason: '', byPeer: true, http3Code: code };
    this.c.sessions.end(this.session, info, false);
  }

  /** A partial frame header, or a partial CLOSE capsule (at most CAPSULE_PARSER_MAX_BUFFERED). */
  override get heldBytes(): number {
    return this.dec.bufferedBytes + this.capsules.bufferedBytes;
  }

  /**
   * A partial capsule stalled, or the connection holds too much: the session is aborted with
   * H3_EXCESSIVE_LOAD. The server-wide cap is not applied (one such stream per session, its bytes
   * bounded by the capsule limits).
   */
  overLimit(_id: number, limit: PeerBufferLimit): void {
    if (limit === 'server_cap') return;
    bump(this.c.counters.limits, `capsule_${LIMIT_LABEL[limit]}`);
    this.c.sessions.abort(this.session, H3_EXCESSIVE_LOAD, `CONNECT stream: partial capsule over a limit (${LIMIT_LABEL[limit]})`);
  }

  private pumpCapsules(id: number): boolean {
    for (;;) {
      const c = this.capsules.next();
      switch (c.status) {
        case 'need-more':
          return true;
        case 'skipped':
          this.c.counters.unknownCapsulesSkipped++;
          continue;
        case 'drain':
          this.c.counters.drainsReceived++;
          this.c.sessions.markDraining(this.session);
          continue;
        case 'close':
          // The FIN that follows finishes the stream; we answer with ours now.
          this.c.readers.set(id, DONE);
          this.c.sessions.end(this.session, { code: c.code, reason: c.reason, byPeer: true }, true);
          return false;
        case 'error':
          this.c.sessions.protocolError(this.session, c.code, c.detail);
          return false;
      }
    }
  }
}

/**
 * Closes `session` from our side (draft-ietf-webtrans-http3 §6): CLOSE_WEBTRANSPORT_SESSION in
 * a DATA frame, then FIN; the session's streams are reset once that packet has left.
 */
export function sendClose(c: H3Context, session: WebTransportSession, code: number, reason: string): void {
  if (session.closed) return;
  c.transport.write(session.id, encodeCloseSessionData(code, reason), true);
  c.sessions.end(session, { code, reason, byPeer: false }, false, true);
}

/** Asks the peer to wind `session` down (DRAIN_WEBTRANSPORT_SESSION, draft-07 §4.7). */
export function sendDrain(c: H3Context, session: WebTransportSession): void {
  if (session.closed) return;
  c.counters.drainsSent++;
  c.transport.write(session.id, encodeDrainSessionData());
}
