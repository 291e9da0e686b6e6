/**
 * HTTP Datagrams in QUIC DATAGRAM frames (RFC 9297 §2.1):
 *   HTTP/3 Datagram { Quarter Stream ID (i), HTTP Datagram Payload (..) }
 * The quarter stream id is the CONNECT request's stream id divided by four; for WebTransport the
 * payload is the application datagram unchanged (draft-ietf-webtrans-http3 §4.5).
 */
import { decodeVarint, varintLength, writeVarint } from './varint.js';
import { H3_DATAGRAM_ERROR, wireError, type WireError } from './errors.js';
import { isClientBidiStreamId } from './stream-id.js';

/** RFC 9297 §2.1: a Quarter Stream ID must be below 2^60 (stream ids are below 2^62). */
export const MAX_QUARTER_STREAM_ID = 2n ** 60n - 1n;

/** Bytes the prefix takes for a session (CONNECT) stream id: subtract from the QUIC datagram budget. */
export function datagramPrefixLength(streamId: number): number {
  return varintLength(streamId / 4);
}

/** Encodes `payload` for the request stream `streamId` (a client bidi stream id). */
export function encodeDatagram(streamId: number, payload: Uint8Array): Uint8Array {
  if (!isClientBidiStreamId(streamId)) throw new RangeError(`not a client bidirectional stream id: ${streamId}`);
  const q = streamId / 4;
  if (q < 0x40) {
    // Hot path (one per snapshot): a one-byte prefix, which covers a connection's first 64 requests.
    const out = new Uint8Array(1 + payload.length);
    out[0] = q;
    out.set(payload, 1);
    return out;
  }
  const out = new Uint8Array(varintLength(q) + payload.length);
  const o = writeVarint(out, 0, q);
  out.set(payload, o);
  return out;
}

/** A decoded HTTP datagram. `payload` is a view into the input. */
export type DecodedDatagram =
  | { status: 'ok'; streamId: number; quarterStreamId: number; payload: Uint8Array }
  /**
   * A valid datagram whose stream id is beyond 2^53: no session of ours can have it, so the
   * caller drops it (counted), like a datagram for an unknown session.
   */
  | { status: 'unknown-stream' }
  | WireError;

/**
 * Decodes a QUIC DATAGRAM payload. An empty or truncated prefix, or a Quarter Stream ID >= 2^60,
 * is H3_DATAGRAM_ERROR (RFC 9297 §2.1). Never throws.
 */
export function decodeDatagram(bytes: Uint8Array): DecodedDatagram {
  const q = decodeVarint(bytes, 0);
  if (q.status !== 'ok') return wireError(H3_DATAGRAM_ERROR, 'datagram shorter than its Quarter Stream ID');
  if (q.big > MAX_QUARTER_STREAM_ID) return wireError(H3_DATAGRAM_ERROR, 'Quarter Stream ID >= 2^60');
  const streamId = q.value * 4;
  if (!q.safe || !Number.isSafeInteger(streamId)) return { status: 'unknown-stream' };
  return { status: 'ok', streamId, quarterStreamId: q.value, payload: bytes.subarray(q.length) };
}
