/**
 * The WebTransport sessions of one connection and how they end (draft-ietf-webtrans-http3 §6):
 * closed by a capsule or a FIN (clean), or aborted by resetting the CONNECT stream (abrupt, with
 * an HTTP/3 code); an application callback that throws aborts its own session only. The
 * connection itself closes shortly after its last session ends: browsers never put a second
 * session on it and drop it silently, so it would otherwise live until the idle timeout.
 */
import { H3_INTERNAL_ERROR } from './wire/errors.js';
import { invokeCallback } from './app-callback.js';
import { CONNECTION_CLOSE_LINGER_MS, CONNECTION_CLOSE_MAX_WAIT_MS } from './h3-limits.js';
import type { SessionCloseInfo, WebTransportSession } from './session.js';
import { DONE, type H3Context } from './h3-context.js';
import type { H3Timer, QuicCloseInfo } from './h3-transport.js';

export class SessionTable {
  /** Open sessions by session id (the CONNECT stream id). */
  private readonly open = new Map<number, WebTransportSession>();
  private closeTimer: H3Timer | null = null;

  constructor(private readonly c: H3Context) {}

  get size(): number {
    return this.open.size;
  }

  get(id: number): WebTransportSession | undefined {
    return this.open.get(id);
  }

  add(session: WebTransportSession): void {
    this.open.set(session.id, session);
    this.c.counters.sessionsOpened++;
  }

  /** The peer asked every session to wind down (HTTP/3 GOAWAY). */
  markAllDraining(): void {
    for (const s of this.open.values()) this.markDraining(s);
  }

  markDraining(s: WebTransportSession): void {
    if (s.drainReceived || s.closed) return;
    s.drainReceived = true;
    invokeCallback(s, s.onDrain, s.callbackFailed);
  }

  /** Sends a DRAIN capsule on every session (server drain). */
  forEach(fn: (s: WebTransportSession) => void): void {
    for (const s of this.open.values()) fn(s);
  }

  /** The peer sent a malformed capsule or frame on the CONNECT stream: that session is over. */
  protocolError(session: WebTransportSession, code: number, detail: string): void {
    this.c.counters.sessionProtocolErrors++;
    this.abort(session, code, detail);
  }

  /**
   * An application callback of `session` (or of one of its streams) threw, or its promise
   * rejected: counted, and the session alone is aborted with H3_INTERNAL_ERROR on its CONNECT
   * stream. The connection, its other sessions and the endpoint carry on. A failure in a
   * callback of an already ended session (its `onClose`, a stream's `onSessionClosed`, a late
   * rejection) is only counted.
   */
  callbackFailed(session: WebTransportSession, error: unknown): void {
    this.c.counters.callbackErrors++;
    if (session.closed || this.c.isClosed) return;
    this.abort(session, H3_INTERNAL_ERROR, 'application callback threw', error);
  }

  /**
   * Ends a session abruptly (draft-ietf-webtrans-http3 §6): its CONNECT stream is reset and
   * stopped with the HTTP/3 `code`, which the local `onClose` reports as `http3Code`.
   */
  abort(session: WebTransportSession, code: number, reason: string, error?: unknown): void {
    const t = this.c.transport;
    t.resetStream(session.id, code);
    t.stopSending(session.id, code);
    this.c.readers.set(session.id, DONE);
    const info: SessionCloseInfo = error === undefined
      ? { code: 0, reason, byPeer: false, http3Code: code }
      : { code: 0, reason, byPeer: false, http3Code: code, error };
    this.end(session, info, false);
  }

  /**
   * Ends a session: streams of the session are reset / stopped with WT_SESSION_GONE, the app
   * hears `onClose`, and the connection closes shortly after its last session. `answerFin`
   * sends our FIN on the CONNECT stream (peer closed); `capsuleSent` says we just queued a
   * CLOSE capsule, which must leave before the resets.
   */
  end(session: WebTransportSession, info: SessionCloseInfo, answerFin: boolean, capsuleSent = false): void {
    const c = this.c;
    if (session.closed) {
      // The peer's FIN answering our CLOSE capsule: the exchange is complete, close soon.
      if (answerFin && this.open.size === 0) this.scheduleIdleClose(CONNECTION_CLOSE_LINGER_MS);
      return;
    }
    session.closed = true;
    session.closeInfo = info;
    this.open.delete(session.id);
    c.registry.rememberEnded(session.id);
    c.counters.sessionsClosed++;
    c.options.policy?.onSessionClosed?.(session);
    if (answerFin && !c.isClosed) c.transport.write(session.id, new Uint8Array(0), true);
    c.registry.closeStreamsOf(session, capsuleSent);
    invokeCallback(session, session.onClose, session.callbackFailed, info);
    if (!c.isClosed && this.open.size === 0) {
      this.scheduleIdleClose(answerFin || info.byPeer ? CONNECTION_CLOSE_LINGER_MS : CONNECTION_CLOSE_MAX_WAIT_MS);
    }
  }

  /** The connection ended under its sessions. */
  connectionClosed(info: QuicCloseInfo): void {
    this.cancelIdleClose();
    const reason = info.reason || 'connection closed';
    // An HTTP/3 code closed the connection (isApp); a transport code or a timeout is not one.
    const ended: SessionCloseInfo = info.isApp ? { code: 0, reason, byPeer: true, http3Code: info.code } : { code: 0, reason, byPeer: true };
    for (const s of [...this.open.values()]) this.end(s, { ...ended }, false);
  }

  /**
   * Closes the connection soon when it carries no session: browsers never reuse it and drop it
   * silently, so without this it would live until the idle timeout.
   */
  scheduleIdleClose(delay = CONNECTION_CLOSE_MAX_WAIT_MS): void {
    const c = this.c;
    if (c.isClosed || this.open.size > 0 || c.options.closeWhenIdle === false) return;
    this.closeTimer?.cancel();
    this.closeTimer = c.scheduler.after(delay, () => c.guard(() => {
      this.closeTimer = null;
      if (this.open.size === 0 && !this.awaitingConnect()) c.close();
    }));
  }

  cancelIdleClose(): void {
    this.closeTimer?.cancel();
    this.closeTimer = null;
  }

  /** True while the idle close is pending. */
  get idleClosePending(): boolean {
    return this.closeTimer !== null;
  }

  /** A CONNECT in flight (client) or parked (server): the connection is not idle. */
  private awaitingConnect(): boolean {
    for (const r of this.c.readers.values()) if (r.waiting) return true;
    return false;
  }
}
