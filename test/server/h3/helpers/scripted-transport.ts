/**
 * An in-memory stand-in for the QUIC connection under the HTTP/3 layer, for unit tests that need
 * no UDP: it implements the narrow `H3Transport` interface (server/h3/h3-transport.ts), records
 * every call the HTTP/3 layer makes (bytes written, resets, STOP_SENDING, datagrams, close) as a
 * transcript, and lets the test deliver what a peer would (stream data, resets, datagrams).
 *
 * It models only what the HTTP/3 layer can observe: stream ids are allocated like quiche's
 * (RFC 9000 §2.1), writes are always accepted unless `refuseWrites` is set, and `afterFlush`
 * tasks run when the test calls `flush()`.
 */
import type { QuicCloseInfo, QuicConnectionHandler, DatagramSendResult } from '../../../../server/h3/quic/quic-connection.js';
import { StreamIdAllocator } from '../../../../server/h3/wire/stream-id.js';

export type TranscriptEntry =
  | { op: 'write'; id: number; hex: string; fin: boolean; ok: boolean }
  | { op: 'reset'; id: number; code: number }
  | { op: 'stop'; id: number; code: number }
  | { op: 'forget'; id: number }
  | { op: 'datagram'; hex: string; result: DatagramSendResult }
  | { op: 'purge'; purged: number }
  | { op: 'close'; app: boolean; code: number; reason: string }
  | { op: 'flush'; tasks: number };

import { createHash } from 'node:crypto';

/** Bytes as hex; long payloads as their length and a SHA-256 prefix, to keep transcripts short. */
const hex = (b: Uint8Array): string => {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return buf.length <= 128 ? buf.toString('hex') : `${buf.length}B:${createHash('sha256').update(buf).digest('hex').slice(0, 16)}`;
};

export class ScriptedTransport {
  handler: QuicConnectionHandler | null = null;
  remote = { host: '192.0.2.1', port: 4433 };
  readonly transcript: TranscriptEntry[] = [];
  /** Queued outgoing datagrams (purgeDatagrams filters these). */
  readonly datagramQueue: Uint8Array[] = [];
  /** When set, `write` returns false and records `ok: false`. */
  refuseWrites = false;
  /** Result of `sendDatagram` (default 'sent'). */
  datagramResult: DatagramSendResult = 'sent';
  /** `maxDatagramPayload()` answer. */
  maxDatagram: number | null = 1200;
  /** Per-stream queued bytes reported to the HTTP/3 layer (default 0). */
  readonly queued = new Map<number, number>();
  closed = false;
  /** Set by `close()`; `flush()` then reports the close to the handler. */
  closeRequested: QuicCloseInfo | null = null;
  /** Ids allocated as quiche does (the one allocator QuicConnection uses). */
  private readonly streamIds: StreamIdAllocator;
  private afterFlushTasks: Array<() => void> = [];

  constructor(readonly role: 'client' | 'server') {
    this.streamIds = new StreamIdAllocator(role);
  }

  // --- the H3Transport surface ---------------------------------------------------------------

  openStream(bidi: boolean): number {
    return this.streamIds.next(bidi);
  }

  write(streamId: number, data: Uint8Array, fin = false): boolean {
    const ok = !this.refuseWrites && !this.closed;
    this.transcript.push({ op: 'write', id: streamId, hex: hex(data), fin, ok });
    return ok;
  }

  resetStream(streamId: number, code: number): void {
    this.transcript.push({ op: 'reset', id: streamId, code });
  }

  stopSending(streamId: number, code: number): void {
    this.transcript.push({ op: 'stop', id: streamId, code });
  }

  queuedBytes(streamId: number): number {
    return this.queued.get(streamId) ?? 0;
  }

  forgetStream(streamId: number): void {
    this.transcript.push({ op: 'forget', id: streamId });
  }

  afterFlush(task: () => void): void {
    if (this.closed) return;
    this.afterFlushTasks.push(task);
  }

  sendDatagram(data: Uint8Array): DatagramSendResult {
    const result = this.closed ? 'closed' : this.datagramResult;
    this.transcript.push({ op: 'datagram', hex: hex(data), result });
    if (result === 'sent') this.datagramQueue.push(new Uint8Array(data));
    return result;
  }

  purgeDatagrams(pred: (payload: Uint8Array) => boolean): void {
    const before = this.datagramQueue.length;
    const keep = this.datagramQueue.filter((d) => !pred(d));
    this.datagramQueue.length = 0;
    this.datagramQueue.push(...keep);
    this.transcript.push({ op: 'purge', purged: before - keep.length });
  }

  maxDatagramPayload(): number | null {
    return this.maxDatagram;
  }

  close(app: boolean, code: number, reason = ''): void {
    if (this.closed || this.closeRequested) return;
    this.transcript.push({ op: 'close', app, code, reason });
    // Like QuicConnection: the layer above hears onClosed when the close has been flushed.
    this.closeRequested = { byPeer: false, isApp: app, code, reason, timedOut: false };
  }

  // --- what the peer (or quiche) does ----------------------------------------------------------

  /** The handshake completed. */
  established(): void {
    this.handler?.onEstablished();
  }

  /** Bytes (and optionally FIN) arrive on stream `id`. */
  data(id: number, bytes: Uint8Array, fin = false): void {
    if (this.closed) return;
    this.handler?.onStreamData(id, bytes, fin);
  }

  /** The peer reset its send side of stream `id`. */
  reset(id: number, code: number): void {
    if (this.closed) return;
    this.handler?.onStreamReset(id, code);
  }

  /** The peer sent STOP_SENDING for stream `id`. */
  stopped(id: number, code: number | null): void {
    if (this.closed) return;
    this.handler?.onStreamStopped(id, code);
  }

  /** A refused write on `id` may be retried. */
  writable(id: number): void {
    this.handler?.onStreamWritable(id);
  }

  /** One DATAGRAM frame payload arrives. */
  datagram(bytes: Uint8Array): void {
    if (this.closed) return;
    this.handler?.onDatagram(bytes);
  }

  /** The connection ended (peer CONNECTION_CLOSE, idle timeout, ...). */
  peerClosed(info: Partial<QuicCloseInfo> = {}): void {
    if (this.closed) return;
    this.closed = true;
    this.afterFlushTasks = [];
    this.handler?.onClosed({ byPeer: true, isApp: true, code: 0x100, reason: '', timedOut: false, ...info });
  }

  /**
   * The packets queued so far have left: runs the `afterFlush` tasks, then reports a requested
   * close (as QuicConnection does once CONNECTION_CLOSE is out).
   */
  flush(): void {
    const tasks = this.afterFlushTasks;
    this.afterFlushTasks = [];
    this.transcript.push({ op: 'flush', tasks: tasks.length });
    if (this.closeRequested === null) for (const t of tasks) t();
    if (this.closeRequested && !this.closed) {
      this.closed = true;
      this.handler?.onClosed(this.closeRequested);
    }
  }

  /** Transcript entries since index `from`, then marks the end (for step-by-step assertions). */
  since(from: number): TranscriptEntry[] {
    return this.transcript.slice(from);
  }
}
