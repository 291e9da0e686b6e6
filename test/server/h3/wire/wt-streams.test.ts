import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  encodeWtBidiStreamHeader, encodeWtUniStreamHeader, encodeUniStreamType, parseBidiStreamHeader, parseUniStreamHeader,
} from '../../../../server/h3/wire/wt-streams.js';
import { H3_ID_ERROR } from '../../../../server/h3/wire/errors.js';
import { encodeVarint } from '../../../../server/h3/wire/varint.js';
import { concatBytes } from '../../../../server/h3/wire/bytes.js';

describe('stream headers (RFC 9114 §6.2, draft-ietf-webtrans-http3 §4)', () => {
  it('encodes WebTransport headers as in the draft', () => {
    expect(Array.from(encodeWtUniStreamHeader(0))).toEqual([0x40, 0x54, 0x00]);
    expect(Array.from(encodeWtBidiStreamHeader(4))).toEqual([0x40, 0x41, 0x04]);
    expect(() => encodeWtBidiStreamHeader(3)).toThrow(RangeError);
    expect(() => encodeWtUniStreamHeader(-4)).toThrow(RangeError);
  });

  it('classifies unidirectional stream types', () => {
    expect(parseUniStreamHeader(encodeUniStreamType(0))).toEqual({ status: 'ok', kind: 'control', headerLength: 1 });
    expect(parseUniStreamHeader(Uint8Array.of(1))).toMatchObject({ kind: 'push' });
    expect(parseUniStreamHeader(Uint8Array.of(2))).toMatchObject({ kind: 'qpack-encoder' });
    expect(parseUniStreamHeader(Uint8Array.of(3))).toMatchObject({ kind: 'qpack-decoder' });
    expect(parseUniStreamHeader(concatBytes([encodeWtUniStreamHeader(8), Uint8Array.of(1, 2)]))).toEqual({ status: 'ok', kind: 'webtransport', sessionId: 8, headerLength: 3 });
    expect(parseUniStreamHeader(encodeVarint(0x21))).toMatchObject({ kind: 'unknown', type: 0x21, typeSafe: true });
    expect(parseUniStreamHeader(encodeVarint(2n ** 61n))).toMatchObject({ kind: 'unknown', typeSafe: false });
  });

  it('needs more bytes while a header is incomplete', () => {
    const h = encodeWtUniStreamHeader(1_000_000);
    for (let i = 0; i < h.length; i++) expect(parseUniStreamHeader(h.subarray(0, i))).toEqual({ status: 'need-more' });
    const b = encodeWtBidiStreamHeader(1_000_000);
    for (let i = 0; i < b.length; i++) expect(parseBidiStreamHeader(b.subarray(0, i))).toEqual({ status: 'need-more' });
  });

  it('rejects a session id that is not a client bidi stream id as H3_ID_ERROR', () => {
    for (const bad of [1, 2, 3, 7, 2 ** 53 + 4]) {
      const uni = concatBytes([encodeVarint(0x54), encodeVarint(BigInt(bad))]);
      expect(parseUniStreamHeader(uni)).toMatchObject({ status: 'error', code: H3_ID_ERROR });
      const bidi = concatBytes([encodeVarint(0x41), encodeVarint(BigInt(bad))]);
      expect(parseBidiStreamHeader(bidi)).toMatchObject({ status: 'error', code: H3_ID_ERROR });
    }
  });

  it('tells WebTransport bidi streams from HTTP request streams', () => {
    expect(parseBidiStreamHeader(encodeWtBidiStreamHeader(0))).toEqual({ status: 'ok', kind: 'webtransport', sessionId: 0, headerLength: 3 });
    expect(parseBidiStreamHeader(Uint8Array.of(0x01, 0x05))).toEqual({ status: 'ok', kind: 'http' });
    // A lone byte 0x41 is the first half of a two-byte varint, not the signal.
    expect(parseBidiStreamHeader(Uint8Array.of(0x41))).toEqual({ status: 'need-more' });
    expect(parseBidiStreamHeader(Uint8Array.of(0x00, 0x41))).toEqual({ status: 'ok', kind: 'http' });
  });

  it('round-trips session ids and never throws on random bytes (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 50 }), (n) => {
      const id = n * 4;
      expect(parseUniStreamHeader(encodeWtUniStreamHeader(id))).toMatchObject({ kind: 'webtransport', sessionId: id });
      expect(parseBidiStreamHeader(encodeWtBidiStreamHeader(id))).toMatchObject({ kind: 'webtransport', sessionId: id });
    }), { numRuns: 1000 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 20 }), (b) => {
      expect(['ok', 'need-more', 'error']).toContain(parseUniStreamHeader(b).status);
      expect(['ok', 'need-more', 'error']).toContain(parseBidiStreamHeader(b).status);
    }), { numRuns: 3000 });
  });
});
