/**
 * server/h3/wt-stream-registry.ts without UDP: WebTransport streams (draft-ietf-webtrans-http3
 * §4) attached by session id, our own streams, streams that overtake their CONNECT (§4.6),
 * streams of ended sessions, and a session's streams going down with it (§6).
 */
import { describe, expect, it } from 'vitest';
import { encodeWtBidiStreamHeader, encodeWtUniStreamHeader } from '../../../server/h3/wire/wt-streams.js';
import { WT_BUFFERED_STREAM_REJECTED, WT_SESSION_GONE, webTransportCodeToHttp3 } from '../../../server/h3/wire/errors.js';
import {
  BUFFERED_STREAM_TIMEOUT_MS, MAX_BUFFERED_STREAM_BYTES, MAX_BUFFERED_STREAMS_PER_CONNECTION, MAX_ENDED_SESSIONS_REMEMBERED,
} from '../../../server/h3/h3-limits.js';
import type { WebTransportSession, WebTransportStream } from '../../../server/h3/session.js';
import { cat, connectHeaders, controlStream, enc, harness, hex, serverWithSession } from './helpers/h3-harness.js';

/** Records every stream event of `s`'s peer streams. */
function record(s: WebTransportSession, log: string[]): void {
  const watch = (st: WebTransportStream, kind: string) => {
    log.push(`${kind} ${st.id}`);
    st.onData = (d) => log.push(`data ${st.id} ${Buffer.from(d).toString()}`);
    st.onEnd = () => log.push(`end ${st.id}`);
    st.onReset = (code, h3) => log.push(`reset ${st.id} ${code} ${h3}`);
    st.onSessionClosed = () => log.push(`sessionClosed ${st.id}`);
  };
  s.onBidiStream = (st) => watch(st, 'bidi');
  s.onUniStream = (st) => watch(st, 'uni');
}

describe('peer streams', () => {
  it('join their session by id; bytes, FIN and resets (as WebTransport codes) reach the application', () => {
    const log: string[] = [];
    const h = serverWithSession({ onSession: (s) => record(s, log) });
    h.t.data(4, cat(encodeWtBidiStreamHeader(0), enc('a')));
    h.t.data(4, enc('b'), true);
    h.t.data(6, cat(encodeWtUniStreamHeader(0), enc('u')));
    h.t.reset(6, webTransportCodeToHttp3(42));
    expect(log).toEqual(['bidi 4', 'data 4 a', 'data 4 b', 'end 4', 'uni 6', 'data 6 u', `reset 6 42 ${webTransportCodeToHttp3(42)}`]);
  });

  it('our streams: the header first, then data and FIN; the peer stopping one reaches onStopSending', () => {
    const h = serverWithSession();
    const st = h.sessions[0].openBidiStream()!;
    const stops: Array<[number | null, number | null]> = [];
    st.onStopSending = (code, h3) => stops.push([code, h3]);
    st.write(enc('hi'));
    expect(h.ops('write', st.id).map((w) => w.hex)).toEqual([hex(encodeWtBidiStreamHeader(0)), hex(enc('hi'))]);
    h.t.stopped(st.id, webTransportCodeToHttp3(9));
    expect(stops).toEqual([[9, webTransportCodeToHttp3(9)]]);
    expect(st.write(enc('more'))).toBe(false);
    const uni = h.sessions[0].openUniStream()!;
    uni.end();
    expect(h.ops('write', uni.id).map((w) => [w.hex, w.fin])).toEqual([[hex(encodeWtUniStreamHeader(0)), false], ['', true]]);
    expect(h.ops('forget', uni.id)).toHaveLength(1);
  });
});

