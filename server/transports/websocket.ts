import type { WebSocket, RawData } from 'ws';
import { ErrorCode, errorInfo } from '../../shared/errors.js';
import { MAX_UNRELIABLE_MESSAGE_BYTES } from '../../shared/limits.js';
import { channelOfMessage } from '../../shared/messages.js';
import type { CloseInfo, Connection, ConnectionStats, ProtocolError, SendUnreliableOptions } from './connection.js';

/**
 * Once this many bytes wait in the socket (ws's `bufferedAmount`: not yet handed to the kernel),
 * unreliable messages stop going out and wait in a latest-wins queue instead: a snapshot must
 * never sit behind a newer one in a TCP buffer.
 */
export const WS_UNRELIABLE_HIGH_WATER_BYTES = 16 * 1024;
/**
 * Unreliable messages held while the socket is congested (distinct replace keys, plus
 * key-less messages). Past it the oldest held message is dropped and counted.
 */
export const WS_UNRELIABLE_QUEUE_LIMIT = 8;
/**
 * Reliable bytes allowed to wait in the socket. A reader this far behind is not coming back:
 * close with SLOW_CONSUMER rather than let one client grow the server's memory.
 */
export const WS_RELIABLE_BUFFER_LIMIT_BYTES = 1024 * 1024;
/** After we close, the peer gets this long to answer the closing handshake before we cut TCP. */
export const WS_CLOSE_TIMEOUT_MS = 2_000;
/**
 * Frames above this are cut by ws itself (close 1009, RFC 6455 §7.4.1) from their header,
 * before they are buffered; ws has started the closing handshake by then, so no `error` message
 * can precede that close, but the session still ends by the protocol-error rule. It is above
 * the protocol's reliable limit so that moderately oversized messages reach the codec and get
 * the game's MESSAGE_TOO_LARGE close with an `error` message.
 */
export const WS_MAX_FRAME_BYTES = 1024 * 1024;

let nextId = 0;

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * A `Connection` over one WebSocket (fastify + @fastify/websocket hand us a `ws` socket). Each
 * binary frame is one message on either channel, told apart by the message id; the reliable
 * channel is TCP's order and delivery, the unreliable one is the same socket with latest-wins
 * queueing under congestion.
 */
export class WebSocketConnection implements Connection {
  readonly id: string;
  readonly transport = 'websocket' as const;
  readonly maxUnreliableSize = MAX_UNRELIABLE_MESSAGE_BYTES;
  onUnreliable: ((bytes: Uint8Array) => void) | null = null;
  onReliable: ((bytes: Uint8Array) => void) | null = null;
  onClose: ((info: CloseInfo) => void) | null = null;
  onProtocolError: ((error: ProtocolError) => void) | null = null;
  private isClosed = false;
  /** Set once a protocol error was reported: nothing more is delivered. */
  private failed = false;
  /** Held unreliable messages by replace key (insertion order = age). */
  private readonly held = new Map<string, { bytes: Uint8Array; onCommitted?: () => void }>();
  private anonymous = 0;
  private closeTimer: NodeJS.Timeout | null = null;
  /** Resolves once the TCP connection is gone (closing handshake done, or cut). */
  readonly socketClosed: Promise<void>;
  private readonly counters: ConnectionStats = {
    bytesSentUnreliable: 0, bytesSentReliable: 0, bytesReceivedUnreliable: 0, bytesReceivedReliable: 0,
    messagesSentUnreliable: 0, messagesSentReliable: 0, unreliableDropped: 0, unreliableReplaced: 0,
  };

