/**
 * One QUIC connection driven from JS: wraps a quiche native `Connection`, keeps per-stream write
 * queues with a byte limit, turns quiche's pull API (readable streams, received datagrams,
 * timeouts, close state) into calls on a `QuicConnectionHandler`, and hands outgoing packets to
 * the endpoint. The same class serves the client and the server role.
 *
 * Threading model: everything runs on one event loop (the main thread's, or a worker's when the
 * endpoint runs on worker threads: server/h3/worker/). The endpoint calls `receive()` per UDP
 * packet, `onTimer()` when quiche's timer fires, `flush()` (batched, once per loop turn) to move
 * queued stream bytes into quiche and quiche's packets onto the socket, and `sweep()` now and
 * then for a connection that received packets.
 *
 * Native calls per packet (each one converts arguments at the N-API boundary): a received packet
 * costs `recv`, `dgramRecvQueueLen`, one `dgramRecv` per datagram and `isReadable`, and
 * `isDraining` only when the packet gave nothing to read (a peer's CONNECTION_CLOSE is such a
 * packet); a flush costs one `send` per packet plus the final empty one, and `timeout`. What can
 * wait goes to the sweep (STOP_SENDING of idle streams, the close state) or is cached (the
 * datagram budget; whether quiche's datagram queue can hold anything to purge).
 *
 * Size: about 750 lines, because everything here wraps one native object whose calls interleave
 * (a stream write, a receive and a flush each touch the send queues, the close state and the
 * anti-amplification budget). The stream send queues are the part that could move out next,
 * with the connection's counters and scheduling as their interface.
 */
import { quiche } from '@matrixai/quic/native/index.js';
import type { Connection as NativeConnection, Host, RecvInfo } from '@matrixai/quic/native/index.js';
import { parseQuicheError } from '../wire/quiche-errors.js';
import { StreamIdAllocator } from '../wire/stream-id.js';
import { datagramPackets } from './packet.js';
import {
  AFTER_FLUSH_TASKS_LIMIT,
  AMPLIFICATION_FACTOR,
  MAX_TRACKED_STREAMS_PER_CONNECTION,
  MAX_UDP_PAYLOAD,
  STREAM_WRITABLE_LOW_WATER_BYTES,
  STREAM_WRITE_QUEUE_LIMIT_BYTES,
} from './limits.js';

/** Transport error code INTERNAL_ERROR (RFC 9000 §20.1): our implementation failed. */
export const QUIC_INTERNAL_ERROR = 0x01;

/** How a connection ended, as seen from this side. */
export interface QuicCloseInfo {
  /** True when the peer sent CONNECTION_CLOSE. */
  byPeer: boolean;
  /** True when the close code is an application (HTTP/3) code, false for a transport code. */
  isApp: boolean;
  code: number;
  reason: string;
  /** True when the idle timeout ended the connection (RFC 9000 §10.1). */
  timedOut: boolean;
}

/** The layer above (HTTP/3) implements this; every call is synchronous and must not throw. */
export interface QuicConnectionHandler {
  /** The handshake completed (1-RTT keys available). */
  onEstablished(): void;
  /** Bytes arrived on a stream; `fin` marks the end of the peer's send side. */
  onStreamData(streamId: number, data: Uint8Array, fin: boolean): void;
  /** The peer reset its send side of the stream (RESET_STREAM, RFC 9000 §19.4). */
  onStreamReset(streamId: number, code: number): void;
  /**
   * The peer asked us to stop sending (STOP_SENDING, RFC 9000 §19.5); our queue is dropped.
   * `code` is null when quiche already collected the stream (a send-only stream it finished
   * with its RESET_STREAM reply) and the code is no longer available.
   */
  onStreamStopped(streamId: number, code: number | null): void;
  /** A previously refused `write` may be retried: the queue fell below the low-water mark. */
  onStreamWritable(streamId: number): void;
  /** One QUIC DATAGRAM frame payload (RFC 9221). */
  onDatagram(data: Uint8Array): void;
  /** The connection is over; called once. */
  onClosed(info: QuicCloseInfo): void;
}

/** Result of `sendDatagram`: only 'sent' means quiche took it. */
export type DatagramSendResult = 'sent' | 'queue_full' | 'too_large' | 'closed';

