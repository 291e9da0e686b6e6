import type { Duplex } from 'node:stream';
import type { WebSocket, RawData } from 'ws';
import { ByteSlab } from '../../shared/byte-slab.js';
import { ErrorCode } from '../../shared/errors.js';
import { MAX_UNRELIABLE_MESSAGE_BYTES } from '../../shared/limits.js';
import { channelOfMessage } from '../../shared/messages.js';
import { writeU32BE } from '../../shared/stamped-copy.js';
import type { CloseInfo, SendUnreliableOptions } from './connection.js';
import { ConnectionBase } from './connection-base.js';
import { readFramesDirectly } from './ws-frame-reader.js';

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
/**
 * While unreliable messages are held, the socket is looked at again this often. Node emits
 * 'drain' only once its own buffer passed the stream's high-water mark (16 KiB on Node 20, 64
 * KiB from Node 22), which can be above WS_UNRELIABLE_HIGH_WATER_BYTES, so 'drain' alone could
 * leave a held snapshot waiting for the next send.
 */
export const WS_HELD_RETRY_MS = 10;
/**
 * Size of the slabs frames are built in (shared/byte-slab.ts): a frame is the 2- or 4-byte
 * header and the message in one buffer, handed to the TCP socket as one write.
 */
export const WS_FRAME_SLAB_BYTES = 16 * 1024;

const frames = new ByteSlab(WS_FRAME_SLAB_BYTES, (n) => Buffer.allocUnsafeSlow(n));

/**
 * Connections written to since the last uncork (uncorkWritten). A socket written to is corked
 * until the end of the current run of JavaScript (process.nextTick): everything a turn writes to one
 * client (its snapshot, a chat line, a pong) goes to the kernel in one write, and a snapshot tick
 * does all of its encoding first and then its writes back to back. Cork keeps the order of every
 * write on the socket, ws's own frames included, and corked bytes count in `bufferedAmount`.
 * Holds at most one entry per open connection.
 */
const written: WebSocketConnection[] = [];
let uncorkQueued = false;

function uncorkWritten(): void {
  uncorkQueued = false;
  // Index loop: uncorking runs no callback synchronously (node defers them), but an entry added
  // meanwhile would still be served here.
  for (let i = 0; i < written.length; i++) written[i].uncork();
  written.length = 0;
}

/** ws's readyState OPEN. */
const OPEN = 1;

/**
 * One unmasked binary frame with FIN set (RFC 6455 §5.2; a server never masks, §5.1): header
 * and payload in one buffer. With `stampAt >= 0` the payload's bytes stampAt..stampAt+3 in the
 * frame are the u32 `stamp`, big-endian (shared/stamped-copy.ts): a shared message stamped per
 * client in the one copy the frame makes anyway; `payload` itself is not written.
 */
export function binaryFrame(payload: Uint8Array, stampAt = -1, stamp = 0): Uint8Array {
  const n = payload.length;
  const header = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const frame = frames.take(header + n);
  frame[0] = 0x82; // FIN, opcode 2 (binary)
  if (header === 2) {
    frame[1] = n;
  } else if (header === 4) {
    frame[1] = 126;
    frame[2] = n >>> 8;
    frame[3] = n & 0xff;
  } else {
    frame[1] = 127;
    // 64-bit length; messages here stay far below 2^32.
    frame[2] = frame[3] = frame[4] = frame[5] = 0;
    writeU32BE(frame, 6, n);
  }
  frame.set(payload, header);
  if (stampAt >= 0) writeU32BE(frame, header + stampAt, stamp);
  return frame;
}

let nextId = 0;

/** An unreliable message waiting for the socket to drain. */
interface HeldMessage {
  bytes: Uint8Array;
  onCommitted?: (commitTag: number) => void;
  commitTag: number;
}

/** The message as bytes: a Buffer (binaryType 'nodebuffer') is one already, and is passed on as is. */
function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

