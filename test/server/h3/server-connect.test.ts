/**
 * server/h3/server-connect.ts without UDP: extended CONNECT on client request streams (RFC 9220,
 * draft-ietf-webtrans-http3 §3), refusals, requests parked until the client's SETTINGS with
 * their caps and time limit (issue 10), and GOAWAY.
 */
import { describe, expect, it } from 'vitest';
import { encodeDataFrame, encodeFrame } from '../../../server/h3/wire/frames.js';
import { encodeCloseSessionCapsule } from '../../../server/h3/wire/capsules.js';
import { CLIENT_SETTINGS, encodeSettingsFrame } from '../../../server/h3/wire/settings.js';
import {
  H3_EXCESSIVE_LOAD, H3_FRAME_UNEXPECTED, H3_MESSAGE_ERROR, H3_NO_ERROR, H3_REQUEST_REJECTED,
} from '../../../server/h3/wire/errors.js';
import {
  MAX_PARKED_REQUEST_BYTES, MAX_REQUESTS_BEFORE_SETTINGS, MAX_SESSIONS_PER_CONNECTION, PARKED_REQUEST_TIMEOUT_MS,
  PARTIAL_FRAME_TIMEOUT_MS, CONNECTION_CLOSE_MAX_WAIT_MS,
} from '../../../server/h3/h3-limits.js';
import { cat, connectHeaders, controlStream, enc, harness, headersFrame, serverWithSession, statusOf } from './helpers/h3-harness.js';

/** Status of the response written on `id`, or null. */
const statusOn = (h: ReturnType<typeof harness>, id: number) => {
  const w = h.ops('write', id)[0];
  return w ? statusOf(w.hex) : null;
};

describe('answering a CONNECT', () => {
  it('a WebTransport CONNECT gets 200 and a session; the policy sees path, origin, authority and fields', () => {
    const h = harness('server');
    h.t.data(2, controlStream());
    h.t.data(0, connectHeaders('/wt', 'https://game.example'));
    expect(statusOn(h, 0)).toBe(200);
    expect(h.ops('write', 0)[0].fin).toBe(false);
    expect(h.requests).toEqual([expect.objectContaining({ streamId: 0, path: '/wt', origin: 'https://game.example', authority: 'example.test:4433' })]);
    expect(h.requests[0].headers).toContainEqual([':protocol', 'webtransport']);
    expect(h.sessions.map((s) => [s.id, s.path, s.origin, s.remoteAddress])).toEqual([[0, '/wt', 'https://game.example', '192.0.2.1:4433']]);
    expect(h.h3.counters.responses).toEqual({ 200: 1 });
  });

  it("refuses with the policy's status, FIN and STOP_SENDING (H3_NO_ERROR), then closes the idle connection", () => {
    const h = harness('server', { decide: () => 403 });
    h.t.data(2, controlStream());
    h.t.data(0, connectHeaders());
    expect(statusOn(h, 0)).toBe(403);
    expect(h.ops('write', 0)[0].fin).toBe(true);
    expect(h.ops('stop', 0)).toEqual([{ op: 'stop', id: 0, code: H3_NO_ERROR }]);
    h.clock.advance(CONNECTION_CLOSE_MAX_WAIT_MS);
    expect(h.ops('close')).toEqual([{ op: 'close', app: true, code: H3_NO_ERROR, reason: '' }]);
  });

  it('400 for a plain HTTP request and for a client without WebTransport settings', () => {
    const a = harness('server');
    a.t.data(2, controlStream());
    a.t.data(0, headersFrame([[':method', 'GET'], [':scheme', 'https'], [':authority', 'x'], [':path', '/']]));
    expect(statusOn(a, 0)).toBe(400);
    const b = harness('server');
    b.t.data(2, controlStream(CLIENT_SETTINGS.filter(([id]) => id !== 0x33)));
    b.t.data(0, connectHeaders());
    expect(statusOn(b, 0)).toBe(400);
  });

  it('a malformed request is the stream error H3_MESSAGE_ERROR; the connection lives on', () => {
    const h = harness('server');
    h.t.data(2, controlStream());
    h.t.data(0, headersFrame([[':method', 'CONNECT'], [':protocol', 'webtransport'], [':path', '/wt']]));
    expect(h.ops('reset', 0)).toEqual([{ op: 'reset', id: 0, code: H3_MESSAGE_ERROR }]);
    expect(h.ops('stop', 0)).toEqual([{ op: 'stop', id: 0, code: H3_MESSAGE_ERROR }]);
    expect(h.h3.counters.streamErrors).toEqual({ H3_MESSAGE_ERROR: 1 });
    h.t.data(4, connectHeaders());
    expect(statusOn(h, 4)).toBe(200);
  });

  it('429 past MAX_SESSIONS_PER_CONNECTION sessions on one connection', () => {
    const h = harness('server');
    h.t.data(2, controlStream());
    for (let i = 0; i <= MAX_SESSIONS_PER_CONNECTION; i++) h.t.data(i * 4, connectHeaders());
    expect(h.sessions.length).toBe(MAX_SESSIONS_PER_CONNECTION);
    expect(statusOn(h, MAX_SESSIONS_PER_CONNECTION * 4)).toBe(429);
  });

  it('a request stream that starts with DATA is H3_FRAME_UNEXPECTED; unknown frames before HEADERS are skipped', () => {
    const a = harness('server');
    a.t.data(2, controlStream());
    a.t.data(0, cat(encodeFrame(0x21, enc('grease')), connectHeaders()));
    expect(statusOn(a, 0)).toBe(200);
    const b = harness('server');
    b.t.data(0, encodeDataFrame(enc('body')));
    expect(b.ops('close')[0]).toMatchObject({ code: H3_FRAME_UNEXPECTED });
  });
});

