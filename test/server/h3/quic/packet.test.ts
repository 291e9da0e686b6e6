import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LongType, datagramPackets, parseLongHeader } from '../../../../server/h3/quic/packet.js';
import { encodeVarint } from '../../../../server/h3/wire/varint.js';
import { abandonedInitials } from '../helpers/abandoned-handshakes.js';

/** A version 1 long-header packet (RFC 9000 §17.2) with a payload of `payload` bytes. */
function longPacket(type: LongType, payload: number, token: Uint8Array | null = null): Uint8Array {
  const dcid = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  const scid = Uint8Array.of(9, 9, 9);
  const parts: Uint8Array[] = [Uint8Array.of(0xc0 | (type << 4), 0, 0, 0, 1, dcid.length), dcid, Uint8Array.of(scid.length), scid];
  if (type === LongType.Initial) parts.push(encodeVarint(token?.length ?? 0), token ?? new Uint8Array(0));
  parts.push(encodeVarint(payload), new Uint8Array(payload));
  return Buffer.concat(parts);
}

describe('packet headers (RFC 9000 §17)', () => {
  it("reads a real client Initial's ids and its empty token", () => {
    const [init] = abandonedInitials(1);
    const hdr = parseLongHeader(init.datagram)!;
    expect(hdr.version).toBe(1);
    expect(hdr.type).toBe(LongType.Initial);
    expect(hdr.dcid.length).toBeGreaterThanOrEqual(8);
    expect(hdr.token?.length).toBe(0);
  });

  it("reads an Initial's token, and no token for other types or when truncated", () => {
    const token = Uint8Array.of(0x54, 1, 2, 3);
    expect(new Uint8Array(parseLongHeader(longPacket(LongType.Initial, 20, token))!.token!)).toEqual(token);
    expect(parseLongHeader(longPacket(LongType.Handshake, 20))!.token).toBeNull();
    const truncated = longPacket(LongType.Initial, 0, new Uint8Array(30)).subarray(0, 30);
    expect(parseLongHeader(truncated)!.token).toBeNull();
  });

  it('counts the packets a datagram coalesces and notices a Handshake packet (§12.2)', () => {
    const initial = longPacket(LongType.Initial, 40);
    const handshake = longPacket(LongType.Handshake, 60);
    const short = Uint8Array.of(0x40, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0);
    expect(datagramPackets(initial)).toEqual({ count: 1, hasHandshake: false });
    expect(datagramPackets(Buffer.concat([initial, handshake]))).toEqual({ count: 2, hasHandshake: true });
    expect(datagramPackets(Buffer.concat([initial, handshake, short]))).toEqual({ count: 3, hasHandshake: true });
    expect(datagramPackets(short)).toEqual({ count: 1, hasHandshake: false });
  });

  it('never throws and never counts more packets than bytes (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
      const r = datagramPackets(b);
      expect(r.count).toBeLessThanOrEqual(Math.max(0, b.length));
    }));
  });
});
