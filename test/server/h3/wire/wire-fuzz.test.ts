/**
 * Cross-decoder fuzzing: random bytes and mutations of valid encodings never make a decoder
 * throw, every outcome is one of the documented results with a documented error code, errors are
 * sticky, and a truncated stream decodes to a prefix of what the whole stream gives (never to
 * different content). Scale with TICKWIRE_FUZZ_SCALE (see fuzz-support.ts).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fuzzInput, runs } from './fuzz-support.js';
import {
  encodeDataFrame, encodeFrame, encodeGoawayFrame, encodeHeadersFrame, FrameDecoder, FRAME_SETTINGS, decodeGoaway, type FrameEvent,
} from '../../../../server/h3/wire/frames.js';
import { decodeSettings, encodeSettings, SERVER_SETTINGS } from '../../../../server/h3/wire/settings.js';
import { CapsuleParser, encodeCapsule, encodeCloseSessionCapsule, encodeDrainSessionCapsule, type CapsuleEvent } from '../../../../server/h3/wire/capsules.js';
import { decodeDatagram, encodeDatagram } from '../../../../server/h3/wire/datagram.js';
import { encodeWtBidiStreamHeader, encodeWtUniStreamHeader, parseBidiStreamHeader, parseUniStreamHeader } from '../../../../server/h3/wire/wt-streams.js';
import { decodeFieldSection, encodeFieldSection, huffmanDecode, huffmanEncode } from '../../../../server/h3/wire/qpack/index.js';
import { buildConnectRequestHeaders, validateConnectRequest } from '../../../../server/h3/wire/connect-request.js';
import { concatBytes } from '../../../../server/h3/wire/bytes.js';
import { CHROMIUM_156, FIREFOX_ESR_153 } from './qpack/browser-blocks.js';
import {
  H3_DATAGRAM_ERROR, H3_EXCESSIVE_LOAD, H3_FRAME_ERROR, H3_FRAME_UNEXPECTED, H3_ID_ERROR, H3_MESSAGE_ERROR, H3_SETTINGS_ERROR,
  QPACK_DECOMPRESSION_FAILED,
} from '../../../../server/h3/wire/errors.js';

const connect = encodeFieldSection(buildConnectRequestHeaders({ authority: '127.0.0.1:4433', path: '/wt?x=1', origin: 'http://127.0.0.1:8080' }), { huffman: true });
const controlStream = concatBytes([encodeFrame(FRAME_SETTINGS, encodeSettings(SERVER_SETTINGS)), encodeFrame(0x21, Uint8Array.of(1, 2)), encodeGoawayFrame(4)]);
const requestStream = concatBytes([encodeHeadersFrame(connect), encodeDataFrame(concatBytes([encodeDrainSessionCapsule(), encodeCloseSessionCapsule(4009, 'drain')]))]);
const wtStream = concatBytes([encodeWtBidiStreamHeader(4), new Uint8Array(40).fill(9)]);
const capsuleStream = concatBytes([encodeCapsule(0x00, Uint8Array.of(1, 2, 3)), encodeDrainSessionCapsule(), encodeCloseSessionCapsule(7, 'bye')]);

/** All events until need-more, an error or the WT detach; DATA pieces copied. */
function drainFrames(d: FrameDecoder): FrameEvent[] {
  const out: FrameEvent[] = [];
  for (let i = 0; i < 100_000; i++) {
    const e = d.next();
    if (e.status === 'need-more') return out;
    out.push(e.status === 'data' ? { ...e, chunk: e.chunk.slice() } : e);
    if (e.status === 'error' || e.status === 'webtransport-stream') return out;
  }
  throw new Error('frame decoder did not settle');
}

/** A canonical view of frame events: DATA pieces merged per frame, so splits do not matter. */
function canonicalFrames(events: FrameEvent[]): unknown[] {
  const out: unknown[] = [];
  let data: Uint8Array[] | null = null;
  for (const e of events) {
    if (e.status === 'data') {
      (data ??= []).push(e.chunk);
      if (e.end) {
        out.push({ data: Array.from(concatBytes(data)) });
        data = null;
      }
    } else if (e.status === 'frame') out.push({ frame: e.type, payload: Array.from(e.payload) });
    else if (e.status === 'webtransport-stream') out.push({ wt: e.sessionId, rest: Array.from(e.rest) });
    else out.push(e);
  }
  if (data) out.push({ partialData: Array.from(concatBytes(data)) });
  return out;
}