describe('streams that overtake their CONNECT (§4.6)', () => {
  it('are buffered and adopted, bytes and FIN in order, when the session opens', () => {
    const log: string[] = [];
    const h = harness('server', { onSession: (s) => record(s, log) });
    h.t.data(2, controlStream());
    h.t.data(6, cat(encodeWtUniStreamHeader(0), enc('1')));
    h.t.data(6, enc('2'), true);
    expect(h.h3.readers.heldBytes).toBe(2);
    h.t.data(0, connectHeaders());
    expect(log).toEqual(['uni 6', 'data 6 12', 'end 6']);
    expect(h.h3.readers.heldBytes).toBe(0);
  });

  it(`are rejected with WT_BUFFERED_STREAM_REJECTED after BUFFERED_STREAM_TIMEOUT_MS, past MAX_BUFFERED_STREAM_BYTES, or beyond ${MAX_BUFFERED_STREAMS_PER_CONNECTION} at once`, () => {
    const h = harness('server');
    h.t.data(2, controlStream());
    h.t.data(4, cat(encodeWtBidiStreamHeader(400), enc('late')));
    h.clock.advance(BUFFERED_STREAM_TIMEOUT_MS);
    expect(h.ops('reset', 4)).toEqual([{ op: 'reset', id: 4, code: WT_BUFFERED_STREAM_REJECTED }]);
    expect(h.ops('stop', 4)).toEqual([{ op: 'stop', id: 4, code: WT_BUFFERED_STREAM_REJECTED }]);
    h.t.data(8, cat(encodeWtBidiStreamHeader(400), new Uint8Array(MAX_BUFFERED_STREAM_BYTES)));
    expect(h.ops('reset', 8)).toEqual([]);
    h.t.data(8, new Uint8Array(3));
    expect(h.ops('reset', 8)).toEqual([{ op: 'reset', id: 8, code: WT_BUFFERED_STREAM_REJECTED }]);
    for (let i = 0; i <= MAX_BUFFERED_STREAMS_PER_CONNECTION; i++) h.t.data(12 + 4 * i, encodeWtBidiStreamHeader(400));
    expect(h.ops('reset').map((r) => r.id)).toEqual([4, 8, 12 + 4 * MAX_BUFFERED_STREAMS_PER_CONNECTION]);
    expect(h.h3.counters.streamsRejectedBuffered).toBe(3);
    expect(h.h3.readers.heldBytes).toBe(0);
  });
});

describe('ended sessions', () => {
  it('a stream naming one gets WT_SESSION_GONE; the last MAX_ENDED_SESSIONS_REMEMBERED are remembered', () => {
    const h = serverWithSession();
    h.sessions[0].close(0, '');
    h.t.data(4, cat(encodeWtBidiStreamHeader(0), enc('late')));
    expect(h.ops('reset', 4)).toEqual([{ op: 'reset', id: 4, code: WT_SESSION_GONE }]);
    expect(h.h3.counters.streamsRejectedSessionGone).toBe(1);
    for (let i = 0; i < MAX_ENDED_SESSIONS_REMEMBERED; i++) h.h3.registry.rememberEnded(1_000_000 + 4 * i);
    h.t.data(8, cat(encodeWtBidiStreamHeader(0), enc('later')));
    expect(h.ops('reset', 8)).toEqual([]);
    expect(h.h3.readers.heldBytes).toBe(5);
  });

  it('take their open streams down: reset and stop with WT_SESSION_GONE, onSessionClosed once', () => {
    const log: string[] = [];
    const h = serverWithSession({ onSession: (s) => record(s, log) });
    h.t.data(4, cat(encodeWtBidiStreamHeader(0), enc('x')));
    h.t.reset(0, 0x10c);
    expect(log.filter((l) => l.startsWith('sessionClosed'))).toEqual(['sessionClosed 4']);
    expect(h.ops('reset', 4)).toEqual([{ op: 'reset', id: 4, code: WT_SESSION_GONE }]);
    expect(h.ops('stop', 4)).toEqual([{ op: 'stop', id: 4, code: WT_SESSION_GONE }]);
    h.t.data(4, enc('ignored'));
    expect(log).not.toContain('data 4 ignored');
  });
});
