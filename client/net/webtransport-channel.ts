import { CLOSE_ABNORMAL, type ChannelCloseInfo, type ChannelName, type ClientChannel } from './channel.js';
import type { ReliableFraming } from './reliable-framing.js';
import type {
  CertificateHash,
  TimerApi,
  WebTransportConstructor,
  WebTransportLike,
} from './transport-types.js';

/**
 * How long WebTransport may take to become ready before `auto` mode gives up on it and falls
 * back to WebSocket (issue 4). UDP may be blocked silently, and a player should not wait longer
 * than this for the game to start.
 */
export const WEBTRANSPORT_READY_TIMEOUT_MS = 1_000;

/**
 * Datagram writes not yet accepted by the browser's datagram queue. More than this and new
 * inputs are dropped: they repeat, and a stale input is worth less than a fresh one.
 */
export const DATAGRAM_PENDING_LIMIT = 32;

/**
 * Reliable bytes handed to the stream writer but not yet accepted by it. A healthy session
 * never comes near this; beyond it the session is closed rather than buffering without bound.
 */
export const STREAM_PENDING_BYTES_LIMIT = 1024 * 1024;

/** Conservative datagram payload when the implementation does not report `maxDatagramSize`. */
export const DEFAULT_MAX_DATAGRAM_SIZE = 1024;

/**
 * A deliberate close waits at most this long for the server to close the session after our
 * last reliable message (`leave`). Closing at once can lose it: the session close travels on
 * another stream than the data, and the peer may process the close first.
 */
export const GRACEFUL_CLOSE_WAIT_MS = 500;

/**
 * When the reliable stream ends, the session's close (with the server's code) usually follows
 * within a moment; wait this long for it before reporting the end as an abnormal close.
 */
export const STREAM_END_CLOSE_GRACE_MS = 500;

export interface WebTransportOpenOptions {
  WebTransportImpl: WebTransportConstructor;
  url: string;
  certificateHashes: CertificateHash[];
  framing: ReliableFraming;
  timers: TimerApi;
  readyTimeoutMs?: number;
}

/**
 * A WebTransport session carrying the game: unreliable = datagrams, reliable = one
 * client-opened bidirectional stream of length-prefixed frames (docs/architecture.md).
 */
export class WebTransportChannel implements ClientChannel {
  readonly kind = 'webtransport' as const;
  onMessage: ((message: Uint8Array, channel: ChannelName) => void) | null = null;
  onClose: ((info: ChannelCloseInfo) => void) | null = null;
  onTransportDrain: (() => void) | null = null;
  private isClosed = false;
  private datagramsPending = 0;
  private gracefulTimer: unknown = null;
  private streamPendingBytes = 0;
  private readonly streamWriter: WritableStreamDefaultWriter<Uint8Array>;
  private readonly datagramWriter: WritableStreamDefaultWriter<Uint8Array>;