function decodeFrames(bytes: Uint8Array, cuts: number[], wt: boolean): { events: unknown[]; finish: unknown } {
  const d = new FrameDecoder({ acceptWebTransportStream: wt });
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let prev = 0;
  const events: FrameEvent[] = [];
  for (const p of [...points, bytes.length]) {
    const last = events.at(-1);
    if (last?.status === 'webtransport-stream') {
      // Detached: the caller reads later bytes as raw stream payload.
      events[events.length - 1] = { ...last, rest: concatBytes([last.rest, bytes.subarray(prev, p)]) };
      prev = p;
      continue;
    }
    d.push(bytes.subarray(prev, p));
    prev = p;
    events.push(...drainFrames(d));
    if (events.at(-1)?.status === 'error') break; // sticky: later calls repeat the same error
  }
  const finish = d.finish();
  if (finish) expect(d.next()).toEqual(finish); // sticky
  return { events: canonicalFrames(events), finish };
}

const FRAME_ERRORS = [H3_FRAME_ERROR, H3_FRAME_UNEXPECTED, H3_EXCESSIVE_LOAD];

describe('wire fuzzing', () => {
  it('frame decoder: never throws, documented codes only, split-invariant', () => {
    fc.assert(fc.property(fuzzInput([controlStream, requestStream, wtStream]), fc.array(fc.nat(), { maxLength: 5 }), fc.boolean(), (b, cuts, wt) => {
      const whole = decodeFrames(b, [], wt);
      const split = decodeFrames(b, cuts, wt);
      // Splitting the input never changes the decoded content, except where a partial DATA frame
      // is left at the end (it shows as pieces only when split).
      const strip = (ev: unknown[]) => ev.filter((e) => !(e && typeof e === 'object' && 'partialData' in e));
      expect(strip(split.events)).toEqual(strip(whole.events));
      for (const e of whole.events) {
        if (e && typeof e === 'object' && 'status' in e && (e as { status: string }).status === 'error') {
          expect(FRAME_ERRORS).toContain((e as unknown as { code: number }).code);
        }
      }
    }), { numRuns: runs(3000) });
  });

  it('frame decoder: a truncated stream decodes to a prefix of the whole stream', () => {
    fc.assert(fc.property(fc.constantFrom(controlStream, requestStream, wtStream), fc.nat(), (b, n) => {
      const cut = n % (b.length + 1);
      // Raw WebTransport payload after the header is a byte stream: compare it as a prefix.
      const norm = (ev: unknown[]) => ev
        .filter((e) => !(e && typeof e === 'object' && 'partialData' in e))
        .map((e) => (e && typeof e === 'object' && 'wt' in e ? { wt: (e as { wt: number }).wt } : e));
      const restOf = (ev: unknown[]) => (ev.find((e) => e && typeof e === 'object' && 'rest' in e) as { rest: number[] } | undefined)?.rest ?? [];
      const wholeEvents = decodeFrames(b, [], true).events;
      const whole = norm(wholeEvents);
      const part = decodeFrames(b.subarray(0, cut), [], true);
      const complete = norm(part.events);
      expect(whole.slice(0, complete.length)).toEqual(complete);
      expect(restOf(wholeEvents).slice(0, restOf(part.events).length)).toEqual(restOf(part.events));
      // Ending mid-frame is H3_FRAME_ERROR, never a frame with made-up content.
      if (complete.length < whole.length && cut < b.length) {
        const atBoundary = part.finish === null;
        if (!atBoundary) expect(part.finish).toMatchObject({ status: 'error', code: H3_FRAME_ERROR });
      }
    }), { numRuns: runs(1000) });
  });

  it('capsule parser: never throws, split-invariant, truncation is an H3_MESSAGE_ERROR at the end', () => {
    const parse = (bytes: Uint8Array, cuts: number[]): { events: CapsuleEvent[]; finish: unknown } => {
      const p = new CapsuleParser();
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      let prev = 0;
      const events: CapsuleEvent[] = [];
      for (const x of [...points, bytes.length]) {
        p.push(bytes.subarray(prev, x));
        prev = x;
        for (let i = 0; i < 10_000; i++) {
          const e = p.next();
          if (e.status === 'need-more') break;
          events.push(e);
          if (e.status === 'error') break;
        }
        if (events.at(-1)?.status === 'error') break; // sticky: later calls repeat the same error
      }
      return { events, finish: p.finish() };
    };
    fc.assert(fc.property(fuzzInput([capsuleStream]), fc.array(fc.nat(), { maxLength: 5 }), (b, cuts) => {
      const whole = parse(b, []);
      expect(parse(b, cuts)).toEqual(whole);
      for (const e of whole.events) if (e.status === 'error') expect(e.code).toBe(H3_MESSAGE_ERROR);
      if (whole.finish !== null) expect(whole.finish).toMatchObject({ code: H3_MESSAGE_ERROR });
    }), { numRuns: runs(3000) });
    const full = parse(capsuleStream, []).events;
    for (let cut = 0; cut <= capsuleStream.length; cut++) {
      const part = parse(capsuleStream.subarray(0, cut), []);
      expect(full.slice(0, part.events.length)).toEqual(part.events);
    }
  });

  it('SETTINGS, GOAWAY, datagrams and stream headers: never throw, documented codes only', () => {
    const settings = encodeSettings(SERVER_SETTINGS);
    fc.assert(fc.property(fuzzInput([settings]), (b) => {
      const s = decodeSettings(b);
      if (s.status === 'error') expect([H3_SETTINGS_ERROR, H3_FRAME_ERROR]).toContain(s.code);
      const g = decodeGoaway(b);
      if (g.status === 'error') expect(g.code).toBe(H3_FRAME_ERROR);
    }), { numRuns: runs(3000) });
    fc.assert(fc.property(fuzzInput([encodeDatagram(0, Uint8Array.of(1, 2)), encodeDatagram(4 * 1000, new Uint8Array(30))]), (b) => {
      const d = decodeDatagram(b);
      if (d.status === 'error') expect(d.code).toBe(H3_DATAGRAM_ERROR);
      if (d.status === 'ok') expect(d.streamId % 4).toBe(0);
    }), { numRuns: runs(3000) });
    fc.assert(fc.property(fuzzInput([encodeWtUniStreamHeader(8), encodeWtBidiStreamHeader(8), Uint8Array.of(0), Uint8Array.of(2)]), (b) => {
      for (const r of [parseUniStreamHeader(b), parseBidiStreamHeader(b)]) {
        if (r.status === 'error') expect(r.code).toBe(H3_ID_ERROR);
        if (r.status === 'ok' && 'headerLength' in r) expect(r.headerLength).toBeLessThanOrEqual(b.length);
      }
    }), { numRuns: runs(3000) });
  });

  it('HEADERS -> QPACK -> CONNECT validation (the server path): never throws, documented outcomes only', () => {
    fc.assert(fc.property(fuzzInput([connect, CHROMIUM_156, FIREFOX_ESR_153, encodeFieldSection(buildConnectRequestHeaders({ authority: 'a', path: '/' }), { huffman: false })], 80), (block) => {
      const f = decodeFieldSection(block);
      if (f.status === 'error') {
        expect([QPACK_DECOMPRESSION_FAILED, H3_EXCESSIVE_LOAD]).toContain(f.code);
        return;
      }
      const r = validateConnectRequest(f.headers);
      expect(['ok', 'not-webtransport', 'error']).toContain(r.status);
      if (r.status === 'error') expect(r.code).toBe(H3_MESSAGE_ERROR);
      if (r.status === 'ok') {
        expect(r.request.path.startsWith('/')).toBe(true);
        expect(r.request.authority.length).toBeGreaterThan(0);
      }
    }), { numRuns: runs(5000) });
  });

  it('Huffman: mutated encodings never throw and never exceed the limit', () => {
    const valid = [huffmanEncode(Buffer.from('http://127.0.0.1:8080')), huffmanEncode(Buffer.from('webtransport'))];
    fc.assert(fc.property(fuzzInput(valid), fc.integer({ min: 0, max: 40 }), (b, limit) => {
      const d = huffmanDecode(b, limit);
      if (d.status === 'ok') expect(d.bytes.length).toBeLessThanOrEqual(limit);
    }), { numRuns: runs(3000) });
  });
});