/**
 * The TCP socket under a `ws` socket, when frames may be written to it directly: ws frames and
 * writes synchronously whenever no extension transforms messages (permessage-deflate is off by
 * default, server/http/app.ts leaves it off), so writing a whole frame ourselves keeps the order
 * of everything ws writes. Null otherwise (then ws.send frames each message).
 */
function rawSocketOf(socket: WebSocket): Duplex | null {
  const raw = (socket as unknown as { _socket?: Duplex })._socket;
  return socket.extensions === '' && raw && typeof raw.write === 'function' ? raw : null;
}

/**
 * A `Connection` over one WebSocket (fastify + @fastify/websocket hand us a `ws` socket). Each
 * binary frame is one message on either channel, told apart by the message id; the reliable
 * channel is TCP's order and delivery, the unreliable one is the same socket with latest-wins
 * queueing under congestion.
 *
 * Sending costs one pre-built frame per message (binaryFrame), and nothing per message beyond
 * it: no write callback, no closure; the frames a turn writes to one socket leave in one write
 * (`written`). Held unreliable messages go out when the socket drains ('drain', a retry every
 * WS_HELD_RETRY_MS while any are held, and every send).
 */
export class WebSocketConnection extends ConnectionBase {
  readonly id: string;
  readonly transport = 'websocket' as const;
  readonly maxUnreliableSize = MAX_UNRELIABLE_MESSAGE_BYTES;
  /** Held unreliable messages by replace key (insertion order = age). */
  private readonly held = new Map<string, HeldMessage>();
  private anonymous = 0;
  private closeTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** The TCP socket frames are written to, or null to let ws frame (rawSocketOf). */
  private readonly raw: Duplex | null;
  /** `raw` is corked by us until uncorkWritten runs. */
  private corked = false;
  /** Resolves once the TCP connection is gone (closing handshake done, or cut). */
  readonly socketClosed: Promise<void>;

