/**
 * server/h3/client-connect.ts without UDP: the client's extended CONNECT (RFC 9220,
 * draft-ietf-webtrans-http3 §3.2), its response, and the server's bidirectional streams, which
 * on a client may only be WebTransport streams (RFC 9114 §6.1).
 */
import { describe, expect, it } from 'vitest';
import { FrameDecoder, encodeDataFrame, encodeGoawayFrame } from '../../../server/h3/wire/frames.js';
import { decodeFieldSection } from '../../../server/h3/wire/qpack/field-section.js';
import { encodeWtBidiStreamHeader } from '../../../server/h3/wire/wt-streams.js';
import { H3_EXCESSIVE_LOAD, H3_MESSAGE_ERROR, H3_STREAM_CREATION_ERROR } from '../../../server/h3/wire/errors.js';
import { PARTIAL_FRAME_TIMEOUT_MS } from '../../../server/h3/h3-limits.js';
import type { WebTransportSession } from '../../../server/h3/session.js';
import { cat, connectHeaders, enc, harness, headersFrame, responseHeaders, serverControlStream } from './helpers/h3-harness.js';

type Outcome = { session: WebTransportSession } | { failure: { status?: number; message: string } };

function connect(h: ReturnType<typeof harness>, path = '/wt'): { outcome: () => Outcome | null } {
  let outcome: Outcome | null = null;
  h.h3.connect('example.test:4433', path, 'https://game.example').then(
    (session) => { outcome = { session }; },
    (failure: { status?: number; message: string }) => { outcome = { failure }; },
  );
  return { outcome: () => outcome };
}

/** Lets the promise callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

function client() {
  const h = harness('client');
  h.t.data(3, serverControlStream());
  return h;
}

describe('the client CONNECT', () => {
  it('sends the extended CONNECT fields on a new request stream', () => {
    const h = client();
    connect(h, '/wt?room=1');
    const w = h.ops('write', 0);
    expect(w).toHaveLength(1);
    const dec = new FrameDecoder();
    dec.push(Buffer.from(w[0].hex, 'hex'));
    const ev = dec.next();
    if (ev.status !== 'frame') throw new Error('no HEADERS');
    const fs = decodeFieldSection(ev.payload);
    if (fs.status !== 'ok') throw new Error('bad field section');
    expect(Object.fromEntries(fs.headers)).toMatchObject({
      ':method': 'CONNECT', ':protocol': 'webtransport', ':scheme': 'https', ':authority': 'example.test:4433', ':path': '/wt?room=1', origin: 'https://game.example',
    });
  });

  it('a 2xx response opens the session (interim 1xx responses are skipped)', async () => {
    const h = client();
    const c = connect(h);
    h.t.data(0, responseHeaders(103));
    await settle();
    expect(c.outcome()).toBeNull();
    h.t.data(0, responseHeaders(200));
    await settle();
    const o = c.outcome();
    expect(o && 'session' in o ? [o.session.id, o.session.path, o.session.origin] : o).toEqual([0, '/wt', 'https://game.example']);
  });

  it('another status rejects with it, and our FIN ends the request', async () => {
    const h = client();
    const c = connect(h);
    h.t.data(0, responseHeaders(404));
    await settle();
    expect(c.outcome()).toEqual({ failure: { status: 404, message: 'server answered 404' } });
    expect(h.ops('write', 0).at(-1)).toMatchObject({ hex: '', fin: true });
  });

  it('a malformed response is the stream error it names, and rejects', async () => {
    const h = client();
    const c = connect(h);
    h.t.data(0, headersFrame([['content-type', 'x']]));
    await settle();
    expect(h.ops('reset', 0)).toEqual([{ op: 'reset', id: 0, code: H3_MESSAGE_ERROR }]);
    expect(c.outcome()).toMatchObject({ failure: { message: expect.stringContaining('malformed response') } });
  });

  it('a reset, an end without response, or the connection closing reject with what happened', async () => {
    const h = client();
    const a = connect(h);
    const b = connect(h);
    const c = connect(h);
    h.t.reset(0, 0x10b);
    h.t.data(4, new Uint8Array(0), true);
    h.t.peerClosed({ reason: 'gone' });
    await settle();
    expect(a.outcome()).toEqual({ failure: { message: 'CONNECT stream reset (H3_REQUEST_REJECTED)' } });
    expect(b.outcome()).toEqual({ failure: { message: 'CONNECT stream ended without a response' } });
    expect(c.outcome()).toEqual({ failure: { message: 'connection closed (gone)' } });
    const d = connect(h);
    await settle();
    expect(d.outcome()).toEqual({ failure: { message: 'connection closed' } });
  });

  it('a partial response held past PARTIAL_FRAME_TIMEOUT_MS is refused with H3_EXCESSIVE_LOAD', async () => {
    const h = client();
    const c = connect(h);
    h.t.data(0, responseHeaders(200).subarray(0, 4));
    h.clock.advance(PARTIAL_FRAME_TIMEOUT_MS);
    await settle();
    expect(h.ops('reset', 0)).toEqual([{ op: 'reset', id: 0, code: H3_EXCESSIVE_LOAD }]);
    expect(h.h3.counters.limits).toEqual({ response_headers_timeout: 1 });
    expect(c.outcome()).toMatchObject({ failure: { message: 'response over a limit (timeout)' } });
  });

  it("a session opened after the server's GOAWAY starts out draining", async () => {
    const h = client();
    const c = connect(h);
    h.t.data(3, encodeGoawayFrame(4));
    h.t.data(0, responseHeaders(200));
    await settle();
    const o = c.outcome();
    expect(o && 'session' in o && o.session.drainReceived).toBe(true);
  });
});

describe("the server's bidirectional streams", () => {
  it('one starting with the WebTransport signal joins its session', async () => {
    const h = client();
    const c = connect(h);
    h.t.data(0, responseHeaders(200));
    await settle();
    const o = c.outcome();
    if (!o || !('session' in o)) throw new Error('no session');
    const got: string[] = [];
    o.session.onBidiStream = (st) => {
      st.onData = (d) => got.push(Buffer.from(d).toString());
    };
    h.t.data(1, cat(encodeWtBidiStreamHeader(0), enc('hello')));
    expect(got).toEqual(['hello']);
  });

  it('any other start is H3_STREAM_CREATION_ERROR', () => {
    const h = client();
    h.t.data(1, connectHeaders());
    expect(h.ops('close')[0]).toMatchObject({ code: H3_STREAM_CREATION_ERROR });
    const g = client();
    g.t.data(1, encodeDataFrame(enc('x')));
    expect(g.ops('close')[0]).toMatchObject({ code: H3_STREAM_CREATION_ERROR });
  });
});
