/**
 * server/h3/connect-stream.ts without UDP: capsules on a live session's CONNECT stream
 * (RFC 9297 §3.2, draft-ietf-webtrans-http3 §5-6) and how each way of ending a session reaches
 * `onClose`: the WebTransport code of a CLOSE capsule in `code`, an abrupt end's HTTP/3 code in
 * `http3Code`, never mixed.
 */
import { describe, expect, it } from 'vitest';
import { encodeDataFrame, encodeFrame, encodeHeadersFrame } from '../../../server/h3/wire/frames.js';
import { encodeCapsule, encodeCloseSessionCapsule, encodeCloseSessionData, encodeDrainSessionCapsule, encodeDrainSessionData } from '../../../server/h3/wire/capsules.js';
import { encodeWtBidiStreamHeader } from '../../../server/h3/wire/wt-streams.js';
import {
  H3_EXCESSIVE_LOAD, H3_FRAME_UNEXPECTED, H3_INTERNAL_ERROR, H3_MESSAGE_ERROR, H3_REQUEST_CANCELLED, WT_SESSION_GONE,
} from '../../../server/h3/wire/errors.js';
import { PARTIAL_FRAME_TIMEOUT_MS } from '../../../server/h3/h3-limits.js';
import { cat, connectHeaders, enc, hex, serverWithSession } from './helpers/h3-harness.js';

describe('capsules from the peer', () => {
  it('CLOSE_WEBTRANSPORT_SESSION: onClose gets its code and reason, no HTTP/3 code; we answer with FIN', () => {
    const h = serverWithSession();
    h.t.data(0, encodeDataFrame(encodeCloseSessionCapsule(4001, 'bye ✓')));
    expect(h.closes.get(0)).toEqual({ code: 4001, reason: 'bye ✓', byPeer: true });
    expect(h.ops('write', 0).at(-1)).toMatchObject({ hex: '', fin: true });
  });

  it('a capsule split over DATA frames and packets is reassembled', () => {
    const h = serverWithSession();
    const capsule = encodeCloseSessionCapsule(7, 'split');
    h.t.data(0, encodeDataFrame(capsule.subarray(0, 3)));
    h.t.data(0, encodeDataFrame(capsule.subarray(3, 6)).subarray(0, 4));
    h.t.data(0, encodeDataFrame(capsule.subarray(3, 6)).subarray(4));
    expect(h.closes.size).toBe(0);
    h.t.data(0, encodeDataFrame(capsule.subarray(6)));
    expect(h.closes.get(0)).toMatchObject({ code: 7, reason: 'split' });
  });

  it('a bare FIN closes with code 0', () => {
    const h = serverWithSession();
    h.t.data(0, new Uint8Array(0), true);
    expect(h.closes.get(0)).toEqual({ code: 0, reason: '', byPeer: true });
  });

  it('DRAIN_WEBTRANSPORT_SESSION: onDrain once, counted', () => {
    let drains = 0;
    const h = serverWithSession({ onSession: (s) => { s.onDrain = () => drains++; } });
    h.t.data(0, cat(encodeDataFrame(encodeDrainSessionCapsule()), encodeDataFrame(encodeDrainSessionCapsule())));
    expect(drains).toBe(1);
    expect(h.h3.counters.drainsReceived).toBe(2);
  });

  it('unknown capsules are skipped; a malformed known one aborts only that session with H3_MESSAGE_ERROR', () => {
    const h = serverWithSession();
    h.t.data(4, connectHeaders());
    h.t.data(0, encodeDataFrame(cat(encodeCapsule(0x1234, enc('?')), encodeCapsule(0x2843, new Uint8Array(2)))));
    expect(h.h3.counters.unknownCapsulesSkipped).toBe(1);
    expect(h.ops('reset', 0)).toEqual([{ op: 'reset', id: 0, code: H3_MESSAGE_ERROR }]);
    expect(h.closes.get(0)).toMatchObject({ code: 0, http3Code: H3_MESSAGE_ERROR, byPeer: false });
    expect(h.h3.counters.sessionProtocolErrors).toBe(1);
    expect(h.ops('close')).toEqual([]);
    expect(h.sessions[1].isClosed).toBe(false);
  });

  it('a stream ending inside a capsule is H3_MESSAGE_ERROR', () => {
    const h = serverWithSession();
    h.t.data(0, encodeDataFrame(encodeCloseSessionCapsule(1, 'x').subarray(0, 3)), true);
    expect(h.closes.get(0)).toMatchObject({ code: 0, http3Code: H3_MESSAGE_ERROR });
  });

  it('trailers are ignored; SETTINGS, GOAWAY or DATA-less frames of other types are H3_FRAME_UNEXPECTED', () => {
    const h = serverWithSession();
    h.t.data(0, encodeHeadersFrame(new Uint8Array([0, 0])));
    expect(h.ops('close')).toEqual([]);
    h.t.data(0, encodeFrame(0x07, new Uint8Array([0])));
    expect(h.ops('close')[0]).toMatchObject({ code: H3_FRAME_UNEXPECTED });
  });

  it('a partial capsule held past PARTIAL_FRAME_TIMEOUT_MS aborts the session with H3_EXCESSIVE_LOAD (capsule_timeout)', () => {
    const h = serverWithSession();
    h.t.data(0, encodeDataFrame(encodeCloseSessionCapsule(1, 'x'.repeat(500)).subarray(0, 100)));
    expect(h.h3.readers.heldBytes).toBeGreaterThan(0);
    h.clock.advance(PARTIAL_FRAME_TIMEOUT_MS);
    expect(h.ops('reset', 0)).toEqual([{ op: 'reset', id: 0, code: H3_EXCESSIVE_LOAD }]);
    expect(h.closes.get(0)).toMatchObject({ code: 0, http3Code: H3_EXCESSIVE_LOAD, byPeer: false });
    expect(h.h3.counters.limits).toEqual({ capsule_timeout: 1 });
    expect(h.h3.readers.heldBytes).toBe(0);
  });
});