  constructor(private readonly socket: WebSocket, readonly remoteAddress: string) {
    super();
    this.id = `ws-${++nextId}`;
    socket.binaryType = 'nodebuffer';
    this.raw = rawSocketOf(socket);
    this.raw?.on('drain', () => this.flushHeld());
    // Whole binary frames are read off the TCP socket here; the rest (control frames, fragments,
    // anything odd) still goes through ws and arrives as 'message' (ws-frame-reader.ts).
    if (this.raw) readFramesDirectly(socket, this.raw, (payload) => this.onMessage(payload, true));
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

  /**
   * When the message goes out now, header, payload and stamp are written in one pass into the
   * frame (binaryFrame): the shared bytes are copied once. A message that must be held (or
   * dropped, or framed by ws itself) takes the default path, an owned stamped copy through
   * sendUnreliable, since a held message outlives the caller's shared bytes.
   */
  override sendUnreliableStamped(bytes: Uint8Array, offset: number, value: number, options?: SendUnreliableOptions): boolean {
    if (!this.raw || this.isClosed || bytes.length > this.maxUnreliableSize || offset < 0 || offset + 4 > bytes.length
      || this.held.size > 0 || this.pendingBytes() >= WS_UNRELIABLE_HIGH_WATER_BYTES) {
      return super.sendUnreliableStamped(bytes, offset, value, options);
    }
    this.write(bytes, 'unreliable', offset, value);
    options?.onCommitted?.(options.commitTag ?? 0);
    return true;
  }

  sendUnreliable(bytes: Uint8Array, options?: SendUnreliableOptions): boolean {
    if (this.isClosed || bytes.length > this.maxUnreliableSize || bytes.length === 0) {
      this.counters.unreliableDropped++;
      return false;
    }
    if (this.held.size === 0 && this.pendingBytes() < WS_UNRELIABLE_HIGH_WATER_BYTES) {
      this.write(bytes, 'unreliable');
      options?.onCommitted?.(options.commitTag ?? 0);
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
    this.held.set(key, { bytes, onCommitted: options?.onCommitted, commitTag: options?.commitTag ?? 0 });
    // Whatever the socket takes now goes now (oldest first); the rest waits for the next chance.
    this.flushHeld();
    return true;
  }

  sendReliable(bytes: Uint8Array): boolean {
    if (this.isClosed) return false;
    if (this.pendingBytes() + bytes.length > WS_RELIABLE_BUFFER_LIMIT_BYTES) {
      this.close(ErrorCode.SLOW_CONSUMER, 'reliable send buffer limit exceeded');
      return false;
    }
    this.write(bytes, 'reliable');
    return true;
  }

  protected override closeTransport(code: number, reason: string): void {
    this.dropHeld();
    try {
      // RFC 6455 §5.5: a close reason fits a 125-byte control frame with the code.
      this.socket.close(code, Buffer.from(reason, 'utf8').subarray(0, 123).toString('utf8').replace(/\uFFFD+$/, ''));
    } catch {
      this.socket.terminate();
    }
    this.closeTimer = setTimeout(() => this.socket.terminate(), WS_CLOSE_TIMEOUT_MS);
    this.closeTimer.unref();
  }

  /** WebSocket has no transport-level drain; the game-level `drain` message does the work. */
  drain(): void {}

  /** Bytes ws has not yet handed to the kernel (for tests and diagnostics). */
  get bufferedAmount(): number {
    return this.pendingBytes();
  }

  /**
   * Bytes not yet handed to the kernel. With frames written to the TCP socket ourselves that is
   * the socket's own count (corked bytes included): ws's `bufferedAmount` adds its sender's queue,
   * which only a transforming extension or a Blob fills, neither of which a raw socket has
   * (rawSocketOf). The direct read skips ws's getter on every snapshot.
   */
  private pendingBytes(): number {
    return this.raw ? this.raw.writableLength : this.socket.bufferedAmount;
  }

  /** Counts and writes one message; `stampAt`/`stamp` as in binaryFrame (only with a raw socket). */
  private write(bytes: Uint8Array, channel: 'reliable' | 'unreliable', stampAt = -1, stamp = 0): void {
    this.countSent(channel, bytes.length);
    if (!this.raw) {
      this.socket.send(bytes, { binary: true });
    } else if (this.socket.readyState === OPEN) {
      // After a close frame (readyState CLOSING) no data frame may follow (RFC 6455 §5.5.1);
      // ws drops such sends too.
      if (!this.corked) {
        this.corked = true;
        this.raw.cork();
        written.push(this);
        if (!uncorkQueued) {
          uncorkQueued = true;
          // nextTick, not queueMicrotask: Node wraps each queueMicrotask callback in an async
          // resource (runInAsyncScope, emitDestroy), which the profile showed per turn.
          process.nextTick(uncorkWritten);
        }
      }
      this.raw.write(binaryFrame(bytes, stampAt, stamp));
    }
  }

  /** Hands what this turn wrote to the kernel (see `written`). */
  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.raw?.uncork();
  }

  /** Sends held messages, oldest first, while the socket takes them; keeps retrying while any wait. */
  private flushHeld(): void {
    while (!this.isClosed && this.held.size > 0 && this.pendingBytes() < WS_UNRELIABLE_HIGH_WATER_BYTES) {
      const [key, held] = this.held.entries().next().value!;
      this.held.delete(key);
      this.write(held.bytes, 'unreliable');
      held.onCommitted?.(held.commitTag);
    }
    if (!this.isClosed && this.held.size > 0 && this.retryTimer === null) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.flushHeld();
      }, WS_HELD_RETRY_MS);
      this.retryTimer.unref();
    }
  }

  private dropHeld(): void {
    this.held.clear();
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
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
    if (channelOfMessage(bytes) === 'unreliable') this.receiveUnreliable(bytes);
    else this.receiveReliable(bytes);
  }

  /** Held messages are not sent after a protocol error. */
  protected override failing(): void {
    this.dropHeld();
  }

  /** The peer's close ends the closing handshake we started: no need to cut TCP later. */
  protected override finish(info: CloseInfo): void {
    if (info.byPeer && this.closeTimer) {
      clearTimeout(this.closeTimer);
      this.closeTimer = null;
    }
    super.finish(info);
  }

  protected override finished(): void {
    this.dropHeld();
  }
}
