import { CLOSE_ABNORMAL, toUint8Array, type ChannelCloseInfo, type ChannelName, type ClientChannel } from './channel.js';
import type { TimerApi, WebSocketConstructor, WebSocketEventLike, WebSocketLike } from './transport-types.js';

/**
 * Unreliable sends are dropped while more than this many bytes wait in the socket: inputs repeat
 * the last few, so a dropped one is recovered by the next, while queueing them behind TCP
 * backpressure would only make every later input older.
 */
export const WS_UNRELIABLE_BUFFER_LIMIT = 16 * 1024;

/**
 * Reliable data waiting in the socket beyond this means the path is dead or hopeless; the client
 * closes and reconnects instead of growing memory without bound.
 */
export const WS_RELIABLE_BUFFER_LIMIT = 1024 * 1024;

/** Time allowed for the WebSocket opening handshake. */
export const WS_OPEN_TIMEOUT_MS = 5_000;

/** WebSocket readyState values (RFC 6455 / WHATWG). */
const OPEN = 1;

/** Reliable messages (chat, control) on WebSocket: each binary frame is one message. */
export class WebSocketChannel implements ClientChannel {
  readonly kind = 'websocket' as const;
  /** A WebSocket frame has no datagram limit; keep snapshots within the same budget anyway. */
  readonly maxUnreliableSize = 1200;
  onMessage: ((message: Uint8Array, channel: ChannelName) => void) | null = null;
  onClose: ((info: ChannelCloseInfo) => void) | null = null;
  onTransportDrain: (() => void) | null = null;
  private isClosed = false;

  private constructor(
    private readonly socket: WebSocketLike,
    private readonly channelOf: (message: Uint8Array) => ChannelName,
  ) {
    socket.addEventListener('message', (event) => {
      const bytes = toUint8Array((event as WebSocketEventLike).data);
      if (!bytes || this.isClosed) return; // text frames are not part of the protocol: ignore
      this.onMessage?.(bytes, this.channelOf(bytes));
    });
    socket.addEventListener('close', (ev) => {
      const event = ev as WebSocketEventLike;
      this.finish({
        code: typeof event.code === 'number' ? event.code : CLOSE_ABNORMAL,
        reason: typeof event.reason === 'string' ? event.reason : '',
        byPeer: true,
      });
    });
  }

  /**
   * Opens a WebSocket to `url` and resolves once it is open. `channelOf` tells which channel an
   * incoming message belongs to (by its message id; both ride the same socket).
   */
  static open(
    WebSocketImpl: WebSocketConstructor,
    url: string,
    channelOf: (message: Uint8Array) => ChannelName,
    timers: TimerApi,
    timeoutMs = WS_OPEN_TIMEOUT_MS,
  ): Promise<WebSocketChannel> {
    return new Promise((resolve, reject) => {
      let socket: WebSocketLike;
      try {
        socket = new WebSocketImpl(url);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      socket.binaryType = 'arraybuffer';
      let settled = false;
      const timer = timers.setTimeout(() => {
        if (settled) return;
        settled = true;
        try {
          socket.close();
        } catch {
          // closing a socket that never opened may throw in some implementations
        }
        reject(new Error(`WebSocket not open within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.addEventListener('open', () => {
        if (settled) return;
        settled = true;
        timers.clearTimeout(timer);
        resolve(new WebSocketChannel(socket, channelOf));
      });
      const fail = (ev: unknown): void => {
        if (settled) return;
        settled = true;
        timers.clearTimeout(timer);
        const code = (ev as WebSocketEventLike).code;
        reject(new Error(`WebSocket failed to open${typeof code === 'number' ? ` (code ${code})` : ''}`));
      };
      socket.addEventListener('error', fail);
      socket.addEventListener('close', fail);
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  sendReliable(message: Uint8Array): boolean {
    if (this.isClosed || this.socket.readyState !== OPEN) return false;
    if (this.socket.bufferedAmount > WS_RELIABLE_BUFFER_LIMIT) {
      this.close(CLOSE_ABNORMAL, 'reliable send buffer limit');
      return false;
    }
    return this.send(message);
  }

  sendUnreliable(message: Uint8Array): boolean {
    if (this.isClosed || this.socket.readyState !== OPEN) return false;
    if (this.socket.bufferedAmount > WS_UNRELIABLE_BUFFER_LIMIT) return false;
    return this.send(message);
  }

  close(code: number, reason: string): void {
    if (this.isClosed) return;
    try {
      // Only 1000 and 3000-4999 may be sent by an application (RFC 6455 §7.4, WHATWG close()).
      const sendable = code === 1000 || (code >= 3000 && code <= 4999);
      this.socket.close(sendable ? code : 1000, reason.slice(0, 120));
    } catch {
      // already closing
    }
    this.finish({ code, reason, byPeer: false });
  }

  /** TCP delivers queued frames before the close frame, so a plain close loses nothing. */
  closeGracefully(code: number, reason: string): void {
    this.close(code, reason);
  }

  private send(message: Uint8Array): boolean {
    try {
      this.socket.send(message);
      return true;
    } catch {
      return false;
    }
  }

  private finish(info: ChannelCloseInfo): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const cb = this.onClose;
    this.onClose = null;
    cb?.(info);
  }
}
