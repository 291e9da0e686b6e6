/**
 * Just enough of the QUIC packet header (RFC 9000 §17, RFC 8999 invariants) to route a UDP
 * datagram to its connection without asking quiche: the destination connection id, and for
 * long headers the version, type, source id and an Initial's token; how many packets a datagram
 * coalesces. Never throws; malformed input gives null.
 */
import { Buffer } from 'node:buffer';
import { decodeVarint } from '../wire/varint.js';

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
  /**
   * Initial packets of version 1 only: the Token field (RFC 9000 §17.2.2), empty when the client
   * sent none; null for other packets or when the field is truncated.
   */
  token: Uint8Array | null;
}

/** QUIC version 1 (RFC 9000 §15). */
export const QUIC_V1 = 0x00000001;

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
  const type = ((packet[0] & 0x30) >> 4) as LongType;
  let token: Uint8Array | null = null;
  if (version === QUIC_V1 && type === LongType.Initial) {
    const len = decodeVarint(packet, scidStart + scidLen);
    const start = scidStart + scidLen + (len.status === 'ok' ? len.length : 0);
    if (len.status === 'ok' && len.safe && start + len.value <= packet.length) token = packet.subarray(start, start + len.value);
  }
  return { version, type, dcid, scid, token };
}

/** What a UDP datagram holds: its QUIC packets (RFC 9000 §12.2 coalescing). */
export interface DatagramPackets {
  /** Packets found (a short-header packet, a Retry or an unknown version ends the datagram). */
  count: number;
  /** True when one of them is a version 1 Handshake packet. */
  hasHandshake: boolean;
}

/**
 * Walks the coalesced packets of a datagram by their Length fields (RFC 9000 §17.2, §12.2)
 * without decrypting anything. A packet whose header is truncated or unreadable ends the walk
 * (it is counted; whatever follows is part of it as far as we can tell). Never throws.
 */
export function datagramPackets(datagram: Uint8Array): DatagramPackets {
  let count = 0;
  let hasHandshake = false;
  let off = 0;
  while (off < datagram.length) {
    const rest = datagram.subarray(off);
    count++;
    const hdr = isLongHeader(rest) ? parseLongHeader(rest) : null;
    // Short header, unparseable, another version, or a Retry: no Length field; it fills the rest.
    if (!hdr || hdr.version !== QUIC_V1 || hdr.type === LongType.Retry) break;
    if (hdr.type === LongType.Handshake) hasHandshake = true;
    let p = 7 + hdr.dcid.length + hdr.scid.length;
    if (hdr.type === LongType.Initial) {
      if (!hdr.token) break;
      p = hdr.token.byteOffset - rest.byteOffset + hdr.token.length;
    }
    const len = decodeVarint(rest, p);
    if (len.status !== 'ok' || !len.safe) break;
    off += p + len.length + len.value;
  }
  return { count, hasHandshake };
}

/**
 * Routing key of a connection id. latin1 maps each byte to one UTF-16 unit, so the key is
 * exact and cheap to build (no hex formatting on the hot path).
 */
export function cidKey(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.toString('latin1', start, end);
}