/** Send-side state of one stream as JS tracks it. */
interface SendState {
  /** Chunks quiche has not accepted yet, oldest first. */
  queue: Uint8Array[];
  queuedBytes: number;
  /** The application asked for FIN after the queued bytes. */
  finRequested: boolean;
  /** FIN was handed to quiche: the send side is done. */
  finSent: boolean;
  /** A write was refused: fire onStreamWritable when the queue drains to the low-water mark. */
  wantWritable: boolean;
  /** quiche has created the stream (a streamSend got past the stream limit). */
  opened: boolean;
}

/** Counters per connection, summed by the endpoint. */
export interface QuicConnectionCounters {
  datagramsSent: number;
  datagramsReceived: number;
  datagramsDroppedQueueFull: number;
  datagramsDroppedTooLarge: number;
  streamWritesRefused: number;
  recvErrors: number;
}

/** Sink for outgoing UDP packets (the endpoint's socket, possibly through a link simulator). */
export type PacketSink = (packet: Uint8Array, length: number, to: Host) => void;

/**
 * What a connection needs from the endpoint that owns it. Every call is synchronous; none may
 * throw back into the connection.
 */
export interface QuicConnectionHost {
  /** Sends one UDP payload. */
  send: PacketSink;
  /** Flushes the connection in this loop turn's batch (endpoint.ts). */
  scheduleFlush(conn: QuicConnection): void;
  /** Flushes within ACK_COALESCE_MS unless something else flushes first (lone ACKs). */
  scheduleAckFlush(conn: QuicConnection): void;
  /** The connection is closed for good: forget its routes. */
  finalized(conn: QuicConnection): void;
  /**
   * Calls `conn.onTimer()` at `at` (performance.now() ms): quiche's next deadline. Replaces the
   * connection's previous deadline (the endpoint keeps one timer for all: connection-timers.ts).
   */
  setTimer(conn: QuicConnection, at: number): void;
  /** The connection has no deadline any more. */
  clearTimer(conn: QuicConnection): void;
  /** The handshake completed (1-RTT keys available). */
  handshakeDone(conn: QuicConnection): void;
  /** A packet of `bytes` was not sent: it would have passed the anti-amplification limit. */
  amplificationLimited(conn: QuicConnection, bytes: number): void;
  /**
   * A packet arrived: call `sweep()` at the endpoint's next sweep (STOP_SENDING_POLL_INTERVAL_MS),
   * which asks quiche what only shows when asked (a peer's STOP_SENDING, the close state).
   */
  sweepOwed(conn: QuicConnection): void;
}

/** Everything a `QuicConnection` is made of; built by `QuicEndpoint` only. */
export interface QuicConnectionOptions {
  /** quiche's connection, in the role below. */
  native: NativeConnection;
  role: 'client' | 'server';
  /** The peer's address (the source of its first packet, or the address connected to). */
  remote: Host;
  /** The endpoint's bound address. */
  local: Host;
  /** The endpoint's shared receive buffer, reused for every stream and datagram read. */
  scratch: Uint8Array;
  host: QuicConnectionHost;
  /**
   * Server role: whether the client's address is already validated (a valid Retry token, RFC 9000
   * §8.1.2). Until it is, the connection sends at most AMPLIFICATION_FACTOR times the bytes it
   * received (§8.1). Ignored for the client role, which is never limited.
   */
  addressValidated: boolean;
}

/**
 * A QUIC connection. Create it through `QuicEndpoint` (server: `onConnection`; client:
 * `connect`); the constructor is internal.
 */
export class QuicConnection {
  /** The layer above; set it before the first packet is processed (in `onConnection`). */
  handler: QuicConnectionHandler | null = null;
  readonly counters: QuicConnectionCounters = {
    datagramsSent: 0, datagramsReceived: 0, datagramsDroppedQueueFull: 0,
    datagramsDroppedTooLarge: 0, streamWritesRefused: 0, recvErrors: 0,
  };
  /** Remote address of the last packet received (or the address connected to). */
  remote: Host;
  /** Routing keys of this connection in the endpoint map (removed when it closes). */
  readonly routeKeys: string[] = [];
  /** @internal The endpoint's timer heap (connection-timers.ts): this connection's deadline. */
  timerDeadline = 0;
  /** @internal The endpoint's timer heap: this connection's slot, -1 when it has no deadline. */
  timerSlot = -1;

