/**
 * server/h3/control-streams.ts without UDP: our control stream and SETTINGS, the peer's
 * unidirectional streams by type, the peer's SETTINGS and GOAWAY (RFC 9114 §5.2, §6.2, §7.2),
 * and the time limit on a partial control frame.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_SETTINGS, SERVER_SETTINGS, encodeSettingsFrame } from '../../../server/h3/wire/settings.js';
import { encodeFrame, encodeGoawayFrame } from '../../../server/h3/wire/frames.js';
import {
  H3_CLOSED_CRITICAL_STREAM, H3_EXCESSIVE_LOAD, H3_FRAME_UNEXPECTED, H3_ID_ERROR, H3_MISSING_SETTINGS, H3_STREAM_CREATION_ERROR,
} from '../../../server/h3/wire/errors.js';
import { PARTIAL_FRAME_TIMEOUT_MS, UNI_STREAM_STOP_GRACE_MS } from '../../../server/h3/h3-limits.js';
import { cat, connectHeaders, controlStream, enc, harness, hex, serverControlStream, serverWithSession } from './helpers/h3-harness.js';

const closeCode = (h: ReturnType<typeof harness>) => h.ops('close')[0]?.code;

describe('our control stream', () => {
  it('is opened once the handshake completes, with SETTINGS as its first frame (both roles)', () => {
    const s = harness('server', { established: false });
    expect(s.t.transcript).toEqual([]);
    s.t.established();
    expect(s.ops('write')).toEqual([{ op: 'write', id: 3, hex: hex(cat(new Uint8Array([0]), encodeSettingsFrame(SERVER_SETTINGS))), fin: false, ok: true }]);
    const c = harness('client');
    expect(c.ops('write')).toEqual([{ op: 'write', id: 2, hex: hex(cat(new Uint8Array([0]), encodeSettingsFrame(CLIENT_SETTINGS))), fin: false, ok: true }]);
  });

  it('a client refusing the server certificate closes before any HTTP/3 byte', () => {
    const c = harness('client', { verifyPeer: () => 'pin mismatch' });
    expect(c.ops('write')).toEqual([]);
    expect(c.ops('close')).toEqual([{ op: 'close', app: false, code: 0x100 + 42, reason: 'pin mismatch' }]);
  });

  it('the peer stopping it is H3_CLOSED_CRITICAL_STREAM', () => {
    const h = harness('server');
    h.t.stopped(3, 0x100);
    expect(closeCode(h)).toBe(H3_CLOSED_CRITICAL_STREAM);
  });
});

describe("the peer's unidirectional streams", () => {
  it('control, QPACK encoder and decoder are accepted once each; a second of a kind is H3_STREAM_CREATION_ERROR', () => {
    for (const [type, name] of [[0x00, 'control'], [0x02, 'qpack-encoder'], [0x03, 'qpack-decoder']] as const) {
      const h = harness('server');
      h.t.data(2, type === 0 ? controlStream() : new Uint8Array([type]));
      expect(h.ops('close')).toEqual([]);
      h.t.data(6, new Uint8Array([type]));
      expect(h.ops('close')[0], name).toMatchObject({ code: H3_STREAM_CREATION_ERROR });
    }
  });

  it('closing or resetting a control or QPACK stream is H3_CLOSED_CRITICAL_STREAM', () => {
    const a = harness('server');
    a.t.data(2, controlStream(), true);
    expect(closeCode(a)).toBe(H3_CLOSED_CRITICAL_STREAM);
    const b = harness('server');
    b.t.data(2, controlStream());
    b.t.reset(2, 0x10c);
    expect(closeCode(b)).toBe(H3_CLOSED_CRITICAL_STREAM);
    const c = harness('server');
    c.t.data(6, new Uint8Array([0x02, 0x3f, 0xe1, 0x1f]));
    c.t.data(6, new Uint8Array(0), true);
    expect(closeCode(c)).toBe(H3_CLOSED_CRITICAL_STREAM);
  });

  it('a push stream is H3_STREAM_CREATION_ERROR from a client, H3_ID_ERROR from a server (we never sent MAX_PUSH_ID)', () => {
    const s = harness('server');
    s.t.data(2, new Uint8Array([0x01, 0x00]));
    expect(closeCode(s)).toBe(H3_STREAM_CREATION_ERROR);
    const c = harness('client');
    c.t.data(3, new Uint8Array([0x01, 0x00]));
    expect(closeCode(c)).toBe(H3_ID_ERROR);
  });

  it('an unknown (GREASE) type is counted and discarded, then stopped with H3_STREAM_CREATION_ERROR if it stays open', () => {
    const h = harness('server');
    h.t.data(2, new Uint8Array([0x40, 0x21, 1, 2, 3]));
    h.t.data(2, enc('more'));
    expect(h.h3.counters.unknownUniStreams).toBe(1);
    expect(h.ops('stop')).toEqual([]);
    h.clock.advance(UNI_STREAM_STOP_GRACE_MS);
    expect(h.ops('stop')).toEqual([{ op: 'stop', id: 2, code: H3_STREAM_CREATION_ERROR }]);
    expect(h.ops('close')).toEqual([]);
  });

  it('a type that never completes is given up after the time limit (uni_stream_type_timeout)', () => {
    const h = harness('server');
    h.t.data(2, new Uint8Array([0x80]));
    expect(h.h3.readers.heldBytes).toBe(1);
    h.clock.advance(PARTIAL_FRAME_TIMEOUT_MS);
    expect(h.h3.counters.limits).toEqual({ uni_stream_type_timeout: 1 });
    expect(h.h3.readers.heldBytes).toBe(0);
    h.clock.advance(UNI_STREAM_STOP_GRACE_MS);
    expect(h.ops('stop')).toEqual([{ op: 'stop', id: 2, code: H3_STREAM_CREATION_ERROR }]);
  });
});

describe("the peer's control stream", () => {
  it('must start with SETTINGS: another frame or an unknown one first is H3_MISSING_SETTINGS', () => {
    const a = harness('server');
    a.t.data(2, cat(new Uint8Array([0]), encodeGoawayFrame(0)));
    expect(closeCode(a)).toBe(H3_MISSING_SETTINGS);
    const b = harness('server');
    b.t.data(2, cat(new Uint8Array([0]), encodeFrame(0x21, enc('grease'))));
    expect(closeCode(b)).toBe(H3_MISSING_SETTINGS);
  });

  it('after SETTINGS: unknown frames are skipped and counted; a second SETTINGS, DATA or HEADERS is H3_FRAME_UNEXPECTED', () => {
    const h = harness('server');
    h.t.data(2, controlStream());
    h.t.data(2, encodeFrame(0x21 + 0x1f, enc('grease')));
    expect(h.h3.counters.unknownFramesSkipped).toBe(1);
    expect(h.ops('close')).toEqual([]);
    for (const frame of [encodeSettingsFrame(CLIENT_SETTINGS), encodeFrame(0x00, enc('data')), encodeFrame(0x01, new Uint8Array([0, 0]))]) {
      const x = harness('server');
      x.t.data(2, cat(controlStream(), frame));
      expect(closeCode(x)).toBe(H3_FRAME_UNEXPECTED);
    }
  });

  it('MAX_PUSH_ID is accepted from a client and H3_FRAME_UNEXPECTED from a server; CANCEL_PUSH is ignored', () => {
    const s = harness('server');
    s.t.data(2, cat(controlStream(), encodeFrame(0x0d, new Uint8Array([4])), encodeFrame(0x03, new Uint8Array([0]))));
    expect(s.ops('close')).toEqual([]);
    const c = harness('client');
    c.t.data(3, cat(serverControlStream(), encodeFrame(0x0d, new Uint8Array([4]))));
    expect(closeCode(c)).toBe(H3_FRAME_UNEXPECTED);
  });

  it("client role: the server's SETTINGS are reported with its WebTransport support", () => {
    const seen: unknown[] = [];
    const c = harness('client', { onPeerSettings: (s) => seen.push(s) });
    c.t.data(3, serverControlStream());
    expect(seen).toEqual([expect.objectContaining({ draft02: true, draft07: true, datagrams: true, extendedConnect: true })]);
    expect(c.h3.control.peerSupport).toEqual(seen[0]);
  });

  it('a partial frame held past PARTIAL_FRAME_TIMEOUT_MS closes the connection with H3_EXCESSIVE_LOAD (counted)', () => {
    const h = harness('server');
    const settings = controlStream();
    h.t.data(2, settings.subarray(0, settings.length - 2));
    h.clock.advance(PARTIAL_FRAME_TIMEOUT_MS - 1);
    expect(h.ops('close')).toEqual([]);
    h.clock.advance(1);
    expect(h.ops('close')[0]).toMatchObject({ code: H3_EXCESSIVE_LOAD });
    expect(h.h3.counters.limits).toEqual({ control_frame_timeout: 1 });
    expect(h.h3.counters.connectionErrors).toEqual({});
  });
});

describe('GOAWAY (RFC 9114 §5.2)', () => {
  it('a server sends it once, naming the first client bidi stream it has not seen', () => {
    const h = serverWithSession();
    h.t.data(4, connectHeaders());
    h.h3.drain();
    h.h3.drain();
    expect(h.ops('write', 3).slice(1)).toEqual([{ op: 'write', id: 3, hex: hex(encodeGoawayFrame(8)), fin: false, ok: true }]);
    expect(h.h3.counters.goawaysSent).toBe(1);
  });

  it("a client hears the server's GOAWAY once: onGoaway, and every session drains", () => {
    let goaways = 0;
    const c = harness('client', { onGoaway: () => goaways++ });
    c.t.data(3, cat(serverControlStream(), encodeGoawayFrame(8), encodeGoawayFrame(4)));
    expect(goaways).toBe(1);
    expect(c.h3.counters.goawaysReceived).toBe(2);
    expect(c.h3.control.peerDraining).toBe(true);
  });

  it('a server GOAWAY naming a stream that is not a client bidi stream is H3_ID_ERROR', () => {
    const c = harness('client');
    c.t.data(3, cat(serverControlStream(), encodeGoawayFrame(6)));
    expect(closeCode(c)).toBe(H3_ID_ERROR);
  });
});
