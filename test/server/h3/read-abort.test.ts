/**
 * Aborting the reading of a peer's stream (server/h3/read-abort.ts). Unit: a bidirectional stream
 * is stopped at once; a peer unidirectional stream is read and discarded for
 * UNI_STREAM_STOP_GRACE_MS and only then stopped, unless it ended meanwhile. Real UDP: a client
 * whose 300 unidirectional streams the server application refuses can still open more (issue 10:
 * quiche 0.18 never freed a stopped peer uni stream, and after 99 the connection could open no
 * other), and the same for bidirectional streams.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { UNI_STREAM_STOP_GRACE_MS } from '../../../server/h3/h3-limits.js';
import { webTransportCodeToHttp3, H3_STREAM_CREATION_ERROR, WT_SESSION_GONE } from '../../../server/h3/wire/errors.js';
import { encodeWtBidiStreamHeader, encodeWtUniStreamHeader } from '../../../server/h3/wire/wt-streams.js';
import { WebTransportServer } from '../../../server/h3/server.js';
import { NodeWebTransport } from '../../../server/h3/client/node-webtransport.js';
import type { WebTransportStream } from '../../../server/h3/session.js';
import { cat, enc, serverWithSession } from './helpers/h3-harness.js';
import { testCert } from './helpers/cert.js';
import { readAllBytes, waitFor } from './helpers/util.js';

describe('abortReading (scripted transport)', () => {
  it('stops a bidirectional stream at once', () => {
    const h = serverWithSession({ onSession: (s) => { s.onBidiStream = (st) => st.stopSending(3); } });
    h.t.data(4, cat(encodeWtBidiStreamHeader(0), enc('x')));
    expect(h.ops('stop', 4)).toEqual([{ op: 'stop', id: 4, code: webTransportCodeToHttp3(3) }]);
  });

  it('discards a peer uni stream; it ending within the grace frees it without STOP_SENDING', () => {
    const got: string[] = [];
    const h = serverWithSession({
      onSession: (s) => {
        s.onUniStream = (st) => {
          st.onData = (d) => {
            got.push(Buffer.from(d).toString());
            st.stopSending(3);
          };
        };
      },
    });
    h.t.data(6, cat(encodeWtUniStreamHeader(0), enc('first')));
    h.t.data(6, enc('ignored'));
    h.clock.advance(UNI_STREAM_STOP_GRACE_MS - 1);
    h.t.data(6, enc('more'), true);
    h.clock.advance(10 * UNI_STREAM_STOP_GRACE_MS);
    expect(got).toEqual(['first']);
    expect(h.ops('stop', 6)).toEqual([]);
    expect(h.h3.readers.get(6)).toBeUndefined();
    expect(h.h3.counters.uniStreamsStoppedLate).toBe(0);
  });

  it('a peer reset within the grace frees it too', () => {
    const h = serverWithSession({ onSession: (s) => { s.onUniStream = (st) => st.stopSending(3); } });
    h.t.data(6, cat(encodeWtUniStreamHeader(0), enc('x')));
    h.t.reset(6, webTransportCodeToHttp3(3));
    h.clock.advance(10 * UNI_STREAM_STOP_GRACE_MS);
    expect(h.ops('stop', 6)).toEqual([]);
    expect(h.h3.readers.get(6)).toBeUndefined();
  });

  it('a peer uni stream still open after the grace gets STOP_SENDING, counted', () => {
    const h = serverWithSession({ onSession: (s) => { s.onUniStream = (st) => st.stopSending(3); } });
    h.t.data(6, cat(encodeWtUniStreamHeader(0), enc('x')));
    h.clock.advance(UNI_STREAM_STOP_GRACE_MS - 1);
    expect(h.ops('stop', 6)).toEqual([]);
    h.clock.advance(1);
    expect(h.ops('stop', 6)).toEqual([{ op: 'stop', id: 6, code: webTransportCodeToHttp3(3) }]);
    expect(h.h3.counters.uniStreamsStoppedLate).toBe(1);
  });

  it('applies to unknown stream types (H3_STREAM_CREATION_ERROR) and to streams of an ended session (WT_SESSION_GONE)', () => {
    const h = serverWithSession();
    h.t.data(10, new Uint8Array([0x40, 0x21, 1, 2]));
    h.t.data(6, cat(encodeWtUniStreamHeader(0), enc('open')));
    h.sessions[0].close(1, '');
    h.t.flush();
    expect(h.ops('stop')).toEqual([]);
    h.clock.advance(UNI_STREAM_STOP_GRACE_MS);
    expect(h.ops('stop')).toEqual([
      { op: 'stop', id: 10, code: H3_STREAM_CREATION_ERROR },
      { op: 'stop', id: 6, code: WT_SESSION_GONE },
    ]);
  });
});

const cert = testCert();
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function serverAndClient(onStream: (st: WebTransportStream, seen: number) => void) {
  const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'] });
  let seen = 0;
  server.onSession = (s) => {
    s.onUniStream = (st) => onStream(st, ++seen);
    s.onBidiStream = (st) => onStream(st, ++seen);
  };
  const { port } = await server.listen();
  cleanup.push(() => server.close());
  const c = new NodeWebTransport(`https://127.0.0.1:${port}/wt`, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.hash }] });
  cleanup.push(async () => c.close());
  await c.ready;
  return { server, c, seen: () => seen };
}

describe('stream credit after refused streams (real UDP, issue 10)', () => {
  it('300 unidirectional streams refused by the application, then one more is read', async () => {
    const REFUSED = 300;
    const accepted: string[] = [];
    const { server, c, seen } = await serverAndClient((st, n) => {
      if (n <= REFUSED) {
        // The application refuses the stream as soon as it sees it (as the game does).
        st.stopSending(1);
        return;
      }
      st.onData = (d) => accepted.push(Buffer.from(d).toString());
    });
    for (let i = 0; i < REFUSED; i++) {
      const w = (await c.createUnidirectionalStream()).getWriter();
      await w.write(enc(`refused ${i}`));
      // The server has seen (and refused) it before the client finishes it.
      await waitFor(() => seen() > i, 5_000);
      w.write(enc(' and more')).catch(() => undefined);
      w.close().catch(() => undefined);
    }
    const w = (await c.createUnidirectionalStream()).getWriter();
    await w.write(enc('accepted'));
    await waitFor(() => accepted.includes('accepted'), 5_000);
    expect(seen()).toBe(REFUSED + 1);
    expect(server.stats().h3.uniStreamsStoppedLate).toBe(0);
  }, 60_000);

  it('300 bidirectional streams refused by the application, then one more echoes', async () => {
    const REFUSED = 300;
    const { c, seen } = await serverAndClient((st, n) => {
      if (n <= REFUSED) {
        st.reset(1);
        st.stopSending(1);
        return;
      }
      st.onData = (d) => st.write(d);
      st.onEnd = () => st.end();
    });
    for (let i = 0; i < REFUSED; i++) {
      const s = await c.createBidirectionalStream();
      const w = s.writable.getWriter();
      await w.write(enc(`refused ${i}`));
      await waitFor(() => seen() > i, 5_000);
      w.close().catch(() => undefined);
      s.readable.cancel().catch(() => undefined);
    }
    const s = await c.createBidirectionalStream();
    const w = s.writable.getWriter();
    await w.write(enc('echo'));
    await w.close();
    expect(Buffer.from(await readAllBytes(s.readable)).toString()).toBe('echo');
  }, 60_000);
});