  private established = false;
  private closeNotified = false;
  private finalized = false;
  private readonly sends = new Map<number, SendState>();
  /** Streams with bytes or a FIN still queued in JS. */
  private readonly pending = new Set<number>();
  private readonly streamIds: StreamIdAllocator;
  /**
   * quiche's datagram budget (`dgramMaxWritableLen`), cached: it depends on the path (the peer's
   * largest DATAGRAM frame, the UDP payload size, the connection id length) and not on traffic.
   * null until known; forgotten when the peer's address changes, a datagram is refused as too
   * large, and at every sweep, so a change of path is seen within a sweep interval.
   */
  private datagramBudget: number | null = null;
  /**
   * False when quiche's outgoing datagram queue is known to be empty (nothing to purge): set by
   * every datagram queued, cleared when a purge finds the queue empty.
   */
  private datagramsMaybeQueued = false;
  /** The peer's stateless reset ended the connection (RFC 9000 §10.3). */
  private resetByPeer = false;
  /** Set when we called close() or quiche's recv failed: only then can localError appear. */
  private localCloseRequested = false;
  /** A send buffer quiche did not fill on the last flush, reused by the next one. */
  private spare: Uint8Array | null = null;
  private recvInfo: RecvInfo | null = null;
  /** Work that must wait until what is queued now has left in packets (see `afterFlush`). */
  private afterFlushTasks: (() => void)[] = [];

  /** quiche's connection. */
  private readonly native: NativeConnection;
  private readonly local: Host;
  private readonly scratch: Uint8Array;
  /**
   * The same bytes as a plain Uint8Array: `slice` copies out in one allocation (a view plus a
   * copy costs two, and a Buffer's `slice` would be a view of the shared scratch).
   */
  private readonly scratchBytes: Uint8Array;
  private readonly host: QuicConnectionHost;
  readonly role: 'client' | 'server';
  /**
   * Server role until the client's address is validated (RFC 9000 §8.1): the UDP bytes received
   * from it and sent to it; null once validated (a Handshake packet quiche accepted, the handshake
   * done, or a Retry token at the start).
   */
  private unvalidated: { received: number; sent: number } | null;

  /** @internal Built by `QuicEndpoint`. */
  constructor(options: QuicConnectionOptions) {
    this.native = options.native;
    this.role = options.role;
    this.remote = options.remote;
    this.local = options.local;
    this.scratch = options.scratch;
    this.scratchBytes = new Uint8Array(options.scratch.buffer, options.scratch.byteOffset, options.scratch.byteLength);
    this.host = options.host;
    this.unvalidated = this.role === 'server' && !options.addressValidated ? { received: 0, sent: 0 } : null;
    this.streamIds = new StreamIdAllocator(this.role);
  }

  get isEstablished(): boolean {
    return this.established;
  }

  /** True once the connection is closing, draining or closed: nothing more can be sent. */
  private get isClosing(): boolean {
    return this.closeNotified || this.finalized;
  }

  /** Leaf-first DER certificates the peer presented (client role: the server's chain). */
  peerCertChain(): Uint8Array[] | null {
    return this.native.peerCertChain();
  }

  /** Largest DATAGRAM payload that fits in one packet now, or null before the handshake. */
  maxDatagramPayload(): number | null {
    if (this.datagramBudget === null && !this.finalized) this.datagramBudget = this.native.dgramMaxWritableLen();
    return this.datagramBudget;
  }

  /** Allocates the id of a new locally initiated stream; quiche opens it on the first write. */
  openStream(bidi: boolean): number {
    return this.streamIds.next(bidi);
  }

  /** Bytes queued in JS on a stream (not yet accepted by quiche). */
  queuedBytes(streamId: number): number {
    return this.sends.get(streamId)?.queuedBytes ?? 0;
  }

