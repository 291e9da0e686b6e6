/**
 * The WebTransport streams of one connection (draft-ietf-webtrans-http3 §4): attaching a peer's
 * stream to its session by the session id in its header, opening our own, buffering briefly the
 * streams that overtake their session's CONNECT (§4.6), refusing streams of sessions that ended
 * (WT_SESSION_GONE, remembered for a bounded number of recently ended sessions), and taking every
 * stream of a session down with it when the session ends (§6).
 */
import { concatBytes } from './wire/bytes.js';
import { encodeWtBidiStreamHeader, encodeWtUniStreamHeader } from './wire/wt-streams.js';
import { WT_BUFFERED_STREAM_REJECTED, WT_SESSION_GONE, http3CodeToWebTransport, webTransportCodeToHttp3 } from './wire/errors.js';
import { invokeCallback } from './app-callback.js';
import {
  BUFFERED_STREAM_TIMEOUT_MS, MAX_BUFFERED_STREAM_BYTES, MAX_BUFFERED_STREAMS_PER_CONNECTION, MAX_ENDED_SESSIONS_REMEMBERED,
} from './h3-limits.js';
import { WebTransportStream, type WebTransportSession } from './session.js';
import { DONE, type H3Context, type StreamReader } from './h3-context.js';
import type { H3Timer } from './h3-transport.js';
import { abortReading, isDiscarding } from './read-abort.js';

export class WtStreamRegistry {
  /** Open WebTransport streams (either side's) by stream id. */
  private readonly streams = new Map<number, WebTransportStream>();
  /** Ids of recently ended sessions, oldest first (bounded by MAX_ENDED_SESSIONS_REMEMBERED). */
  private readonly ended = new Set<number>();
  private bufferedCount = 0;

  constructor(private readonly c: H3Context) {}

  /** A peer stream named session `sessionId`: join it, buffer it until the session exists, or refuse it. */
  attach(id: number, sessionId: number, bidi: boolean, rest: Uint8Array, fin: boolean): void {
    const c = this.c;
    const session = c.sessions.get(sessionId);
    if (session && !session.closed) {
      const stream = new WebTransportStream(id, session, bidi, false, c);
      const reader = new WtStreamReader(c, this, stream);
      c.readers.set(id, reader);
      this.streams.set(id, stream);
      session.streams.set(id, stream);
      invokeCallback(session, bidi ? session.onBidiStream : session.onUniStream, session.callbackFailed, stream);
      if (session.closed) return;
      if (rest.byteLength > 0 || fin) reader.data(id, rest, fin);
      return;
    }
    if (this.ended.has(sessionId)) {
      c.counters.streamsRejectedSessionGone++;
      this.refuse(id, bidi, WT_SESSION_GONE);
      return;
    }
    // draft-ietf-webtrans-http3 §4.6: a stream may overtake its CONNECT; buffer a few briefly.
    // (A client whose last session ended and that is about to close takes no more.)
    if (this.bufferedCount >= MAX_BUFFERED_STREAMS_PER_CONNECTION || (c.sessions.idleClosePending && c.sessions.size === 0 && c.role === 'client')) {
      c.counters.streamsRejectedBuffered++;
      this.refuse(id, bidi, WT_BUFFERED_STREAM_REJECTED);
      return;
    }
    this.bufferedCount++;
    const reader = new BufferedStreamReader(this, sessionId, bidi);
    reader.timer = c.scheduler.after(BUFFERED_STREAM_TIMEOUT_MS, () => c.guard(() => {
      if (c.readers.get(id) === reader) this.bufferedRejected(reader, id);
    }));
    c.readers.set(id, reader);
    if (rest.byteLength > 0 || fin) reader.data(id, rest, fin);
  }

  /** A session opened: the streams that overtook its CONNECT join it. */
  adoptBuffered(session: WebTransportSession): void {
    if (this.bufferedCount === 0) return;
    for (const [id, r] of [...this.c.readers]) {
      if (!(r instanceof BufferedStreamReader) || r.sessionId !== session.id) continue;
      r.timer?.cancel();
      this.bufferedCount--;
      const data = r.chunks.length === 1 ? r.chunks[0] : concatBytes(r.chunks);
      this.c.readers.delete(id);
      this.attach(id, session.id, r.bidi, data, r.fin);
    }
  }

