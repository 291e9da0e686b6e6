import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeGoaway, encodeDataFrame, encodeFrame, encodeFrameHeader, encodeGoawayFrame, encodeHeadersFrame,
  FRAME_DATA, FRAME_DECODER_MAX_BUFFERED, FRAME_GOAWAY, FRAME_HEADERS, FRAME_SETTINGS, FrameDecoder, MAX_HEADERS_FRAME_SIZE, parseFrameHeader,
  type FrameEvent,
} from '../../../../server/h3/wire/frames.js';
import { H3_EXCESSIVE_LOAD, H3_FRAME_ERROR, H3_FRAME_UNEXPECTED } from '../../../../server/h3/wire/errors.js';
import { concatBytes } from '../../../../server/h3/wire/bytes.js';
import { encodeVarint } from '../../../../server/h3/wire/varint.js';

/** Drains the decoder: all events up to need-more or an error. */
function drain(d: FrameDecoder): FrameEvent[] {
  const out: FrameEvent[] = [];
  for (let i = 0; i < 10_000; i++) {
    const e = d.next();
    if (e.status === 'need-more') return out;
    out.push(e.status === 'data' ? { ...e, chunk: e.chunk.slice() } : e);
    if (e.status === 'error' || e.status === 'webtransport-stream') return out;
  }
  throw new Error('decoder did not settle');
}

/** Feeds `bytes` split at the given cut points and collects events, merging DATA pieces per frame. */
function decodeSplit(bytes: Uint8Array, cuts: number[], opts = {}): { events: FrameEvent[]; finish: ReturnType<FrameDecoder['finish']> } {
  const d = new FrameDecoder(opts);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let prev = 0;
  const events: FrameEvent[] = [];
  for (const p of [...points, bytes.length]) {
    d.push(bytes.subarray(prev, p));
    prev = p;
    events.push(...drain(d));
  }
  return { events: mergeData(events), finish: d.finish() };
}

function mergeData(events: FrameEvent[]): FrameEvent[] {
  const out: FrameEvent[] = [];
  let pending: Uint8Array[] | null = null;
  for (const e of events) {
    if (e.status === 'data') {
      pending = pending ?? [];
      pending.push(e.chunk);
      if (e.end) {
        out.push({ status: 'data', chunk: concatBytes(pending), end: true });
        pending = null;
      }
    } else out.push(e);
  }
  return out;
}