  /**
   * Writes bytes (and optionally FIN) to a stream. Returns false, taking nothing, when the
   * stream's JS queue would pass STREAM_WRITE_QUEUE_LIMIT_BYTES, when FIN was already sent, or
   * when the connection is closing; after a refusal `onStreamWritable` fires once it drained.
   */
  write(streamId: number, data: Uint8Array, fin = false): boolean {
    if (this.isClosing) return false;
    let st = this.sends.get(streamId);
    if (!st) {
      if (this.sends.size >= MAX_TRACKED_STREAMS_PER_CONNECTION) {
        this.counters.streamWritesRefused++;
        return false;
      }
      st = { queue: [], queuedBytes: 0, finRequested: false, finSent: false, wantWritable: false, opened: false };
      this.sends.set(streamId, st);
    }
    if (st.finRequested || st.finSent) return false;
    if (st.queuedBytes + data.byteLength > STREAM_WRITE_QUEUE_LIMIT_BYTES) {
      st.wantWritable = true;
      this.counters.streamWritesRefused++;
      return false;
    }
    if (data.byteLength > 0) {
      st.queue.push(data);
      st.queuedBytes += data.byteLength;
    }
    if (fin) st.finRequested = true;
    // Hand it to quiche now so the bytes leave in this loop turn's flush.
    this.pushStream(streamId, st);
    this.host.scheduleFlush(this);
    return true;
  }

  /**
   * Runs `task` right after the next flush has handed its packets to the socket, so that frames
   * the task queues go out in later packets than everything queued before it (quiche puts
   * control frames such as RESET_STREAM ahead of STREAM frames within one packet). Dropped when
   * the connection closes first. At most AFTER_FLUSH_TASKS_LIMIT wait at once; past that the
   * task runs at once, giving up only the ordering.
   */
  afterFlush(task: () => void): void {
    if (this.isClosing) return;
    if (this.afterFlushTasks.length >= AFTER_FLUSH_TASKS_LIMIT) {
      task();
      return;
    }
    this.afterFlushTasks.push(task);
    this.host.scheduleFlush(this);
  }

  /** Sends RESET_STREAM with `code` (RFC 9000 §19.4) and drops anything queued. */
  resetStream(streamId: number, code: number): void {
    const st = this.sends.get(streamId);
    this.sends.delete(streamId);
    this.pending.delete(streamId);
    if (st?.finSent) return;
    this.shutdown(streamId, quiche.Shutdown.Write, code);
  }

  /** Sends STOP_SENDING with `code` (RFC 9000 §19.5) and discards further incoming bytes. */
  stopSending(streamId: number, code: number): void {
    this.shutdown(streamId, quiche.Shutdown.Read, code);
  }

  /** Forgets JS state of a stream whose both sides are done (keeps the tracking map bounded). */
  forgetStream(streamId: number): void {
    const st = this.sends.get(streamId);
    if (st && (st.queuedBytes > 0 || (st.finRequested && !st.finSent))) return;
    this.sends.delete(streamId);
    this.pending.delete(streamId);
  }

  /** Queues one QUIC DATAGRAM frame. Never blocks and never throws: a full queue is a drop. */
  sendDatagram(data: Uint8Array): DatagramSendResult {
    if (this.isClosing) return 'closed';
    // One native call on the hot path: quiche answers Done (null) when its queue is full and
    // BufferTooShort when the datagram exceeds what the peer and the path allow.
    let r: void | null;
    try {
      r = this.native.dgramSend(data);
    } catch (e) {
      if (parseQuicheError(e).kind === 'BufferTooShort') {
        this.counters.datagramsDroppedTooLarge++;
        // The caller sized it by our cached budget: the path may have changed, ask again.
        this.datagramBudget = null;
        return 'too_large';
      }
      return 'closed';
    }
    if (r === null) {
      this.counters.datagramsDroppedQueueFull++;
      return 'queue_full';
    }
    this.counters.datagramsSent++;
    this.datagramsMaybeQueued = true;
    this.host.scheduleFlush(this);
    return 'sent';
  }

