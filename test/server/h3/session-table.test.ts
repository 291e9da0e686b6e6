/**
 * server/h3/session-table.ts without UDP: how sessions end (clean, abrupt, by a throwing
 * callback, under a closing connection) and the idle close of a connection after its last
 * session (browsers never reuse it and drop it silently).
 */
import { describe, expect, it } from 'vitest';
import { encodeCloseSessionCapsule } from '../../../server/h3/wire/capsules.js';
import { encodeDataFrame, encodeGoawayFrame } from '../../../server/h3/wire/frames.js';
import { encodeDatagram } from '../../../server/h3/wire/datagram.js';
import { H3_INTERNAL_ERROR, H3_NO_ERROR } from '../../../server/h3/wire/errors.js';
import { CONNECTION_CLOSE_LINGER_MS, CONNECTION_CLOSE_MAX_WAIT_MS } from '../../../server/h3/h3-limits.js';
import { cat, connectHeaders, enc, harness, headersFrame, responseHeaders, serverControlStream, serverWithSession } from './helpers/h3-harness.js';

describe('the idle close', () => {
  it('a peer-closed last session closes the connection after CONNECTION_CLOSE_LINGER_MS', () => {
    const h = serverWithSession();
    h.t.data(0, encodeDataFrame(encodeCloseSessionCapsule(1, '')), true);
    h.clock.advance(CONNECTION_CLOSE_LINGER_MS - 1);
    expect(h.ops('close')).toEqual([]);
    h.clock.advance(1);
    expect(h.ops('close')).toEqual([{ op: 'close', app: true, code: H3_NO_ERROR, reason: '' }]);
  });

  it('after our close it waits up to CONNECTION_CLOSE_MAX_WAIT_MS for the FIN answering it, then lingers', () => {
    const a = serverWithSession();
    a.sessions[0].close(1, '');
    a.clock.advance(CONNECTION_CLOSE_MAX_WAIT_MS - 1);
    expect(a.ops('close')).toEqual([]);
    a.clock.advance(1);
    expect(a.ops('close')).toHaveLength(1);
    const b = serverWithSession();
    b.sessions[0].close(1, '');
    b.t.data(0, new Uint8Array(0), true);
    b.clock.advance(CONNECTION_CLOSE_LINGER_MS);
    expect(b.ops('close')).toHaveLength(1);
  });

  it('not while another session is open or a CONNECT is parked; not when closeWhenIdle is false', () => {
    const h = serverWithSession();
    h.t.data(4, connectHeaders());
    h.sessions[0].close(1, '');
    h.clock.advance(10 * CONNECTION_CLOSE_MAX_WAIT_MS);
    expect(h.ops('close')).toEqual([]);
    const p = harness('server');
    p.t.data(0, connectHeaders());
    // A malformed request is refused (which arms the idle close) while the first is parked.
    p.t.data(4, headersFrame([[':method', 'CONNECT'], [':path', '/wt']]));
    expect(p.ops('reset', 4)).toHaveLength(1);
    p.clock.advance(CONNECTION_CLOSE_MAX_WAIT_MS);
    expect(p.ops('close')).toEqual([]);
    const c = harness('client', { closeWhenIdle: false });
    c.t.data(3, serverControlStream());
    c.h3.connect('x', '/wt', null).catch(() => undefined);
    c.t.data(0, responseHeaders(404));
    c.clock.advance(10 * CONNECTION_CLOSE_MAX_WAIT_MS);
    expect(c.ops('close')).toEqual([]);
  });
});

describe('a throwing application callback', () => {
  it('aborts only its session: CONNECT stream reset with H3_INTERNAL_ERROR, onClose code 0 and http3Code 0x102', () => {
    const boom = new Error('app bug');
    const h = serverWithSession();
    h.t.data(4, connectHeaders());
    h.sessions[0].onDatagram = () => {
      throw boom;
    };
    h.t.datagram(encodeDatagram(0, enc('x')));
    expect(h.ops('reset', 0)).toEqual([{ op: 'reset', id: 0, code: H3_INTERNAL_ERROR }]);
    expect(h.ops('stop', 0)).toEqual([{ op: 'stop', id: 0, code: H3_INTERNAL_ERROR }]);
    expect(h.closes.get(0)).toEqual({ code: 0, http3Code: H3_INTERNAL_ERROR, reason: 'application callback threw', byPeer: false, error: boom });
    expect(h.h3.counters.callbackErrors).toBe(1);
    expect(h.sessions[1].isClosed).toBe(false);
  });

  it('in an ended session (its onClose) is only counted', () => {
    const h = serverWithSession({
      onSession: (s) => {
        s.onClose = () => {
          throw new Error('in onClose');
        };
      },
    });
    expect(() => h.sessions[0].close(5, 'bye')).not.toThrow();
    expect(h.h3.counters.callbackErrors).toBe(1);
    expect(h.ops('reset', 0)).toEqual([]);
  });
});

describe('the connection ending under its sessions', () => {
  it('ends them byPeer, with http3Code when an HTTP/3 code closed it', () => {
    const h = serverWithSession();
    h.t.peerClosed({ isApp: true, code: 0x10c, reason: 'bye' });
    expect(h.closes.get(0)).toEqual({ code: 0, http3Code: 0x10c, reason: 'bye', byPeer: true });
  });

  it('without an HTTP/3 code after a transport close or an idle timeout', () => {
    const h = serverWithSession();
    h.t.peerClosed({ isApp: false, code: 0x1, reason: '', timedOut: false });
    expect(h.closes.get(0)).toEqual({ code: 0, reason: 'connection closed', byPeer: true });
  });
});

describe("the peer's GOAWAY", () => {
  it('marks every open session draining once', async () => {
    const drains: number[] = [];
    const c = harness('client');
    c.t.data(3, serverControlStream());
    const opened = [c.h3.connect('x', '/wt', null), c.h3.connect('x', '/wt', null)];
    c.t.data(0, responseHeaders(200));
    c.t.data(4, responseHeaders(200));
    for (const s of await Promise.all(opened)) s.onDrain = () => drains.push(s.id);
    c.t.data(3, cat(encodeGoawayFrame(8), encodeGoawayFrame(8)));
    expect(drains).toEqual([0, 4]);
  });
});
