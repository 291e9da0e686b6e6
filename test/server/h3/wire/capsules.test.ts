import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CAPSULE_CLOSE_WEBTRANSPORT_SESSION, CAPSULE_PARSER_MAX_BUFFERED, CapsuleParser, encodeCapsule, encodeCloseSessionCapsule, encodeCloseSessionData,
  encodeDrainSessionCapsule, MAX_CLOSE_REASON_BYTES, truncateCloseReason, type CapsuleEvent,
} from '../../../../server/h3/wire/capsules.js';
import { FrameDecoder } from '../../../../server/h3/wire/frames.js';
import { H3_MESSAGE_ERROR } from '../../../../server/h3/wire/errors.js';
import { concatBytes, ByteWriter } from '../../../../server/h3/wire/bytes.js';

function parseAll(bytes: Uint8Array, cuts: number[] = []): { events: CapsuleEvent[]; finish: ReturnType<CapsuleParser['finish']> } {
  const p = new CapsuleParser();
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const events: CapsuleEvent[] = [];
  let prev = 0;
  for (const x of [...points, bytes.length]) {
    p.push(bytes.subarray(prev, x));
    prev = x;
    for (let i = 0; i < 1000; i++) {
      const e = p.next();
      if (e.status === 'need-more') break;
      events.push(e);
      if (e.status === 'error') break;
    }
  }
  return { events, finish: p.finish() };
}

