import { ErrorCode } from '../../shared/errors.js';
import { FrameDecoder, encodeFrame } from '../../shared/framing.js';
import { MAX_UNRELIABLE_MESSAGE_BYTES } from '../../shared/limits.js';
import type { WebTransportSession, WebTransportStream } from '../h3/index.js';
import type { CloseInfo, Connection, ConnectionStats, SendUnreliableOptions } from './connection.js';

/**
 * WebTransport application error code we reset surplus client streams with: the game uses one
 * bidirectional stream per session; others are refused at once rather than buffered.
 */
export const WT_EXTRA_STREAM_REFUSED = 1;

/**
 * Time a session may stay open without the client opening its reliable stream. The hello
 * timeout covers the same ground one layer up; this only bounds a session that never even
 * starts the game protocol.
 */
export const WT_STREAM_OPEN_TIMEOUT_MS = 10_000;

let nextId = 0;

/**
 * A `Connection` over one WebTransport session (server/h3): unreliable = HTTP datagrams
 * (RFC 9297 §2 via draft-ietf-webtrans-http3 §4.4), reliable = the first bidirectional stream
 * the client opens, carrying varint-length-prefixed frames (shared/framing.ts, RFC 9000 §16).
 */
export class WebTransportConnection implements Connection {
  readonly id: string;
  readonly transport = 'webtransport' as const;
  readonly remoteAddress: string;
  onUnreliable: ((bytes: Uint8Array) => void) | null = null;
  onReliable: ((bytes: Uint8Array) => void) | null = null;
  onClose: ((info: CloseInfo) => void) | null = null;
  private stream: WebTransportStream | null = null;
  private readonly decoder = new FrameDecoder();
  private isClosed = false;
  private openTimer: NodeJS.Timeout | null;
  private readonly counters: ConnectionStats = {
    bytesSentUnreliable: 0, bytesSentReliable: 0, bytesReceivedUnreliable: 0, bytesReceivedReliable: 0,
    messagesSentUnreliable: 0, messagesSentReliable: 0, unreliableDropped: 0, unreliableReplaced: 0,
  };

  /**
   * `streamOpenTimeoutMs`: how long the client may take to open its reliable stream (default
   * WT_STREAM_OPEN_TIMEOUT_MS); the server passes at least its hello timeout, as the hello
   * travels on that stream. `onRefused` counts the streams refused here, by reason
   * (`extra_bidi_stream`, `uni_stream`), for the `webtransport` refusal metric.
   */
  constructor(
    private readonly session: WebTransportSession,
    streamOpenTimeoutMs = WT_STREAM_OPEN_TIMEOUT_MS,
    private readonly onRefused: (reason: 'extra_bidi_stream' | 'uni_stream') => void = () => undefined,
  ) {
    this.id = `wt-${++nextId}`;
    this.remoteAddress = session.remoteAddress;
    session.onDatagram = (bytes) => {
      if (this.isClosed || bytes.length === 0) return;
      this.counters.bytesReceivedUnreliable += bytes.length;
      this.onUnreliable?.(bytes);
    };
    session.onBidiStream = (stream) => this.onStream(stream);
    session.onUniStream = (stream) => {
      this.onRefused('uni_stream');
      stream.stopSending(WT_EXTRA_STREAM_REFUSED);
    };
    // A clean end carries the game's close code; an abrupt one (CONNECT stream reset, connection
    // lost) the HTTP/3 code, which CloseInfo allows for transport failures.
    session.onClose = (info) => this.finish({ code: info.http3Code ?? info.code, reason: info.reason, byPeer: info.byPeer });
    this.openTimer = setTimeout(() => {
      if (!this.stream) this.close(ErrorCode.HELLO_TIMEOUT, 'no reliable stream opened');
    }, streamOpenTimeoutMs);
    this.openTimer.unref();
  }

  /** Datagram payload budget now (quiche's limit minus the HTTP datagram prefix), capped at the protocol's. */
  get maxUnreliableSize(): number {
    const size = this.session.maxDatagramSize;
    return size > 0 ? Math.min(size, MAX_UNRELIABLE_MESSAGE_BYTES) : MAX_UNRELIABLE_MESSAGE_BYTES;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  sendUnreliable(bytes: Uint8Array, options?: SendUnreliableOptions): boolean {
    if (this.isClosed || bytes.length === 0) {
      this.counters.unreliableDropped++;
      return false;
    }
    if (options?.replaceKey) {
      // Latest wins: datagrams of the same message type still queued in quiche are stale now.
      // (Replace keys map to the message id on this transport: the queue holds only bytes.)
      const type = bytes[0];
      let purged = 0;
      this.session.purgeDatagrams((payload) => {
        const stale = payload[0] === type;
        if (stale) purged++;
        return stale;
      });
      this.counters.unreliableReplaced += purged;
    }
    if (!this.session.sendDatagram(bytes)) {
      this.counters.unreliableDropped++;
      return false;
    }
    this.counters.bytesSentUnreliable += bytes.length;
    this.counters.messagesSentUnreliable++;
    return true;
  }

  sendReliable(bytes: Uint8Array): boolean {
    if (this.isClosed || !this.stream) return false;
    let frame: Uint8Array;
    try {
      frame = encodeFrame(bytes);
    } catch {
      return false; // empty or over the frame limit: our own bug, never put on the wire
    }
    // The stream's write queue (STREAM_WRITE_QUEUE_LIMIT_BYTES in server/h3) is the reliable
    // buffer limit: a refused write means the client reads too slowly.
    if (!this.stream.write(frame)) {
      this.close(ErrorCode.SLOW_CONSUMER, 'reliable send buffer limit exceeded');
      return false;
    }
    this.counters.bytesSentReliable += bytes.length;
    this.counters.messagesSentReliable++;
    return true;
  }

  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.session.close(code, reason);
    this.finish({ code, reason, byPeer: false });
  }

  drain(): void {
    if (!this.isClosed) this.session.drain();
  }

  stats(): ConnectionStats {
    return { ...this.counters, unreliableDropped: this.counters.unreliableDropped };
  }

  private onStream(stream: WebTransportStream): void {
    if (this.stream || this.isClosed) {
      this.onRefused('extra_bidi_stream');
      stream.reset(WT_EXTRA_STREAM_REFUSED);
      stream.stopSending(WT_EXTRA_STREAM_REFUSED);
      return;
    }
    this.stream = stream;
    if (this.openTimer) clearTimeout(this.openTimer);
    this.openTimer = null;
    stream.onData = (chunk) => {
      if (this.isClosed) return;
      const r = this.decoder.push(chunk);
      for (const frame of r.frames) {
        if (this.isClosed) return;
        this.counters.bytesReceivedReliable += frame.length;
        this.onReliable?.(frame);
      }
      if (!r.ok) this.close(r.code, r.detail);
    };
    // The client ending or resetting its reliable stream ends the game session.
    stream.onEnd = () => this.close(ErrorCode.NORMAL, 'reliable stream ended by the client');
    stream.onReset = () => this.close(ErrorCode.NORMAL, 'reliable stream reset by the client');
    stream.onStopSending = () => this.close(ErrorCode.NORMAL, 'client stopped reading the reliable stream');
  }

  private finish(info: CloseInfo): void {
    if (this.openTimer) clearTimeout(this.openTimer);
    this.openTimer = null;
    if (this.isClosed) return;
    this.isClosed = true;
    const cb = this.onClose;
    this.onClose = null;
    cb?.(info);
  }
}