  /**
   * Drops queued outgoing datagrams for which `pred` returns true (stale snapshots). Usually the
   * queue is empty (the last flush sent everything): a cheap length check then saves the purge,
   * whose callback costs a JS function per call and a copy per queued datagram.
   */
  purgeDatagrams(pred: (payload: Uint8Array) => boolean): void {
    if (!this.datagramsMaybeQueued || this.finalized) return;
    if (this.native.dgramSendQueueLen() === 0) {
      this.datagramsMaybeQueued = false;
      return;
    }
    this.native.dgramPurgeOutgoing(pred);
  }

  /**
   * Closes the connection with CONNECTION_CLOSE (RFC 9000 §10.2). `app` selects the
   * application-level (HTTP/3) code space. Idempotent.
   */
  close(app: boolean, code: number, reason = ''): void {
    if (this.finalized) return;
    this.localCloseRequested = true;
    try {
      this.native.close(app, code, Buffer.from(reason.slice(0, 256), 'utf8'));
    } catch {
      // Already closing: quiche reports Done; nothing more to do.
    }
    this.host.scheduleFlush(this);
  }

  // ---------------------------------------------------------------------------------------
  // Endpoint-facing (internal)

  /**
   * @internal The endpoint is going away or drops this connection silently: stop timers and tell
   * the layer above (once) that the connection is over, by default as a local close.
   */
  dispose(info: QuicCloseInfo = { byPeer: false, isApp: true, code: 0x100, reason: 'endpoint closed', timedOut: false }): void {
    this.host.clearTimer(this);
    if (!this.closeNotified) {
      this.closeNotified = true;
      this.sends.clear();
      this.pending.clear();
      this.afterFlushTasks = [];
      this.handler?.onClosed(info);
    }
    this.finalized = true;
  }

  /**
   * @internal Client role: a short-header packet from this connection's peer that no route
   * matched. A stateless reset carries a random connection id (RFC 9000 §10.3), so it can only
   * be recognised by its last 16 bytes: quiche compares them with the token the server gave in
   * the handshake when it cannot use a packet (§10.3.1). True when it was this connection's reset
   * (the connection is then closed, and the layer above told so).
   */
  offerStatelessReset(packet: Uint8Array, from: Host): boolean {
    if (this.finalized || this.closeNotified || !this.established) return false;
    try {
      // Copied: recv works in place, and the endpoint may offer the packet to other connections.
      this.native.recv(new Uint8Array(packet), { from, to: this.local });
    } catch {
      return false;
    }
    if (!this.native.isClosed()) return false;
    this.resetByPeer = true;
    this.checkClosed();
    return true;
  }

  /**
   * @internal Feeds one UDP payload from `host`:`port` to quiche, then delivers what became
   * readable.
   */
  receive(packet: Uint8Array, host: string, port: number): void {
    if (this.finalized) return;
    // Reuse the RecvInfo (and its Host) while the peer's address is unchanged: quiche reads it
    // synchronously, and the endpoint makes no object per packet.
    let info = this.recvInfo;
    if (info === null || info.from.port !== port || info.from.host !== host) {
      const from = { host, port };
      this.remote = from;
      info = { from, to: this.local };
      this.recvInfo = info;
      // A new path may carry datagrams of another size (RFC 9000 §9: the peer's address changed).
      this.datagramBudget = null;
    }
    // Address validation (RFC 9000 §8.1): a Handshake packet quiche could decrypt proves the
    // client received our Initial. quiche counts packets it processed; when that count grows by
    // every packet of the datagram, its Handshake packet was one of them. (The datagram must be
    // parsed before recv, which decrypts it in place.)
    const u = this.unvalidated;
    let validatedAt = -1;
    if (u) {
      u.received += packet.byteLength;
      const packets = datagramPackets(packet);
      if (packets.hasHandshake) validatedAt = this.native.stats().recv + packets.count;
    }
    try {
      this.native.recv(packet, info);
    } catch {
      // quiche closes the connection itself on fatal errors (localError is set); anything else
      // is a dropped packet. Either way the state checks below see it.
      this.counters.recvErrors++;
      this.localCloseRequested = true;
    }
    if (validatedAt >= 0 && this.native.stats().recv >= validatedAt) this.unvalidated = null;
    const wasEstablished = this.established;
    this.afterInput();
    // What the layer above queued while handling this packet already scheduled a flush. What
    // is left is quiche's own answer, an ACK (and the odd flow-control update): once the
    // handshake is over it may wait for the next packet we send anyway (limits.ts).
    if (wasEstablished && !this.localCloseRequested && !this.isClosing) this.host.scheduleAckFlush(this);
    else this.host.scheduleFlush(this);
  }

