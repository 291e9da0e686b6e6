/**
 * HTTP datagrams (RFC 9297 §2.1) on one connection: each QUIC DATAGRAM frame (RFC 9221) starts
 * with the Quarter Stream ID of its session's CONNECT stream. Incoming ones go to their session
 * (or are dropped and counted); outgoing ones get the prefix in a reused buffer.
 */
import { decodeDatagram, datagramPrefixLength, encodeDatagram } from './wire/datagram.js';
import { writeVarint } from './wire/varint.js';
import type { WebTransportSession } from './session.js';
import { invokeCallback } from './app-callback.js';
import type { H3Context } from './h3-context.js';

/** Framing buffer for outgoing HTTP datagrams (larger ones fall back to an allocation). */
const DATAGRAM_SCRATCH = new Uint8Array(2048);
/**
 * Views of DATAGRAM_SCRATCH by length, made on first use (quiche takes a datagram as a whole
 * buffer, and a snapshot's length repeats): no view per datagram sent. At most one per length
 * up to DATAGRAM_SCRATCH's size, so bounded by it.
 */
const SCRATCH_VIEWS: (Uint8Array | undefined)[] = [];

/** The first `length` bytes of DATAGRAM_SCRATCH, as a cached view. */
function scratchView(length: number): Uint8Array {
  let v = SCRATCH_VIEWS[length];
  if (v === undefined) SCRATCH_VIEWS[length] = v = DATAGRAM_SCRATCH.subarray(0, length);
  return v;
}

export class DatagramRouter {
  /** The purge in progress (`purge`): its session, prefix length and predicate, and a throw of it. */
  private purgeSessionId = -1;
  private purgePrefix = 0;
  private purgePred: ((payload: Uint8Array) => boolean) | null = null;
  private purgeThrown: { error: unknown } | null = null;
  /**
   * quiche's predicate for `purge`, made once: the purge's arguments live in the fields above
   * for the length of the call (a purge runs once per snapshot; a closure per call was garbage).
   */
  private readonly purgeBound = (d: Uint8Array): boolean => this.isPurged(d);

  constructor(private readonly c: H3Context) {}

  /** One DATAGRAM frame payload arrived. */
  receive(data: Uint8Array): void {
    const c = this.c;
    // Fast path for the common case, a 1- or 2-byte Quarter Stream ID (RFC 9297 §2.1, varint
    // per RFC 9000 §16): no result object, no BigInt. Everything else goes through the codec.
    const first = data.byteLength > 0 ? data[0] : 0xff;
    if (first < 0x80 && data.byteLength >= (first < 0x40 ? 1 : 2)) {
      const short = first < 0x40;
      const q = short ? first : ((first & 0x3f) << 8) | data[1];
      const s = c.sessions.get(q * 4);
      if (s && !s.closed) {
        s.datagramsReceived++;
        invokeCallback(s, s.onDatagram, s.callbackFailed, data.subarray(short ? 1 : 2));
      } else {
        c.counters.datagramsDroppedUnknownSession++;
      }
      return;
    }
    const d = decodeDatagram(data);
    if (d.status === 'ok') {
      const s = c.sessions.get(d.streamId);
      if (s && !s.closed) {
        s.datagramsReceived++;
        invokeCallback(s, s.onDatagram, s.callbackFailed, d.payload);
        return;
      }
      // RFC 9297 §2.1 permits buffering datagrams for a session not yet open; a game datagram
      // that late is useless, so we drop and count it.
      c.counters.datagramsDroppedUnknownSession++;
      return;
    }
    if (d.status === 'unknown-stream') {
      c.counters.datagramsDroppedUnknownSession++;
      return;
    }
    c.connectionError(d.code, d.detail);
  }

  /** Sends one datagram of `session`; false when QUIC dropped it (queue full, too large, closed). */
  send(session: WebTransportSession, payload: Uint8Array): boolean {
    const t = this.c.transport;
    // quiche copies the datagram synchronously, so it is framed in a reused buffer (RFC 9297
    // §2.1: Quarter Stream ID varint, then the payload) instead of a fresh allocation.
    const q = session.id / 4;
    const prefix = q < 0x40 ? 1 : q < 0x4000 ? 2 : q < 0x40000000 ? 4 : 8;
    const total = prefix + payload.byteLength;
    if (total > DATAGRAM_SCRATCH.byteLength) return t.sendDatagram(encodeDatagram(session.id, payload)) === 'sent';
    writeVarint(DATAGRAM_SCRATCH, 0, q);
    DATAGRAM_SCRATCH.set(payload, prefix);
    return t.sendDatagram(scratchView(total)) === 'sent';
  }

  /** Drops queued outgoing datagrams of `session` whose payload `pred` selects. */
  purge(session: WebTransportSession, pred: (payload: Uint8Array) => boolean): void {
    // A purge from inside a predicate (application code) nests: the outer one's fields are
    // kept in locals and put back after.
    const outerId = this.purgeSessionId;
    const outerPrefix = this.purgePrefix;
    const outerPred = this.purgePred;
    const outerThrown = this.purgeThrown;
    this.purgeSessionId = session.id;
    this.purgePrefix = datagramPrefixLength(session.id);
    this.purgePred = pred;
    this.purgeThrown = null;
    let thrown: { error: unknown } | null;
    try {
      this.c.transport.purgeDatagrams(this.purgeBound);
    } finally {
      thrown = this.purgeThrown as { error: unknown } | null; // set by isPurged during the call
      this.purgeSessionId = outerId;
      this.purgePrefix = outerPrefix;
      this.purgePred = outerPred;
      this.purgeThrown = outerThrown;
    }
    if (thrown) throw thrown.error;
  }

  /** `purgeBound`'s body: one queued datagram `d` of the purge in progress. */
  private isPurged(d: Uint8Array): boolean {
    const pred = this.purgePred;
    // `pred` is application code called from inside the native binding: a throw must not cross
    // the native frames. Keep the rest of the queue and rethrow to the caller once back in JS.
    if (pred === null || this.purgeThrown) return false;
    const dec = decodeDatagram(d);
    if (dec.status !== 'ok' || dec.streamId !== this.purgeSessionId) return false;
    try {
      return pred(d.subarray(this.purgePrefix));
    } catch (error) {
      this.purgeThrown = { error };
      return false;
    }
  }

  /** Largest payload one datagram of `session` can carry now (0 before the handshake). */
  maxSize(session: WebTransportSession): number {
    const max = this.c.transport.maxDatagramPayload();
    return max === null ? 0 : Math.max(0, max - datagramPrefixLength(session.id));
  }
}