describe('requests before the client SETTINGS (draft-ietf-webtrans-http3 §3.1)', () => {
  it('are parked and answered when SETTINGS arrive; a capsule sent behind the request is read then', () => {
    const h = harness('server');
    h.t.data(0, cat(connectHeaders(), encodeDataFrame(encodeCloseSessionCapsule(9, 'early'))));
    expect(h.ops('write', 0)).toEqual([]);
    expect(h.h3.readers.heldBytes).toBeGreaterThan(0);
    h.t.data(2, controlStream());
    expect(statusOn(h, 0)).toBe(200);
    expect(h.closes.get(0)).toMatchObject({ code: 9, reason: 'early', byPeer: true });
    expect(h.h3.readers.heldBytes).toBe(0);
  });

  it(`more than MAX_PARKED_REQUEST_BYTES (${MAX_PARKED_REQUEST_BYTES}) behind a parked request: H3_EXCESSIVE_LOAD, counted, its slot freed`, () => {
    const h = harness('server');
    h.t.data(0, connectHeaders());
    h.t.data(0, encodeDataFrame(new Uint8Array(MAX_PARKED_REQUEST_BYTES / 2)));
    expect(h.ops('reset', 0)).toEqual([]);
    h.t.data(0, encodeDataFrame(new Uint8Array(MAX_PARKED_REQUEST_BYTES / 2)));
    expect(h.ops('reset', 0)).toEqual([{ op: 'reset', id: 0, code: H3_EXCESSIVE_LOAD }]);
    expect(h.ops('stop', 0)).toEqual([{ op: 'stop', id: 0, code: H3_EXCESSIVE_LOAD }]);
    expect(h.h3.counters.limits).toEqual({ parked_request_too_large: 1 });
    expect(h.h3.counters.streamErrors).toEqual({});
    expect(h.h3.readers.heldBytes).toBe(0);
    // More bytes on the refused stream are ignored.
    h.t.data(0, encodeDataFrame(new Uint8Array(100_000)));
    expect(h.h3.readers.heldBytes).toBe(0);
    for (let i = 1; i <= MAX_REQUESTS_BEFORE_SETTINGS; i++) h.t.data(i * 4, connectHeaders());
    expect(h.ops('reset').length).toBe(1);
  });

  it('are refused with H3_REQUEST_REJECTED after PARKED_REQUEST_TIMEOUT_MS; the idle connection is then closed', () => {
    const h = harness('server');
    h.t.data(0, connectHeaders());
    h.clock.advance(PARKED_REQUEST_TIMEOUT_MS - 1);
    expect(h.ops('reset')).toEqual([]);
    h.clock.advance(1);
    expect(h.ops('reset', 0)).toEqual([{ op: 'reset', id: 0, code: H3_REQUEST_REJECTED }]);
    expect(h.h3.counters.limits).toEqual({ parked_request_timeout: 1 });
    h.clock.advance(CONNECTION_CLOSE_MAX_WAIT_MS);
    expect(h.ops('close')).toHaveLength(1);
  });

  it(`at most MAX_REQUESTS_BEFORE_SETTINGS (${MAX_REQUESTS_BEFORE_SETTINGS}) wait; a parked stream that ends frees its slot`, () => {
    const h = harness('server');
    for (let i = 0; i < MAX_REQUESTS_BEFORE_SETTINGS; i++) h.t.data(i * 4, connectHeaders());
    h.t.data(MAX_REQUESTS_BEFORE_SETTINGS * 4, connectHeaders());
    expect(h.ops('reset')).toEqual([{ op: 'reset', id: MAX_REQUESTS_BEFORE_SETTINGS * 4, code: H3_REQUEST_REJECTED }]);
    expect(h.h3.counters.limits).toEqual({ parked_request_slots: 1 });
    h.t.data(0, new Uint8Array(0), true);
    h.t.data(100, connectHeaders());
    expect(h.ops('reset')).toHaveLength(1);
    h.t.data(2, controlStream());
    expect(h.sessions.map((s) => s.id)).toEqual([4, 8, 12, 16, 20, 24, 28, 100]);
  });

  it('a partial HEADERS frame held past PARTIAL_FRAME_TIMEOUT_MS is refused (request_headers_timeout)', () => {
    const h = harness('server');
    h.t.data(2, controlStream());
    const headers = connectHeaders();
    h.t.data(0, headers.subarray(0, 10));
    h.clock.advance(PARTIAL_FRAME_TIMEOUT_MS);
    expect(h.ops('reset', 0)).toEqual([{ op: 'reset', id: 0, code: H3_REQUEST_REJECTED }]);
    expect(h.h3.counters.limits).toEqual({ request_headers_timeout: 1 });
  });

  it('a SETTINGS frame split across packets still answers the parked requests', () => {
    const h = harness('server');
    h.t.data(0, connectHeaders());
    const ctl = cat(new Uint8Array([0]), encodeSettingsFrame(CLIENT_SETTINGS));
    h.t.data(2, ctl.subarray(0, 3));
    expect(h.ops('write', 0)).toEqual([]);
    h.t.data(2, ctl.subarray(3));
    expect(statusOn(h, 0)).toBe(200);
  });
});

describe('after our GOAWAY (RFC 9114 §5.2)', () => {
  it('requests at or above the id it named are refused with H3_REQUEST_REJECTED; earlier ones are answered', () => {
    const h = serverWithSession();
    h.t.data(4, connectHeaders().subarray(0, 5));
    h.h3.drain();
    h.t.data(8, connectHeaders());
    expect(h.ops('reset', 8)).toEqual([{ op: 'reset', id: 8, code: H3_REQUEST_REJECTED }]);
    h.t.data(4, connectHeaders().subarray(5));
    expect(statusOn(h, 4)).toBe(200);
  });
});