  /** Opens our own stream on `session` (its header goes first); null when it cannot be opened. */
  open(session: WebTransportSession, bidi: boolean): WebTransportStream | null {
    const c = this.c;
    if (session.closed || c.isClosed) return null;
    const id = c.transport.openStream(bidi);
    const header = bidi ? encodeWtBidiStreamHeader(session.id) : encodeWtUniStreamHeader(session.id);
    if (!c.transport.write(id, header)) return null;
    const stream = new WebTransportStream(id, session, bidi, true, c);
    this.streams.set(id, stream);
    session.streams.set(id, stream);
    if (bidi) c.readers.set(id, new WtStreamReader(c, this, stream));
    return stream;
  }

  /** The peer sent STOP_SENDING on stream `id`; false when it is not a WebTransport stream. */
  stopped(id: number, code: number | null): boolean {
    const s = this.streams.get(id);
    if (!s) return false;
    if (!s.writeDone) {
      s.writeDone = true;
      invokeCallback(s, s.onStopSending, s.session.callbackFailed, code === null ? null : http3CodeToWebTransport(code), code);
    }
    this.maybeForget(s);
    return true;
  }

  /** A refused write on stream `id` may be retried. */
  writable(id: number): void {
    const s = this.streams.get(id);
    if (s) invokeCallback(s, s.onWritable, s.session.callbackFailed);
  }

  write(stream: WebTransportStream, data: Uint8Array, fin: boolean): boolean {
    if (stream.session.closed) return false;
    const ok = this.c.transport.write(stream.id, data, fin);
    if (fin) this.maybeForget(stream);
    return ok;
  }

  /** RESET_STREAM with the HTTP/3 code of WebTransport code `code` (draft-ietf-webtrans-http3 §4.3). */
  reset(stream: WebTransportStream, code: number): void {
    this.c.transport.resetStream(stream.id, webTransportCodeToHttp3(code >>> 0));
    this.maybeForget(stream);
  }

  /**
   * STOP_SENDING with the HTTP/3 code of WebTransport code `code` (on a peer unidirectional
   * stream only after a grace in which it may end by itself: read-abort.ts).
   */
  stopSending(stream: WebTransportStream, code: number): void {
    abortReading(this.c, stream.id, webTransportCodeToHttp3(code >>> 0));
    this.maybeForget(stream);
  }

  /** A session ended: late streams naming it get WT_SESSION_GONE. */
  rememberEnded(sessionId: number): void {
    this.ended.add(sessionId);
    if (this.ended.size > MAX_ENDED_SESSIONS_REMEMBERED) {
      // Forget the oldest: a late stream for it is then buffered and rejected instead.
      const oldest = this.ended.values().next().value;
      if (oldest !== undefined) this.ended.delete(oldest);
    }
  }

  /**
   * draft-ietf-webtrans-http3 §6: every stream of an ended session is reset and stopped with
   * WT_SESSION_GONE. When we sent the CLOSE capsule (`capsuleSent`), those frames wait until the
   * capsule's packet has left: quiche places RESET_STREAM ahead of STREAM data in a packet, and
   * Chromium that sees its streams reset before the capsule sometimes reports the session as
   * lost (closed rejects) instead of giving the page our code.
   */
  closeStreamsOf(session: WebTransportSession, capsuleSent: boolean): void {
    const c = this.c;
    const toReset: number[] = [];
    const toStop: number[] = [];
    for (const s of [...session.streams.values()]) {
      const peerUni = !s.bidi && !s.local;
      if (!s.writeDone) toReset.push(s.id);
      if (!s.readDone && !peerUni) toStop.push(s.id);
      const wasOpen = !s.writeDone || !s.readDone;
      // A peer unidirectional stream still open: discarded, stopped after a grace (read-abort.ts).
      if (peerUni && !s.readDone) abortReading(c, s.id, WT_SESSION_GONE);
      s.writeDone = true;
      s.readDone = true;
      this.streams.delete(s.id);
      // Anything more the peer sends on a bidirectional stream is ignored.
      if (s.bidi) c.readers.set(s.id, DONE);
      // The session is already marked closed: a throw here is only counted.
      if (wasOpen) invokeCallback(s, s.onSessionClosed, session.callbackFailed);
    }
    session.streams.clear();
    if (c.isClosed || toReset.length + toStop.length === 0) return;
    const resetAll = (): void => {
      if (c.isClosed) return;
      for (const id of toReset) c.transport.resetStream(id, WT_SESSION_GONE);
      for (const id of toStop) c.transport.stopSending(id, WT_SESSION_GONE);
    };
    if (capsuleSent) c.transport.afterFlush(resetAll);
    else resetAll();
  }