  constructor(private readonly socket: WebSocket, readonly remoteAddress: string) {
    this.id = `ws-${++nextId}`;
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    let resolveClosed!: () => void;
    this.socketClosed = new Promise((r) => { resolveClosed = r; });
    socket.on('close', (code, reason) => {
      resolveClosed();
      this.finish({ code, reason: reason.toString('utf8'), byPeer: true });
    });
    // Errors are followed by 'close'; the listener keeps them from becoming uncaught exceptions.
    // Those ws raises for the peer's framing (RFC 6455 violations, a frame over
    // WS_MAX_FRAME_BYTES) are the peer's protocol errors: ws has already sent its close frame
    // (1002/1007/1009), and the session layer ends the session by its rule.
    socket.on('error', (error: Error & { code?: unknown }) => {
      if (typeof error.code !== 'string' || !error.code.startsWith('WS_ERR_')) return;
      this.protocolError(error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
        ? { code: ErrorCode.MESSAGE_TOO_LARGE, reason: 'too_large', kind: 'frame_too_large' }
        : { code: ErrorCode.BAD_MESSAGE, reason: 'decode', kind: 'websocket_protocol' });
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  sendUnreliable(bytes: Uint8Array, options?: SendUnreliableOptions): boolean {
    if (this.isClosed || bytes.length > this.maxUnreliableSize || bytes.length === 0) {
      this.counters.unreliableDropped++;
      return false;
    }
    if (this.held.size === 0 && this.socket.bufferedAmount < WS_UNRELIABLE_HIGH_WATER_BYTES) {
      this.write(bytes, 'unreliable');
      options?.onCommitted?.();
      return true;
    }
    const key = options?.replaceKey ? `k:${options.replaceKey}` : `a:${this.anonymous++}`;
    if (this.held.has(key)) {
      // Latest wins: the stale message goes, and the fresh one takes the back of the line.
      this.held.delete(key);
      this.counters.unreliableReplaced++;
    } else if (this.held.size >= WS_UNRELIABLE_QUEUE_LIMIT) {
      const oldest = this.held.keys().next().value!;
      this.held.delete(oldest);
      this.counters.unreliableDropped++;
    }
    this.held.set(key, { bytes, onCommitted: options?.onCommitted });
    return true;
  }

  sendReliable(bytes: Uint8Array): boolean {
    if (this.isClosed) return false;
    if (this.socket.bufferedAmount + bytes.length > WS_RELIABLE_BUFFER_LIMIT_BYTES) {
      this.close(ErrorCode.SLOW_CONSUMER, 'reliable send buffer limit exceeded');
      return false;
    }
    this.write(bytes, 'reliable');
    return true;
  }

  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.held.clear();
    try {
      // RFC 6455 §5.5: a close reason fits a 125-byte control frame with the code.
      this.socket.close(code, Buffer.from(reason, 'utf8').subarray(0, 123).toString('utf8').replace(/\uFFFD+$/, ''));
    } catch {
      this.socket.terminate();
    }
    this.closeTimer = setTimeout(() => this.socket.terminate(), WS_CLOSE_TIMEOUT_MS);
    this.closeTimer.unref();
    this.finish({ code, reason, byPeer: false });
  }

  /** WebSocket has no transport-level drain; the game-level `drain` message does the work. */
  drain(): void {}

  stats(): ConnectionStats {
    return { ...this.counters };
  }

  /** Bytes ws has not yet handed to the kernel (for tests and diagnostics). */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  private write(bytes: Uint8Array, channel: 'reliable' | 'unreliable'): void {
    if (channel === 'reliable') {
      this.counters.bytesSentReliable += bytes.length;
      this.counters.messagesSentReliable++;
    } else {
      this.counters.bytesSentUnreliable += bytes.length;
      this.counters.messagesSentUnreliable++;
    }
    // The callback runs once ws has written the frame out: the moment to release held messages.
    this.socket.send(bytes, { binary: true }, () => this.flushHeld());
  }

  private flushHeld(): void {
    while (!this.isClosed && this.held.size > 0 && this.socket.bufferedAmount < WS_UNRELIABLE_HIGH_WATER_BYTES) {
      const [key, held] = this.held.entries().next().value!;
      this.held.delete(key);
      this.write(held.bytes, 'unreliable');
      held.onCommitted?.();
    }
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.isClosed || this.failed) return;
    if (!isBinary) {
      // Every message is binary; text frames mean a client that does not speak the protocol.
      this.protocolError({ code: ErrorCode.BAD_MESSAGE, reason: 'decode', kind: 'text_frame' });
      return;
    }
    const bytes = toBytes(data);
    if (bytes.length === 0) return;
    // One socket carries both channels: the message id says which (shared/messages.ts).
    if (channelOfMessage(bytes) === 'unreliable') {
      this.counters.bytesReceivedUnreliable += bytes.length;
      this.onUnreliable?.(bytes);
    } else {
      this.counters.bytesReceivedReliable += bytes.length;
      this.onReliable?.(bytes);
    }
  }

  /** Reports a protocol error once (ProtocolError); without a handler, closes with its code. */
  private protocolError(error: ProtocolError): void {
    if (this.isClosed || this.failed) return;
    this.failed = true;
    this.held.clear();
    const handler = this.onProtocolError;
    if (handler) handler(error);
    else this.close(error.code, errorInfo(error.code)?.description ?? '');
  }

  private finish(info: CloseInfo): void {
    if (info.byPeer && this.closeTimer) {
      clearTimeout(this.closeTimer);
      this.closeTimer = null;
    }
    if (this.isClosed) return;
    this.isClosed = true;
    this.held.clear();
    const cb = this.onClose;
    this.onClose = null;
    this.onProtocolError = null;
    cb?.(info);
  }
}