  /**
   * @internal quiche's deadline as of the last flush came (loss detection, idle, draining): the
   * endpoint calls this then (host.setTimer). Every packet received is followed by a flush within
   * ACK_COALESCE_MS, which refreshes the deadline; a deadline that moved later since then only
   * costs an onTimeout() that finds nothing due (quiche checks each of its timers).
   */
  onTimer(): void {
    if (this.finalized) return;
    this.native.onTimeout();
    this.afterInput(true);
    this.flush();
  }

  /**
   * @internal Moves queued stream bytes into quiche, sends every packet quiche produces and
   * re-arms the timer (quiche's deadline changes with every packet sent, RFC 9002 §6).
   */
  flush(): void {
    if (this.finalized) return;
    if (this.pending.size > 0 && !this.closeNotified) {
      for (const id of this.pending) {
        const st = this.sends.get(id);
        if (st) this.pushStream(id, st);
        else this.pending.delete(id);
      }
    }
    const native = this.native;
    for (;;) {
      // A packet-sized buffer from Node's pool; the socket keeps it until the packet is sent.
      // (Cutting views from larger slabs measured no faster.)
      const out = this.spare ?? Buffer.allocUnsafe(MAX_UDP_PAYLOAD);
      this.spare = null;
      let res: [number, { to: Host }] | null;
      try {
        res = native.send(out);
      } catch {
        this.spare = out;
        break;
      }
      if (res === null) {
        this.spare = out;
        break;
      }
      const u = this.unvalidated;
      if (u) {
        // RFC 9000 §8.1: quiche 0.18 charges its budget per QUIC packet but pads datagrams that
        // carry an Initial to 1200 bytes afterwards, uncharged; its probe timeouts then send
        // padded Initials far past 3x. The limit is kept here on the bytes that leave. A packet
        // past it is not sent (quiche sees it as lost and retransmits once the client sends more).
        if (u.sent + res[0] > AMPLIFICATION_FACTOR * u.received) {
          this.host.amplificationLimited(this, res[0]);
          this.spare = out;
          continue;
        }
        u.sent += res[0];
      }
      this.host.send(out, res[0], res[1].to);
    }
    if (this.afterFlushTasks.length > 0) {
      const tasks = this.afterFlushTasks;
      this.afterFlushTasks = [];
      // Each task queues frames and schedules another flush, which sends them.
      if (!this.isClosing) for (const task of tasks) task();
    }
    if (this.localCloseRequested) this.checkClosed();
    if (!this.finalized) this.armTimer();
  }

  /** quiche's deadline changes with every packet sent and received (RFC 9002 §6): pass it on. */
  private armTimer(): void {
    const t = this.native.timeout();
    if (t === null) this.host.clearTimer(this);
    else this.host.setTimer(this, performance.now() + t);
  }

  /**
   * Reads streams and datagrams, notices the handshake end and the close. `force` (timers):
   * ask quiche for the close state whatever the packet held.
   */
  private afterInput(force = false): void {
    const native = this.native;
    const h = this.handler;
    if (!this.established && native.isEstablished()) {
      this.established = true;
      // The handshake completing validates the address too (RFC 9000 §8.1).
      this.unvalidated = null;
      this.host.handshakeDone(this);
      h?.onEstablished();
      if (this.finalized) return;
    }
    let delivered = false;
    if (this.established && h) {
      // quiche's isReadable() is also true while DATAGRAMs wait, and readable() costs ~15 µs, so
      // take the datagrams out first; streams are still delivered before them (stream data in
      // a packet, such as a session close, takes effect before that packet's datagrams).
      // A packet carries one datagram as a rule (the game's input, an echo): that one is held
      // in a local, only more than one takes an array.
      const queued = native.dgramRecvQueueLen();
      const first = queued > 0 ? this.takeDatagram() : null;
      const more = queued > 1 && first !== null ? this.takeDatagrams(queued - 1) : null;
      if (native.isReadable()) {
        delivered = true;
        this.readStreams(h);
      }
      if (first !== null) {
        delivered = true;
        if (!this.isClosing) h.onDatagram(first);
        if (more) for (const d of more) if (!this.isClosing) h.onDatagram(d);
      }
    }
    // STOP_SENDING on a stream we do not write to shows only when asked: at the sweep.
    if (this.established) this.host.sweepOwed(this);
    // A packet that gave nothing to read may be the peer's CONNECTION_CLOSE (RFC 9000 §10.2.2:
    // the connection is then draining); one that carried data rarely is, and the sweep asks
    // within STOP_SENDING_POLL_INTERVAL_MS for those. Timers, local closes and the handshake
    // check every time.
    if (force || !this.established || this.localCloseRequested) this.checkClosed();
    else if (!delivered && native.isDraining()) this.checkClosed();
  }