describe('capsules (RFC 9297 §3.2, draft-ietf-webtrans-http3 §5-6)', () => {
  it('encodes CLOSE_WEBTRANSPORT_SESSION as type 0x2843, 32-bit code, UTF-8 reason', () => {
    const c = encodeCloseSessionCapsule(0x01020304, 'bye');
    expect(Buffer.from(c).toString('hex')).toBe('6843' + '07' + '01020304' + Buffer.from('bye').toString('hex'));
    expect(Buffer.from(encodeDrainSessionCapsule()).toString('hex')).toBe('8000' + '78ae' + '00');
    expect(() => encodeCloseSessionCapsule(2 ** 32, '')).toThrow(RangeError);
  });

  it('decodes close, drain, and skips unknown capsules, however split (property)', () => {
    const bytes = concatBytes([
      encodeCapsule(0x00, Uint8Array.of(1, 2, 3)), // DATAGRAM capsule: skipped
      encodeDrainSessionCapsule(),
      encodeCapsule(0x190b4d3d, Uint8Array.of(0x44, 0)), // WT_MAX_DATA: skipped
      encodeCloseSessionCapsule(4009, 'server draining é'),
    ]);
    const expected = [
      { status: 'skipped', type: 0, length: 3 },
      { status: 'drain' },
      { status: 'skipped', type: 0x190b4d3d, length: 2 },
      { status: 'close', code: 4009, reason: 'server draining é' },
    ];
    expect(parseAll(bytes)).toEqual({ events: expected, finish: null });
    fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 6 }), (cuts) => {
      expect(parseAll(bytes, cuts)).toEqual({ events: expected, finish: null });
    }), { numRuns: 300 });
  });

  it('carries a close capsule in a DATA frame on the CONNECT stream', () => {
    const d = new FrameDecoder();
    d.push(encodeCloseSessionData(7, 'x'));
    const e = d.next();
    expect(e.status).toBe('data');
    if (e.status !== 'data') return;
    expect(e.end).toBe(true);
    expect(parseAll(e.chunk).events).toEqual([{ status: 'close', code: 7, reason: 'x' }]);
  });

  it('holds at most CAPSULE_PARSER_MAX_BUFFERED bytes against a peer trickling or flooding', () => {
    const p = new CapsuleParser();
    const stream = concatBytes([encodeCloseSessionCapsule(1, 'r'.repeat(MAX_CLOSE_REASON_BYTES)), encodeCapsule(0x77, new Uint8Array(1 << 20))]);
    let max = 0;
    const got: string[] = [];
    for (let i = 0; i < stream.length; i += 7) {
      p.push(stream.subarray(i, i + 7));
      for (let e = p.next(); e.status !== 'need-more'; e = p.next()) got.push(e.status);
      max = Math.max(max, p.bufferedBytes);
    }
    expect(got).toEqual(['close', 'skipped']);
    expect(max).toBeLessThanOrEqual(CAPSULE_PARSER_MAX_BUFFERED);
  });

  it('truncates long reasons at a character boundary', () => {
    const long = 'é'.repeat(600); // 1200 bytes
    const t = truncateCloseReason(long);
    expect(t.length).toBe(MAX_CLOSE_REASON_BYTES);
    expect(new TextDecoder().decode(t)).toBe('é'.repeat(512));
    const t2 = truncateCloseReason('a' + '€'.repeat(400)); // 1 + 1200 bytes: cut must not split '€'
    expect(t2.length).toBe(1 + 3 * 341);
    const r = parseAll(encodeCloseSessionCapsule(1, long)).events[0];
    expect(r).toMatchObject({ status: 'close', code: 1 });
  });

  it('rejects malformed WebTransport capsules with H3_MESSAGE_ERROR', () => {
    const tooLong = new ByteWriter().varint(CAPSULE_CLOSE_WEBTRANSPORT_SESSION).varint(4 + MAX_CLOSE_REASON_BYTES + 1).finish();
    expect(parseAll(tooLong).events).toEqual([expect.objectContaining({ status: 'error', code: H3_MESSAGE_ERROR })]);
    expect(parseAll(encodeCapsule(CAPSULE_CLOSE_WEBTRANSPORT_SESSION, Uint8Array.of(0, 0, 1))).events[0]).toMatchObject({ status: 'error', code: H3_MESSAGE_ERROR });
    expect(parseAll(encodeCapsule(0x78ae, Uint8Array.of(0))).events[0]).toMatchObject({ status: 'error', code: H3_MESSAGE_ERROR });
    // Sticky: later valid capsules are not decoded.
    const p = new CapsuleParser();
    p.push(encodeCapsule(0x78ae, Uint8Array.of(0)));
    p.next();
    p.push(encodeDrainSessionCapsule());
    expect(p.next()).toMatchObject({ status: 'error' });
  });

  it('treats a stream ending inside any capsule as H3_MESSAGE_ERROR', () => {
    const c = encodeCloseSessionCapsule(5, 'reason');
    for (let cut = 1; cut < c.length; cut++) {
      const r = parseAll(c.subarray(0, cut));
      expect(r.events).toEqual([]);
      expect(r.finish).toMatchObject({ status: 'error', code: H3_MESSAGE_ERROR });
    }
    const u = encodeCapsule(0x1234, new Uint8Array(10));
    expect(parseAll(u.subarray(0, 5)).finish).toMatchObject({ status: 'error', code: H3_MESSAGE_ERROR });
  });

  it('round-trips close capsules (property) and never throws on random or mutated bytes', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.string({ maxLength: 300 }), (code, reason) => {
      const r = parseAll(encodeCloseSessionCapsule(code, reason));
      expect(r.events).toEqual([{ status: 'close', code, reason: new TextDecoder().decode(truncateCloseReason(reason)) }]);
    }), { numRuns: 1000 });
    const valid = concatBytes([encodeDrainSessionCapsule(), encodeCloseSessionCapsule(9, 'abc')]);
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }).map((m) => {
        const b = valid.slice();
        for (const [i, v] of m) b[i] = v;
        return b;
      }),
    );
    fc.assert(fc.property(input, fc.array(fc.nat(), { maxLength: 4 }), (b, cuts) => {
      const r = parseAll(b, cuts);
      for (const e of r.events) expect(['close', 'drain', 'skipped', 'error']).toContain(e.status);
    }), { numRuns: 3000 });
  });
});