  private constructor(
    private readonly wt: WebTransportLike,
    stream: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> },
    private readonly framing: ReliableFraming,
    private readonly timers: TimerApi,
  ) {
    this.streamWriter = stream.writable.getWriter();
    const dgWritable = wt.datagrams.createWritable ? wt.datagrams.createWritable() : wt.datagrams.writable;
    if (!dgWritable) throw new Error('WebTransport implementation has no datagram writable');
    this.datagramWriter = dgWritable.getWriter();
    void this.readStream(stream.readable);
    void this.readDatagrams(wt.datagrams.readable);
    wt.closed.then(
      (info) => this.finish({ code: info?.closeCode ?? 0, reason: info?.reason ?? '', byPeer: true }),
      (error: unknown) => this.finish({ code: CLOSE_ABNORMAL, reason: errorText(error), byPeer: true }),
    );
    wt.draining?.then(
      () => {
        if (!this.isClosed) this.onTransportDrain?.();
      },
      () => {},
    );
  }

  /**
   * Opens a session and its reliable stream. Rejects when the constructor throws, `ready`
   * rejects, or `ready` takes longer than `readyTimeoutMs` (the session is then closed).
   */
  static async open(options: WebTransportOpenOptions): Promise<WebTransportChannel> {
    const timeoutMs = options.readyTimeoutMs ?? WEBTRANSPORT_READY_TIMEOUT_MS;
    const wt = new options.WebTransportImpl(options.url, {
      serverCertificateHashes: options.certificateHashes,
    });
    // A rejected `closed` must never become an unhandled rejection if we abandon the session.
    wt.closed.catch(() => {});
    try {
      await withTimeout(wt.ready, timeoutMs, options.timers, `WebTransport not ready within ${timeoutMs} ms`);
      const stream = await withTimeout(
        wt.createBidirectionalStream(),
        timeoutMs,
        options.timers,
        `WebTransport stream not open within ${timeoutMs} ms`,
      );
      return new WebTransportChannel(wt, stream, options.framing, options.timers);
    } catch (error) {
      try {
        wt.close({ closeCode: 0, reason: 'open failed' });
      } catch {
        // a session that never became ready may refuse close()
      }
      throw error;
    }
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get maxUnreliableSize(): number {
    return this.wt.datagrams.maxDatagramSize ?? DEFAULT_MAX_DATAGRAM_SIZE;
  }

  sendReliable(message: Uint8Array): boolean {
    if (this.isClosed) return false;
    const frame = this.framing.encode(message);
    if (this.streamPendingBytes + frame.byteLength > STREAM_PENDING_BYTES_LIMIT) {
      this.close(CLOSE_ABNORMAL, 'reliable send buffer limit');
      return false;
    }
    this.streamPendingBytes += frame.byteLength;
    this.streamWriter.write(frame).then(
      () => {
        this.streamPendingBytes -= frame.byteLength;
      },
      (error: unknown) => this.streamBroke(`stream write failed: ${errorText(error)}`),
    );
    return true;
  }

  sendUnreliable(message: Uint8Array): boolean {
    if (this.isClosed) return false;
    if (message.byteLength > this.maxUnreliableSize) return false;
    if (this.datagramsPending >= DATAGRAM_PENDING_LIMIT) return false;
    this.datagramsPending++;
    this.datagramWriter.write(message).then(
      () => {
        this.datagramsPending--;
      },
      () => {
        // A datagram write fails only when the session is closing; `closed` reports that.
        this.datagramsPending--;
      },
    );
    return true;
  }

  close(code: number, reason: string): void {
    if (this.isClosed) return;
    try {
      // W3C WebTransport close(): closeCode is an unsigned long, reason at most 1024 UTF-8 bytes.
      this.wt.close({ closeCode: code >>> 0, reason: reason.slice(0, 256) });
    } catch {
      // already closed
    }
    this.finish({ code, reason, byPeer: false });
  }

  closeGracefully(code: number, reason: string): void {
    if (this.isClosed || this.gracefulTimer !== null) return;
    this.gracefulTimer = this.timers.setTimeout(() => this.close(code, reason), GRACEFUL_CLOSE_WAIT_MS);
  }

  private async readStream(readable: ReadableStream<Uint8Array>): Promise<void> {
    const reader = readable.getReader();
    const decoder = this.framing.createDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (this.isClosed) return;
        const result = decoder.push(value);
        for (const message of result.messages) {
          if (this.isClosed) return;
          this.onMessage?.(message, 'reliable');
        }
        if (result.error) {
          // The server framed something we cannot parse: this session's stream is unusable.
          this.close(CLOSE_ABNORMAL, `bad frame: ${result.error}`);
          return;
        }
      }
      this.streamBroke('reliable stream ended');
    } catch (error) {
      this.streamBroke(`stream read failed: ${errorText(error)}`);
    } finally {
      reader.releaseLock();
    }
  }

  private async readDatagrams(readable: ReadableStream<Uint8Array>): Promise<void> {
    const reader = readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.isClosed) return;
        this.onMessage?.(value, 'unreliable');
      }
    } catch {
      // The datagram stream errors when the session closes; `closed` reports why.
    } finally {
      reader.releaseLock();
    }
  }

  /**
   * The reliable stream ended or failed. When the server closed the session, the stream usually
   * breaks a moment before `closed` reports the server's code and reason; wait briefly for that
   * before reporting an abnormal end of our own.
   */
  private streamBroke(reason: string): void {
    if (this.isClosed) return;
    this.timers.setTimeout(() => {
      if (!this.isClosed) this.close(CLOSE_ABNORMAL, reason);
    }, STREAM_END_CLOSE_GRACE_MS);
  }

  private finish(info: ChannelCloseInfo): void {
    if (this.isClosed && this.onClose === null) return;
    this.isClosed = true;
    if (this.gracefulTimer !== null) this.timers.clearTimeout(this.gracefulTimer);
    const cb = this.onClose;
    this.onClose = null;
    if (info.byPeer) {
      try {
        this.wt.close({ closeCode: info.code >>> 0, reason: info.reason.slice(0, 256) });
      } catch {
        // already closed
      }
    }
    cb?.(info);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function withTimeout<T>(promise: Promise<T>, ms: number, timers: TimerApi, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = timers.setTimeout(() => reject(new Error(message)), ms);
    promise.then(
      (v) => {
        timers.clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        timers.clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