  /**
   * @internal The endpoint's sweep, for a connection that received packets since the last one:
   * idle sending streams are asked for a peer's STOP_SENDING, quiche for the close state, and
   * the datagram budget is asked again at its next use.
   */
  sweep(): void {
    if (this.finalized) return;
    this.datagramBudget = null;
    const h = this.handler;
    if (this.established && h && this.sends.size > 0 && !this.isClosing) this.pollStopped(h);
    this.checkClosed();
  }

  private readStreams(h: QuicConnectionHandler): void {
    const native = this.native;
    const buf = this.scratch;
    const bytes = this.scratchBytes;
    for (const id of native.readable()) {
      for (;;) {
        let res: [number, boolean] | null;
        try {
          res = native.streamRecv(id, buf);
        } catch (e) {
          const err = parseQuicheError(e);
          if (err.kind === 'StreamReset') h.onStreamReset(id, err.code);
          break;
        }
        if (res === null) break;
        const [n, fin] = res;
        // Copy out: `buf` is the endpoint's shared scratch buffer.
        if (n > 0 || fin) h.onStreamData(id, bytes.slice(0, n), fin);
        if (fin || this.isClosing) break;
      }
    }
  }

  /** Reads `queued` datagrams or fewer (quiche ran out or failed). */
  private takeDatagrams(queued: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < queued; i++) {
      const d = this.takeDatagram();
      if (d === null) break;
      out.push(d);
    }
    return out;
  }

  /** One received datagram copied out of the scratch buffer, or null when none (or quiche failed). */
  private takeDatagram(): Uint8Array | null {
    let n: number | null;
    try {
      n = this.native.dgramRecv(this.scratch);
    } catch {
      return null;
    }
    if (n === null) return null;
    this.counters.datagramsReceived++;
    // Copy out: the scratch buffer is the endpoint's, shared by every connection.
    return this.scratchBytes.slice(0, n);
  }

  /**
   * A peer's STOP_SENDING (RFC 9000 §19.5) only shows when we next touch the stream. So at each
   * sweep ask each stream we still send on for its capacity: that throws StreamStopped(code)
   * when stopped. quiche keeps a stopped bidirectional stream while its receive side is open, so
   * its code is seen; a send-only stream is collected at once and then reported with an unknown
   * (null) code.
   */
  private pollStopped(h: QuicConnectionHandler): void {
    for (const [id, st] of this.sends) {
      if (st.finSent || !st.opened) continue;
      try {
        this.native.streamCapacity(id);
      } catch (e) {
        const err = parseQuicheError(e);
        // StreamLimit: not opened yet (waiting for MAX_STREAMS); nothing to report.
        if (err.kind === 'StreamLimit') continue;
        this.handleSendError(id, e, h);
      }
    }
  }

  /** What a throwing `streamSend` means for stream `id`: wait for credit, or a send error. */
  private onStreamSendThrow(id: number, e: unknown): void {
    if (parseQuicheError(e).kind === 'StreamLimit') {
      // Peer's MAX_STREAMS not yet raised (RFC 9000 §4.6): keep it queued and retry.
      this.pending.add(id);
      return;
    }
    if (this.handler) this.handleSendError(id, e, this.handler);
  }

  /** Tries to move a stream's queue into quiche; keeps what quiche does not take. */
  private pushStream(id: number, st: SendState): void {
    const native = this.native;
    while (st.queue.length > 0) {
      const chunk = st.queue[0];
      const last = st.queue.length === 1;
      let n: number | null;
      try {
        n = native.streamSend(id, chunk, last && st.finRequested);
        st.opened = true;
      } catch (e) {
        this.onStreamSendThrow(id, e);
        return;
      }
      if (n === null) n = 0;
      if (n < chunk.byteLength) {
        st.queue[0] = chunk.subarray(n);
        st.queuedBytes -= n;
        this.pending.add(id);
        // quiche took less than offered: flow control, or a stream the peer stopped that quiche
        // already collected (it then answers Done forever). Ask, so the latter is reported.
        if (n === 0) this.checkStreamGone(id);
        return;
      }
      st.queue.shift();
      st.queuedBytes -= n;
      if (last && st.finRequested) st.finSent = true;
    }
    if (st.finRequested && !st.finSent) {
      try {
        const n = native.streamSend(id, new Uint8Array(0), true);
        st.opened = true;
        if (n === null) {
          this.pending.add(id);
          return;
        }
        st.finSent = true;
      } catch (e) {
        this.onStreamSendThrow(id, e);
        return;
      }
    }
    this.pending.delete(id);
    if (st.finSent) {
      // Everything including FIN is quiche's now: nothing left to track on our side.
      this.sends.delete(id);
      return;
    }
    if (st.wantWritable && st.queuedBytes <= STREAM_WRITABLE_LOW_WATER_BYTES) {
      st.wantWritable = false;
      this.handler?.onStreamWritable(id);
    }
  }

  private checkStreamGone(id: number): void {
    try {
      this.native.streamCapacity(id);
    } catch (e) {
      const kind = parseQuicheError(e).kind;
      if ((kind === 'StreamStopped' || kind === 'InvalidStreamState') && this.handler) this.handleSendError(id, e, this.handler);
    }
  }

  private handleSendError(id: number, e: unknown, h: QuicConnectionHandler): void {
    const err = parseQuicheError(e);
    this.sends.delete(id);
    this.pending.delete(id);
    if (err.kind === 'StreamStopped') h.onStreamStopped(id, err.code);
    // A stream quiche created but no longer knows, while we still had it open for sending:
    // the peer stopped it and quiche collected it at once (send-only streams).
    else if (err.kind === 'InvalidStreamState') h.onStreamStopped(id, null);
  }

  private shutdown(streamId: number, dir: number, code: number): void {
    try {
      this.native.streamShutdown(streamId, dir, code);
    } catch {
      // Done / InvalidStreamState: that side is already closed; nothing to tell the peer.
    }
    this.host.scheduleFlush(this);
  }

  private checkClosed(): void {
    const native = this.native;
    // A local close (ours, or quiche's after a protocol error in recv) sets localError at once;
    // the closing period that follows (RFC 9000 §10.2.1) is quiche's business, the layers above
    // are done. localError is only asked for when one of those happened (saves a native call).
    if (!this.closeNotified && (native.isDraining() || native.isClosed() || (this.localCloseRequested && native.localError() !== null))) {
      this.closeNotified = true;
      const info = this.closeInfo();
      this.sends.clear();
      this.pending.clear();
      this.handler?.onClosed(info);
    }
    if (this.closeNotified && !this.finalized && native.isClosed()) {
      this.finalized = true;
      this.host.clearTimer(this);
      this.host.finalized(this);
    }
  }

  private closeInfo(): QuicCloseInfo {
    if (this.resetByPeer) return { byPeer: true, isApp: false, code: 0, reason: 'stateless reset', timedOut: false };
    const decoder = new TextDecoder();
    const peer = this.native.peerError();
    if (peer) {
      return { byPeer: true, isApp: peer.isApp, code: peer.errorCode, reason: decoder.decode(peer.reason), timedOut: false };
    }
    const local = this.native.localError();
    if (local) {
      return { byPeer: false, isApp: local.isApp, code: local.errorCode, reason: decoder.decode(local.reason), timedOut: false };
    }
    return { byPeer: false, isApp: false, code: 0, reason: '', timedOut: this.native.isTimedOut() };
  }
}
