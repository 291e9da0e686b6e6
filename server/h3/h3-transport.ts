/**
 * What the HTTP/3 layer needs from below: the narrow slice of a QUIC connection it calls
 * (`H3Transport`) and a timer source (`H3Scheduler`). `QuicConnection` (quic/quic-connection.ts)
 * implements `H3Transport` as it is; unit tests drive the HTTP/3 layer through an in-memory
 * transport and a manual scheduler instead (test/server/h3/helpers/scripted-transport.ts), so no
 * UDP socket and no wall-clock wait is needed to test a protocol rule.
 */
import type { DatagramSendResult, QuicCloseInfo, QuicConnectionHandler } from './quic/quic-connection.js';
import type { Scheduler, Timer } from '../clock.js';

export type { DatagramSendResult, QuicCloseInfo, QuicConnectionHandler };

/**
 * The QUIC connection operations the HTTP/3 layer uses, and nothing else. Every call is
 * synchronous and never throws; stream ids are QUIC stream ids (RFC 9000 §2.1).
 */
export interface H3Transport {
  /** Receives the connection's events (streams, datagrams, close); the HTTP/3 layer sets itself. */
  handler: QuicConnectionHandler | null;
  /** Remote address of the last packet received. */
  readonly remote: { readonly host: string; readonly port: number };
  /** Allocates the id of a new local stream (quiche opens it on the first write). */
  openStream(bidi: boolean): number;
  /**
   * Queues bytes (and optionally FIN). False, taking nothing, when the stream's write queue is
   * full, FIN was already sent or the connection is closing; `onStreamWritable` follows a refusal.
   */
  write(streamId: number, data: Uint8Array, fin?: boolean): boolean;
  /** RESET_STREAM (RFC 9000 §19.4); drops what is queued. */
  resetStream(streamId: number, code: number): void;
  /** STOP_SENDING (RFC 9000 §19.5); further incoming bytes of the stream are discarded. */
  stopSending(streamId: number, code: number): void;
  /** Bytes queued on a stream and not yet accepted by QUIC. */
  queuedBytes(streamId: number): number;
  /** Forgets the transport's state of a stream whose both sides are done. */
  forgetStream(streamId: number): void;
  /** Runs `task` once the packets queued so far have left (frames it queues go out later). */
  afterFlush(task: () => void): void;
  /** Queues one QUIC DATAGRAM frame (RFC 9221); never blocks: a full queue is a drop. */
  sendDatagram(data: Uint8Array): DatagramSendResult;
  /** Drops queued outgoing datagrams for which `pred` is true. */
  purgeDatagrams(pred: (payload: Uint8Array) => boolean): void;
  /** Largest DATAGRAM payload that fits one packet now; null before the handshake. */
  maxDatagramPayload(): number | null;
  /** CONNECTION_CLOSE (RFC 9000 §10.2); `app` selects the HTTP/3 code space. */
  close(app: boolean, code: number, reason?: string): void;
}

/** A pending timer; `cancel()` is idempotent. */
export type H3Timer = Timer;

/**
 * Time for the HTTP/3 layer's own deadlines (buffered streams, parked requests, idle close):
 * the server's one injected-time interface (server/clock.ts, which holds no game code), so a
 * `ManualScheduler` steps it in tests. Any origin will do; only differences are used.
 */
export type H3Scheduler = Scheduler;

/**
 * Node timers that do not keep the process alive (a server's lifetime is its socket's; a
 * client's, its session's), and `performance.now()`.
 */
export const nodeH3Scheduler: H3Scheduler = {
  now: () => performance.now(),
  after(delayMs, fn) {
    const handle = setTimeout(fn, Math.max(0, delayMs));
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};
