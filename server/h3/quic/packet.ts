/**
 * Just enough of the QUIC packet header (RFC 9000 §17, RFC 8999 invariants) to route a UDP
 * datagram to its connection without asking quiche: the destination connection id, and for
 * long headers the version, type and source id. Never throws; malformed input gives null.
 */
import { Buffer } from 'node:buffer';

/** Long-header packet types for QUIC v1 (RFC 9000 §17.2). */
export enum LongType {
  Initial = 0,
  ZeroRtt = 1,
  Handshake = 2,
  Retry = 3,
}

export interface LongHeaderInfo {
  version: number;
  /** Only meaningful for version 1 (and ignored for version negotiation). */
  type: LongType;
  dcid: Uint8Array;
  scid: Uint8Array;
}

/** Max connection id length in QUIC v1 (RFC 9000 §17.2). */
const MAX_CID_LEN = 20;

/** True when the first byte has the Header Form bit set (RFC 9000 §17.2). */
export function isLongHeader(packet: Uint8Array): boolean {
  return packet.length > 0 && (packet[0] & 0x80) !== 0;
}

/** Parses the invariant part of a long header; null when truncated or a cid is over 20 bytes. */
export function parseLongHeader(packet: Uint8Array): LongHeaderInfo | null {
  if (packet.length < 7) return null;
  const version = ((packet[1] << 24) | (packet[2] << 16) | (packet[3] << 8) | packet[4]) >>> 0;
  const dcidLen = packet[5];
  if (dcidLen > MAX_CID_LEN || packet.length < 6 + dcidLen + 1) return null;
  const dcid = packet.subarray(6, 6 + dcidLen);
  const scidLen = packet[6 + dcidLen];
  const scidStart = 7 + dcidLen;
  if (scidLen > MAX_CID_LEN || packet.length < scidStart + scidLen) return null;
  const scid = packet.subarray(scidStart, scidStart + scidLen);
  return { version, type: ((packet[0] & 0x30) >> 4) as LongType, dcid, scid };
}

/**
 * Routing key of a connection id. latin1 maps each byte to one UTF-16 unit, so the key is
 * exact and cheap to build (no hex formatting on the hot path).
 */
export function cidKey(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.toString('latin1', start, end);
}
