import { ErrorCode } from '../../shared/errors.js';
import { FrameDecoder, encodeFrame } from '../../shared/framing.js';
import { MAX_UNRELIABLE_MESSAGE_BYTES } from '../../shared/limits.js';
import { MESSAGES } from '../../shared/messages.js';
import { hostOf } from '../address.js';
import type { WebTransportSession, WebTransportStream } from '../h3/index.js';
import type { SendUnreliableOptions } from './connection.js';
import { ConnectionBase } from './connection-base.js';

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

/**
 * Longest frame a client may send on the reliable stream: its largest reliable message (the
 * `hello`, a few KiB). Anything longer would be refused by the codec anyway (MESSAGE_TOO_LARGE);
 * refusing it from the frame header keeps a session from holding more than this in a partial
 * frame, instead of MAX_RELIABLE_MESSAGE_BYTES (256 KiB, sized for the server's `welcome`).
 */
export const WT_MAX_CLIENT_FRAME_BYTES = Math.max(
  ...MESSAGES.filter((m) => m.channel === 'reliable' && m.direction !== 's2c').map((m) => m.maxBytes),
);

/**
 * Time a frame may stay incomplete on the reliable stream. A frame of a few KiB arrives within
 * round trips; one that has not after this long is a peer holding memory open on purpose (or a
 * link too broken to play on), and it is a protocol error. Datagrams alone keep a session from
 * the idle timeout, so the hello and idle timeouts do not bound this.
 */
export const WT_INCOMPLETE_FRAME_TIMEOUT_MS = 10_000;

let nextId = 0;

/**
 * The next `Connection.id` of a WebTransport session: `wt-<n>`, unique in this process for both
 * the in-thread connections and those hosted by workers (wt-worker/remote-connection.ts).
 */
export function nextWebTransportConnectionId(): string {
  return `wt-${++nextId}`;
}

/**
 * A `Connection` over one WebTransport session (server/h3): unreliable = HTTP datagrams
 * (RFC 9297 §2 via draft-ietf-webtrans-http3 §4.4), reliable = the first bidirectional stream
 * the client opens, carrying varint-length-prefixed frames (shared/framing.ts, RFC 9000 §16).
 */
export class WebTransportConnection extends ConnectionBase {
  readonly id: string;
  readonly transport = 'webtransport' as const;
  readonly remoteAddress: string;
  private stream: WebTransportStream | null = null;
  private readonly decoder = new FrameDecoder(WT_MAX_CLIENT_FRAME_BYTES);
  private openTimer: NodeJS.Timeout | null;
  /** The message type `isStale` purges (the first byte of the message replacing them). */
  private purgeType = -1;
  /** quiche's purge predicate, made once (no closure per send); counts what it purges. */
  private readonly isStale = (payload: Uint8Array): boolean => {
    const stale = payload[0] === this.purgeType;
    if (stale) this.counters.unreliableReplaced++;
    return stale;
  };
  /** Runs while a partial frame is held (WT_INCOMPLETE_FRAME_TIMEOUT_MS). */
  private partialTimer: NodeJS.Timeout | null = null;

  /**
   * `streamOpenTimeoutMs`: how long the client may take to open its reliable stream (default
   * WT_STREAM_OPEN_TIMEOUT_MS); the server passes at least its hello timeout, as the hello
   * travels on that stream. `onRefused` counts the streams refused here, by reason
   * (`extra_bidi_stream`, `uni_stream`), for the `webtransport` refusal metric.
   * `incompleteFrameTimeoutMs`: how long a frame may stay partial (WT_INCOMPLETE_FRAME_TIMEOUT_MS).
   */
  constructor(
    private readonly session: WebTransportSession,
    streamOpenTimeoutMs = WT_STREAM_OPEN_TIMEOUT_MS,
    private readonly onRefused: (reason: 'extra_bidi_stream' | 'uni_stream') => void = () => undefined,
    private readonly incompleteFrameTimeoutMs = WT_INCOMPLETE_FRAME_TIMEOUT_MS,
  ) {
    super();
    this.id = nextWebTransportConnectionId();
    this.remoteAddress = hostOf(session.remoteAddress);
    session.onDatagram = (bytes) => {
      if (bytes.length > 0) this.receiveUnreliable(bytes);
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

  sendUnreliable(bytes: Uint8Array, options?: SendUnreliableOptions): boolean {
    if (this.isClosed || bytes.length === 0) {
      this.counters.unreliableDropped++;
      return false;
    }
    if (options?.replaceKey) {
      // Latest wins: datagrams of the same message type still queued in quiche are stale now.
      // (Replace keys map to the message id on this transport: the queue holds only bytes.)
      this.purgeType = bytes[0];
      this.session.purgeDatagrams(this.isStale);
    }
    if (!this.session.sendDatagram(bytes)) {
      this.counters.unreliableDropped++;
      return false;
    }
    this.countSent('unreliable', bytes.length);
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
    this.countSent('reliable', bytes.length);
    return true;
  }

  drain(): void {
    if (!this.isClosed) this.session.drain();
  }

  protected override closeTransport(code: number, reason: string): void {
    this.session.close(code, reason);
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
      if (this.isClosed || this.failed) return;
      const r = this.decoder.push(chunk);
      for (const frame of r.frames) this.receiveReliable(frame);
      if (this.isClosed || this.failed) return;
      if (!r.ok) {
        this.protocolError(r.code === ErrorCode.MESSAGE_TOO_LARGE
          ? { code: r.code, reason: r.reason, kind: 'frame_too_large' }
          : { code: r.code, reason: r.reason, kind: 'empty_frame' });
        return;
      }
      this.watchPartialFrame(r.frames.length > 0);
    };
    // The client ending or resetting its reliable stream ends the game session.
    stream.onEnd = () => this.close(ErrorCode.NORMAL, 'reliable stream ended by the client');
    stream.onReset = () => this.close(ErrorCode.NORMAL, 'reliable stream reset by the client');
    stream.onStopSending = () => this.close(ErrorCode.NORMAL, 'client stopped reading the reliable stream');
  }

  /**
   * Runs the incomplete-frame clock while a partial frame is held: from the push that began that
   * frame (`completedOne`: the push finished earlier frames, so the partial one is new); more
   * bytes of the same frame do not reset it.
   */
  private watchPartialFrame(completedOne: boolean): void {
    if (this.decoder.bufferedBytes === 0 || completedOne) this.stopPartialTimer();
    if (this.decoder.bufferedBytes === 0 || this.partialTimer) return;
    this.partialTimer = setTimeout(() => {
      this.partialTimer = null;
      this.protocolError({ code: ErrorCode.BAD_MESSAGE, reason: 'decode', kind: 'frame_timeout' });
    }, this.incompleteFrameTimeoutMs);
    this.partialTimer.unref();
  }

  /** Nothing more is read after a protocol error: the incomplete-frame clock stops. */
  protected override failing(): void {
    this.stopPartialTimer();
  }

  protected override finished(): void {
    if (this.openTimer) clearTimeout(this.openTimer);
    this.openTimer = null;
    this.stopPartialTimer();
  }

  private stopPartialTimer(): void {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = null;
  }
}