describe('HTTP/3 frames (RFC 9114 §7)', () => {
  it('parses a frame header incrementally', () => {
    const f = encodeFrame(FRAME_HEADERS, new Uint8Array(300));
    expect(parseFrameHeader(f)).toMatchObject({ status: 'ok', type: 1, length: 300, headerLength: 3 });
    expect(parseFrameHeader(f.subarray(0, 2))).toEqual({ status: 'need-more' });
    expect(parseFrameHeader(new Uint8Array(0))).toEqual({ status: 'need-more' });
    expect(Array.from(encodeFrameHeader(FRAME_DATA, 300))).toEqual([0x00, 0x41, 0x2c]);
  });

  it('decodes a sequence of frames, skipping unknown and reserved types', () => {
    const bytes = concatBytes([
      encodeFrame(FRAME_SETTINGS, Uint8Array.of(1, 0)),
      encodeFrame(0x21, new Uint8Array(5)), // reserved 0x1f*N+0x21 (RFC 9114 §7.2.8)
      encodeFrame(2n ** 60n, Uint8Array.of(9)), // unknown type beyond 2^53
      encodeHeadersFrame(Uint8Array.of(0, 0, 0xd1)),
      encodeDataFrame(Uint8Array.of(1, 2, 3)),
      encodeDataFrame(new Uint8Array(0)),
      encodeGoawayFrame(8),
    ]);
    const { events, finish } = decodeSplit(bytes, []);
    expect(finish).toBeNull();
    expect(events.map((e) => e.status)).toEqual(['frame', 'skipped', 'skipped', 'frame', 'data', 'data', 'frame']);
    expect(events[0]).toMatchObject({ type: FRAME_SETTINGS });
    expect(events[1]).toMatchObject({ type: 0x21, length: 5 });
    expect(events[3]).toMatchObject({ type: FRAME_HEADERS });
    expect(Array.from((events[4] as { chunk: Uint8Array }).chunk)).toEqual([1, 2, 3]);
    expect((events[5] as { chunk: Uint8Array }).chunk.length).toBe(0);
    const g = events[6] as { type: number; payload: Uint8Array };
    expect(g.type).toBe(FRAME_GOAWAY);
    expect(decodeGoaway(g.payload)).toEqual({ status: 'ok', id: 8, safe: true });
  });

  it('gives the same frames however the bytes are split (property)', () => {
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((p) => encodeHeadersFrame(p)),
      fc.uint8Array({ maxLength: 200 }).map((p) => encodeDataFrame(p)),
      fc.tuple(fc.integer({ min: 0x21, max: 0x3fffffff }), fc.uint8Array({ maxLength: 30 })).filter(([t]) => ![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xd, 0x41].includes(t)).map(([t, p]) => encodeFrame(t, p)),
      fc.nat().map((id) => encodeGoawayFrame(id)),
    );
    fc.assert(fc.property(fc.array(frame, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), (frames, cuts) => {
      const bytes = concatBytes(frames);
      const whole = decodeSplit(bytes, []);
      const split = decodeSplit(bytes, cuts);
      expect(split.events).toEqual(whole.events);
      expect(whole.finish).toBeNull();
      expect(whole.events.length).toBe(frames.length);
    }), { numRuns: 500 });
  });

  it.each([0x02, 0x06, 0x08, 0x09])('rejects HTTP/2-only frame type 0x%s as H3_FRAME_UNEXPECTED', (t) => {
    const { events } = decodeSplit(encodeFrame(t, Uint8Array.of(0)), []);
    expect(events.at(-1)).toMatchObject({ status: 'error', code: H3_FRAME_UNEXPECTED });
  });

  it('rejects an over-limit HEADERS frame from its header alone, and stays failed', () => {
    const d = new FrameDecoder();
    d.push(encodeFrameHeader(FRAME_HEADERS, MAX_HEADERS_FRAME_SIZE + 1));
    expect(d.next()).toMatchObject({ status: 'error', code: H3_EXCESSIVE_LOAD });
    d.push(encodeDataFrame(Uint8Array.of(1)));
    expect(d.next()).toMatchObject({ status: 'error', code: H3_EXCESSIVE_LOAD });
    const g = new FrameDecoder();
    g.push(encodeFrame(FRAME_GOAWAY, new Uint8Array(9)));
    expect(g.next()).toMatchObject({ status: 'error', code: H3_EXCESSIVE_LOAD });
  });

  it('accepts exactly MAX_HEADERS_FRAME_SIZE', () => {
    const { events } = decodeSplit(encodeHeadersFrame(new Uint8Array(MAX_HEADERS_FRAME_SIZE)), [7, 9000]);
    expect(events).toHaveLength(1);
    expect((events[0] as { payload: Uint8Array }).payload.length).toBe(MAX_HEADERS_FRAME_SIZE);
  });

  it('streams DATA payloads in pieces without waiting for the whole frame', () => {
    const d = new FrameDecoder();
    d.push(encodeFrameHeader(FRAME_DATA, 1000));
    d.push(new Uint8Array(400).fill(7));
    const e = d.next();
    expect(e).toMatchObject({ status: 'data', end: false });
    expect((e as { chunk: Uint8Array }).chunk.length).toBe(400);
    expect(d.next()).toEqual({ status: 'need-more' });
    expect(d.finish()).toMatchObject({ status: 'error', code: H3_FRAME_ERROR });
  });

  it('reports a stream that ends inside a frame header or payload as H3_FRAME_ERROR', () => {
    const f = encodeHeadersFrame(new Uint8Array(10));
    for (let cut = 1; cut < f.length; cut++) {
      const d = new FrameDecoder();
      d.push(f.subarray(0, cut));
      expect(drain(d)).toEqual([]);
      expect(d.finish()).toMatchObject({ status: 'error', code: H3_FRAME_ERROR });
    }
  });

  it('decodes the WebTransport signal only at the start of a stream and only when asked', () => {
    const head = concatBytes([encodeVarint(0x41), encodeVarint(4), Uint8Array.of(9, 9)]);
    const d = new FrameDecoder({ acceptWebTransportStream: true });
    d.push(head.subarray(0, 1));
    expect(d.next()).toEqual({ status: 'need-more' });
    d.push(head.subarray(1));
    const e = d.next();
    expect(e).toMatchObject({ status: 'webtransport-stream', sessionId: 4 });
    expect(Array.from((e as { rest: Uint8Array }).rest)).toEqual([9, 9]);
    expect(d.finish()).toBeNull();
    expect(decodeSplit(head, [])).toMatchObject({ events: [{ status: 'error', code: H3_FRAME_ERROR }] });
    const late = concatBytes([encodeHeadersFrame(Uint8Array.of(0, 0)), head]);
    expect(decodeSplit(late, [], { acceptWebTransportStream: true }).events.at(-1)).toMatchObject({ status: 'error', code: H3_FRAME_ERROR });
  });

  it('rejects GOAWAY payloads that are not exactly one varint', () => {
    expect(decodeGoaway(new Uint8Array(0))).toMatchObject({ status: 'error', code: H3_FRAME_ERROR });
    expect(decodeGoaway(Uint8Array.of(4, 0))).toMatchObject({ status: 'error', code: H3_FRAME_ERROR });
    expect(decodeGoaway(Uint8Array.of(0x40))).toMatchObject({ status: 'error', code: H3_FRAME_ERROR });
  });

  it('holds at most FRAME_DECODER_MAX_BUFFERED bytes against a peer trickling or flooding', () => {
    const d = new FrameDecoder();
    let max = 0;
    // Trickle a maximal HEADERS frame one byte at a time, then a 1 MB DATA frame and a 1 MB unknown
    // frame in 1000-byte pieces: nothing accumulates beyond the limit.
    const stream = concatBytes([
      encodeHeadersFrame(new Uint8Array(MAX_HEADERS_FRAME_SIZE)),
      encodeDataFrame(new Uint8Array(1 << 20)),
      encodeFrame(0x5555, new Uint8Array(1 << 20)),
    ]);
    let frames = 0;
    for (let i = 0; i < stream.length; i += i < MAX_HEADERS_FRAME_SIZE + 8 ? 1 : 1000) {
      d.push(stream.subarray(i, i < MAX_HEADERS_FRAME_SIZE + 8 ? i + 1 : i + 1000));
      for (let e = d.next(); e.status !== 'need-more'; e = d.next()) {
        expect(e.status).not.toBe('error');
        if (e.status === 'frame' || e.status === 'skipped' || (e.status === 'data' && e.end)) frames++;
      }
      max = Math.max(max, d.bufferedBytes);
    }
    expect(frames).toBe(3);
    expect(max).toBeLessThanOrEqual(FRAME_DECODER_MAX_BUFFERED);
    expect(d.finish()).toBeNull();
  });

  it('never throws on random or mutated input (property)', () => {
    const valid = concatBytes([encodeFrame(FRAME_SETTINGS, Uint8Array.of(1, 0, 7, 0)), encodeHeadersFrame(new Uint8Array(20)), encodeDataFrame(new Uint8Array(30))]);
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }).map((muts) => {
        const b = valid.slice();
        for (const [i, v] of muts) b[i] = v;
        return b;
      }),
    );
    fc.assert(fc.property(input, fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(), (bytes, cuts, wt) => {
      const r = decodeSplit(bytes, cuts, { acceptWebTransportStream: wt });
      for (const e of r.events) expect(['frame', 'data', 'skipped', 'webtransport-stream', 'error']).toContain(e.status);
      expect(r.finish === null || r.finish.status === 'error').toBe(true);
    }), { numRuns: 3000 });
  });
});