describe('abrupt ends', () => {
  it("the peer resetting the CONNECT stream: code 0, the peer's HTTP/3 code, a reason naming it", () => {
    const h = serverWithSession();
    h.t.reset(0, H3_REQUEST_CANCELLED);
    expect(h.closes.get(0)).toEqual({ code: 0, http3Code: H3_REQUEST_CANCELLED, reason: 'CONNECT stream reset (H3_REQUEST_CANCELLED)', byPeer: true });
  });

  it('the peer stopping the CONNECT stream ends the session too', () => {
    const h = serverWithSession();
    h.t.stopped(0, H3_INTERNAL_ERROR);
    expect(h.closes.get(0)).toMatchObject({ code: 0, http3Code: H3_INTERNAL_ERROR, byPeer: true });
  });
});

describe('our close and drain', () => {
  it('close(): CLOSE capsule in a DATA frame with FIN; the session streams are reset only after that packet left', () => {
    const h = serverWithSession();
    h.t.data(4, cat(encodeWtBidiStreamHeader(0), enc('x')));
    const from = h.t.transcript.length;
    h.sessions[0].close(4009, 'draining');
    expect(h.t.since(from)).toEqual([{ op: 'write', id: 0, hex: hex(encodeCloseSessionData(4009, 'draining')), fin: true, ok: true }]);
    expect(h.closes.get(0)).toEqual({ code: 4009, reason: 'draining', byPeer: false });
    h.t.flush();
    expect(h.t.since(from).slice(1)).toEqual([
      { op: 'flush', tasks: 1 },
      { op: 'reset', id: 4, code: WT_SESSION_GONE },
      { op: 'stop', id: 4, code: WT_SESSION_GONE },
    ]);
  });

  it('drain(): a DRAIN capsule, counted', () => {
    const h = serverWithSession();
    h.sessions[0].drain();
    expect(h.ops('write', 0).at(-1)).toEqual({ op: 'write', id: 0, hex: hex(encodeDrainSessionData()), fin: false, ok: true });
    expect(h.h3.counters.drainsSent).toBe(1);
  });
});
