/**
 * What every `Connection` does the same way, whatever carries it (websocket.ts, webtransport.ts,
 * wt-worker/remote-connection.ts): the handlers, the closed and failed flags, the counters, and
 * the order of the endings.
 *
 * - `close(code, reason)` is idempotent: the transport's own close (`closeTransport`), then
 *   `finish` with `byPeer: false`.
 * - `finish(info)` runs once: the closed flag, the transport's cleanup (`finished`), then
 *   `onClose`; after it neither `onClose` nor `onProtocolError` is ever called.
 * - `protocolError(error)` is reported once, before any close (the handler may still send
 *   `error` on the open connection); nothing is delivered after it; without a handler the
 *   connection closes with the error's code.
 * - `receiveUnreliable` / `receiveReliable` count and deliver a peer's message unless the
 *   connection is closed or failed.
 */
import { errorInfo } from '../../shared/errors.js';
import { stampedCopy } from '../../shared/stamped-copy.js';
import type { CloseInfo, Connection, ConnectionStats, ProtocolError, SendUnreliableOptions, TransportKind } from './connection.js';

/** A `ConnectionStats` with every counter at zero. */
export function zeroConnectionStats(): ConnectionStats {
  return {
    bytesSentUnreliable: 0, bytesSentReliable: 0, bytesReceivedUnreliable: 0, bytesReceivedReliable: 0,
    messagesSentUnreliable: 0, messagesSentReliable: 0, unreliableDropped: 0, unreliableReplaced: 0,
  };
}

export abstract class ConnectionBase implements Connection {
  abstract readonly id: string;
  abstract readonly transport: TransportKind;
  abstract readonly remoteAddress: string;
  abstract readonly maxUnreliableSize: number;
  onUnreliable: ((bytes: Uint8Array) => void) | null = null;
  onReliable: ((bytes: Uint8Array) => void) | null = null;
  onClose: ((info: CloseInfo) => void) | null = null;
  onProtocolError: ((error: ProtocolError) => void) | null = null;
  protected isClosed = false;
  /** Set once a protocol error was reported: nothing more is delivered. */
  protected failed = false;
  protected readonly counters: ConnectionStats = zeroConnectionStats();

  abstract sendUnreliable(bytes: Uint8Array, options?: SendUnreliableOptions): boolean;
  abstract sendReliable(bytes: Uint8Array): boolean;
  abstract drain(): void;

  /** By default a stamped copy (shared/stamped-copy.ts) through `sendUnreliable`; a transport that copies anyway overrides it. */
  sendUnreliableStamped(bytes: Uint8Array, offset: number, value: number, options?: SendUnreliableOptions): boolean {
    return this.sendUnreliable(stampedCopy(bytes, offset, value), options);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.closeTransport(code, reason);
    this.finish({ code, reason, byPeer: false });
  }

  stats(): ConnectionStats {
    return { ...this.counters };
  }

  /** Counts one message the transport took for sending (the one rule every transport uses). */
  protected countSent(channel: 'reliable' | 'unreliable', length: number): void {
    if (channel === 'reliable') {
      this.counters.bytesSentReliable += length;
      this.counters.messagesSentReliable++;
    } else {
      this.counters.bytesSentUnreliable += length;
      this.counters.messagesSentUnreliable++;
    }
  }

  /** Our close on the transport (called once, from `close`, before `finish`). */
  protected abstract closeTransport(code: number, reason: string): void;

  /** The transport's cleanup when the connection ends (called once, before `onClose`). */
  protected finished(): void {}

  /** The transport's cleanup when a protocol error is reported (called once, before the handler). */
  protected failing(): void {}

  /** Ends the connection once (see the file comment): flag, cleanup, then `onClose`. */
  protected finish(info: CloseInfo): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.finished();
    const cb = this.onClose;
    this.onClose = null;
    this.onProtocolError = null;
    cb?.(info);
  }

  /** Reports a protocol error once (ProtocolError); without a handler, closes with its code. */
  protected protocolError(error: ProtocolError): void {
    if (this.isClosed || this.failed) return;
    this.failed = true;
    this.failing();
    const handler = this.onProtocolError;
    if (handler) handler(error);
    else this.close(error.code, errorInfo(error.code)?.description ?? '');
  }

  /** A peer's unreliable message: counted and delivered while open and not failed. */
  protected receiveUnreliable(bytes: Uint8Array): void {
    if (this.isClosed || this.failed) return;
    this.counters.bytesReceivedUnreliable += bytes.length;
    this.onUnreliable?.(bytes);
  }

  /** A peer's reliable message: counted and delivered while open and not failed. */
  protected receiveReliable(bytes: Uint8Array): void {
    if (this.isClosed || this.failed) return;
    this.counters.bytesReceivedReliable += bytes.length;
    this.onReliable?.(bytes);
  }
}
