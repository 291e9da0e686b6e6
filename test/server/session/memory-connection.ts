/**
 * An in-process `Connection` for state-machine tests that step a ManualScheduler: it records what
 * the server sends and lets the test deliver bytes and closes. Wire behaviour (real sockets) is
 * covered by test/server/index.test.ts and test/e2e.
 */
import { decodeMessage, encodeMessage } from '../../../shared/codec.js';
import type { MessageBodies, MessageName } from '../../../shared/messages.js';
import { messageSpecById } from '../../../shared/messages.js';
import type { CloseInfo, Connection, ConnectionStats, ProtocolError, SendUnreliableOptions } from '../../../server/transports/connection.js';
import { zeroConnectionStats } from '../../../server/transports/connection-base.js';

let n = 0;

export class MemoryConnection implements Connection {
  readonly id = `mem-${++n}`;
  readonly transport = 'websocket' as const;
  /** The peer's IP address (admission shares are per address). */
  readonly remoteAddress: string;
  readonly maxUnreliableSize: number;
  /** Unreliable messages commit at once, as on a WebSocket whose buffer has room (onCommitted). */
  private readonly commitUnreliable: boolean;
  onProtocolError: ((error: ProtocolError) => void) | null = null;
  onUnreliable: ((bytes: Uint8Array) => void) | null = null;
  onReliable: ((bytes: Uint8Array) => void) | null = null;
  onClose: ((info: CloseInfo) => void) | null = null;
  closed = false;
  closeInfo: CloseInfo | null = null;
  drained = 0;
  readonly sent: { channel: 'reliable' | 'unreliable'; name: string; body: unknown; bytes: Uint8Array }[] = [];

  constructor(options: { maxUnreliableSize?: number; commitUnreliable?: boolean; remoteAddress?: string } = {}) {
    this.maxUnreliableSize = options.maxUnreliableSize ?? 1200;
    this.commitUnreliable = options.commitUnreliable ?? false;
    this.remoteAddress = options.remoteAddress ?? 'memory';
  }

  sendUnreliable(bytes: Uint8Array, options?: SendUnreliableOptions): boolean {
    if (this.closed) return false;
    this.record('unreliable', bytes);
    if (this.commitUnreliable) options?.onCommitted?.(options.commitTag ?? 0);
    return true;
  }

  sendReliable(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    this.record('reliable', bytes);
    return true;
  }

  close(code: number, reason: string): void {
    this.finish({ code, reason, byPeer: false });
  }

  drain(): void {
    this.drained++;
  }

  stats(): ConnectionStats {
    return zeroConnectionStats();
  }

  /** The client side sends a message. */
  deliver<K extends MessageName>(name: K, body: MessageBodies[K]): void {
    const bytes = encodeMessage(name, body);
    if (messageSpecById(bytes[0]!)!.channel === 'unreliable') this.onUnreliable?.(bytes);
    else this.onReliable?.(bytes);
  }

  /** The transport found a protocol error below the codec (a text frame, a bad frame). */
  protocolError(error: ProtocolError): void {
    if (this.onProtocolError) this.onProtocolError(error);
    else this.close(error.code, error.kind);
  }

  /** The peer vanishes (TCP reset). */
  peerGone(): void {
    this.finish({ code: 1006, reason: 'gone', byPeer: true });
  }

  of<K extends MessageName>(name: K): MessageBodies[K][] {
    return this.sent.filter((m) => m.name === name).map((m) => m.body as MessageBodies[K]);
  }

  private record(channel: 'reliable' | 'unreliable', bytes: Uint8Array): void {
    const r = decodeMessage(bytes, { channel: messageSpecById(bytes[0]!)?.channel ?? channel, direction: 's2c' });
    this.sent.push({ channel, name: r.ok ? r.name : `invalid:${r.reason}`, body: r.ok ? r.body : null, bytes });
  }

  private finish(info: CloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    this.closeInfo = info;
    const cb = this.onClose;
    this.onClose = null;
    cb?.(info);
  }
}
