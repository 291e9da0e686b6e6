import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { datagramPrefixLength, decodeDatagram, encodeDatagram } from '../../../../server/h3/wire/datagram.js';
import { H3_DATAGRAM_ERROR } from '../../../../server/h3/wire/errors.js';
import { encodeVarint } from '../../../../server/h3/wire/varint.js';
import { concatBytes } from '../../../../server/h3/wire/bytes.js';

describe('HTTP datagrams (RFC 9297 §2.1)', () => {
  it('prefixes the quarter stream id', () => {
    expect(Array.from(encodeDatagram(0, Uint8Array.of(7)))).toEqual([0, 7]);
    expect(Array.from(encodeDatagram(4, Uint8Array.of(7, 8)))).toEqual([1, 7, 8]);
    expect(Array.from(encodeDatagram(256, new Uint8Array(0)))).toEqual([0x40, 0x40]);
    expect(datagramPrefixLength(252)).toBe(1);
    expect(datagramPrefixLength(256)).toBe(2);
    expect(() => encodeDatagram(2, new Uint8Array(0))).toThrow(RangeError);
  });

  it('decodes stream id and payload (view, no copy)', () => {
    const d = encodeDatagram(8, Uint8Array.of(1, 2, 3));
    const r = decodeDatagram(d);
    expect(r).toMatchObject({ status: 'ok', streamId: 8, quarterStreamId: 2 });
    if (r.status === 'ok') {
      expect(Array.from(r.payload)).toEqual([1, 2, 3]);
      expect(r.payload.buffer).toBe(d.buffer);
    }
    expect(decodeDatagram(Uint8Array.of(0))).toMatchObject({ status: 'ok', streamId: 0, payload: new Uint8Array(0) });
  });

  it('rejects empty, truncated and out-of-range prefixes with H3_DATAGRAM_ERROR', () => {
    expect(decodeDatagram(new Uint8Array(0))).toMatchObject({ status: 'error', code: H3_DATAGRAM_ERROR });
    expect(decodeDatagram(Uint8Array.of(0x80, 0))).toMatchObject({ status: 'error', code: H3_DATAGRAM_ERROR });
    expect(decodeDatagram(concatBytes([encodeVarint(2n ** 60n), Uint8Array.of(1)]))).toMatchObject({ status: 'error', code: H3_DATAGRAM_ERROR });
    expect(decodeDatagram(encodeVarint(2n ** 60n - 1n))).toEqual({ status: 'unknown-stream' });
  });

  it('round-trips and never throws (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 50 }), fc.uint8Array({ maxLength: 1200 }), (q, p) => {
      const r = decodeDatagram(encodeDatagram(q * 4, p));
      expect(r.status === 'ok' && r.streamId === q * 4 && Buffer.from(r.payload).equals(Buffer.from(p))).toBe(true);
    }), { numRuns: 1000 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 20 }), (b) => {
      expect(['ok', 'unknown-stream', 'error']).toContain(decodeDatagram(b).status);
    }), { numRuns: 3000 });
  });
});