  /** The connection ended: nothing more to track. */
  clear(): void {
    this.streams.clear();
  }

  /** @internal */
  bufferedRejected(reader: BufferedStreamReader, id: number): void {
    reader.timer?.cancel();
    this.bufferedCount--;
    this.c.counters.streamsRejectedBuffered++;
    this.refuse(id, reader.bidi, WT_BUFFERED_STREAM_REJECTED);
  }

  /** @internal */
  bufferedReset(reader: BufferedStreamReader): void {
    reader.timer?.cancel();
    this.bufferedCount--;
  }

  /** @internal Forgets a stream whose both sides are done and whose queue drained. */
  maybeForget(s: WebTransportStream): void {
    if (!s.readDone || !s.writeDone) return;
    if (this.c.transport.queuedBytes(s.id) > 0) return;
    this.streams.delete(s.id);
    s.session.streams.delete(s.id);
    // A stream being discarded keeps its reader until quiche delivers its end.
    if (!isDiscarding(this.c.readers.get(s.id))) this.c.readers.delete(s.id);
    this.c.transport.forgetStream(s.id);
  }

  private refuse(id: number, bidi: boolean, code: number): void {
    abortReading(this.c, id, code);
    if (bidi) this.c.transport.resetStream(id, code);
  }
}

/** The receive side of a WebTransport stream: bytes go to the application's `onData`. */
class WtStreamReader implements StreamReader {
  constructor(private readonly c: H3Context, private readonly registry: WtStreamRegistry, private readonly stream: WebTransportStream) {}

  data(id: number, data: Uint8Array, fin: boolean): void {
    const s = this.stream;
    if (s.readDone) return;
    if (data.byteLength > 0) {
      invokeCallback(s, s.onData, s.session.callbackFailed, data);
      // The callback stopped reading, or threw and its session was aborted.
      if (s.readDone) return;
    }
    if (fin) {
      s.readDone = true;
      this.c.readers.set(id, DONE);
      invokeCallback(s, s.onEnd, s.session.callbackFailed);
      this.registry.maybeForget(s);
    }
  }

  reset(_id: number, code: number): void {
    const s = this.stream;
    if (!s.readDone) {
      s.readDone = true;
      invokeCallback(s, s.onReset, s.session.callbackFailed, http3CodeToWebTransport(code), code);
    }
    this.registry.maybeForget(s);
  }
}

/** A WebTransport stream that overtook its session's CONNECT (draft-ietf-webtrans-http3 §4.6). */
class BufferedStreamReader implements StreamReader {
  readonly chunks: Uint8Array[] = [];
  private bytes = 0;
  fin = false;
  timer: H3Timer | null = null;

  constructor(private readonly registry: WtStreamRegistry, readonly sessionId: number, readonly bidi: boolean) {}

  data(_id: number, data: Uint8Array, fin: boolean): void {
    this.bytes += data.byteLength;
    if (data.byteLength > 0) this.chunks.push(data);
    if (fin) this.fin = true;
  }

  reset(): void {
    this.registry.bufferedReset(this);
  }

  get heldBytes(): number {
    return this.bytes;
  }

  /** Its own cap; its time limit is BUFFERED_STREAM_TIMEOUT_MS, kept by its own timer. */
  get holdCap(): number {
    return MAX_BUFFERED_STREAM_BYTES;
  }

  /** draft-ietf-webtrans-http3 §4.6: past any limit, WT_BUFFERED_STREAM_REJECTED. */
  overLimit(id: number): void {
    this.registry.bufferedRejected(this, id);
  }

  connectionClosed(): void {
    this.timer?.cancel();
  }
}
