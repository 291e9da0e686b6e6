/**
 * Application code that throws must not take the server down: real quiche, real UDP on
 * 127.0.0.1. Two sessions on one server; session A's callbacks throw (onDatagram, a stream's
 * onData, onSession itself, onClose, an async onDatagram that rejects). Each time: no uncaught
 * exception or unhandled rejection, `h3.callbackErrors` counts it, A is aborted with
 * H3_INTERNAL_ERROR (0x102) on its CONNECT stream, and B keeps echoing datagrams and stream
 * bytes; likewise for two sessions on one QUIC connection (raw client, exact codes on the
 * wire). The same for the Node client on a shared endpoint, and for a throw inside one QUIC
 * connection's own processing (closed with transport INTERNAL_ERROR 0x1, others unharmed).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebTransportServer } from '../../../server/h3/server.js';
import { NodeWebTransport } from '../../../server/h3/client/node-webtransport.js';
import { QuicEndpoint } from '../../../server/h3/quic/endpoint.js';
import { buildServerConfig } from '../../../server/h3/quic/config.js';
import type { SessionCloseInfo, WebTransportSession } from '../../../server/h3/session.js';
import { H3_INTERNAL_ERROR } from '../../../server/h3/wire/errors.js';
import { decodeDatagram, encodeDatagram } from '../../../server/h3/wire/datagram.js';
import { testCert } from './helpers/cert.js';
import { RawClient } from './helpers/raw-client.js';
import { echo, quicHandler, readAllBytes, timedReader, waitFor } from './helpers/util.js';

const cert = testCert();
const cleanup: Array<() => Promise<void> | void> = [];
/** Everything that reached the process-level handlers while a test ran. */
const escaped: unknown[] = [];
const onUncaught = (e: unknown): void => {
  escaped.push(e);
};

beforeEach(() => {
  escaped.length = 0;
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
});

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  expect(escaped).toEqual([]);
});

const A_ORIGIN = 'https://a.test';
const B_ORIGIN = 'https://b.test';

/**
 * A server where session B echoes and session A gets `setupA` (after the echo handlers, so it
 * overrides what it wants). Records every session's close info.
 */
async function startServer(setupA: (s: WebTransportSession) => void, onSessionA?: (s: WebTransportSession) => void) {
  const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'] });
  const sessions = new Map<string, WebTransportSession>();
  const closes = new Map<string, SessionCloseInfo>();
  server.onSession = (s) => {
    sessions.set(s.origin, s);
    echo(s);
    s.onClose = (info) => {
      closes.set(s.origin, info);
    };
    if (s.origin === A_ORIGIN) {
      setupA(s);
      onSessionA?.(s);
    }
  };
  const { port } = await server.listen();
  cleanup.push(() => server.close());
  return { server, port, sessions, closes };
}

function client(port: number, origin: string, endpoint?: QuicEndpoint): NodeWebTransport {
  const c = new NodeWebTransport(`https://127.0.0.1:${port}/wt`, {
    serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.hash }],
    origin,
    endpoint,
  });
  cleanup.push(() => c.close());
  return c;
}

/** Sends datagrams until one comes back with the same bytes (loopback may still drop one). */
async function datagramEchoes(c: NodeWebTransport, tag: number): Promise<boolean> {
  const w = c.datagrams.createWritable().getWriter();
  const reader = c.datagrams.readable.getReader();
  const read = timedReader(reader);
  try {
    for (let attempt = 0; attempt < 20; attempt++) {
      await w.write(new Uint8Array([tag, attempt]));
      const until = Date.now() + 250;
      while (Date.now() < until) {
        const r = await read(50);
        if (r?.value && r.value[0] === tag) return true;
      }
    }
    return false;
  } finally {
    reader.releaseLock();
    w.releaseLock();
  }
}

/** Opens a stream, sends `text`, closes, and returns what came back. */
async function streamEcho(c: NodeWebTransport, text: string): Promise<string> {
  const bs = await c.createBidirectionalStream();
  const w = bs.writable.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  return Buffer.from(await readAllBytes(bs.readable)).toString();
}

async function expectBAlive(b: NodeWebTransport, tag: number): Promise<void> {
  expect(await datagramEchoes(b, tag)).toBe(true);
  expect(await streamEcho(b, `still here ${tag}`)).toBe(`still here ${tag}`);
}

/** The settled outcome of a client's `closed` promise, as text. */
async function closedOutcome(c: NodeWebTransport): Promise<string> {
  return c.closed.then(
    (info) => `closed ${info.closeCode} ${info.reason}`,
    (e: unknown) => `rejected ${(e as Error).message}`,
  );
}

describe('application callback isolation (server)', () => {
  it('a throwing onDatagram aborts only its session with H3_INTERNAL_ERROR', async () => {
    const boom = new Error('app bug in onDatagram');
    const { server, port, closes } = await startServer((s) => {
      s.onDatagram = () => {
        throw boom;
      };
    });
    const b = client(port, B_ORIGIN);
    const a = client(port, A_ORIGIN);
    await Promise.all([a.ready, b.ready]);
    await expectBAlive(b, 1);
    void a.datagrams.writable.getWriter().write(new Uint8Array([9]));
    await waitFor(() => closes.has(A_ORIGIN));
    const info = closes.get(A_ORIGIN)!;
    expect(info.http3Code).toBe(H3_INTERNAL_ERROR);
    expect(info.code).toBe(0);
    expect(info.byPeer).toBe(false);
    expect(info.error).toBe(boom);
    expect(server.stats().h3.callbackErrors).toBe(1);
    // The peer sees its CONNECT stream reset with H3_INTERNAL_ERROR.
    expect(await closedOutcome(a)).toBe('closed 0 CONNECT stream reset (H3_INTERNAL_ERROR)');
    await expectBAlive(b, 2);
    expect(closes.has(B_ORIGIN)).toBe(false);
    expect(server.stats().endpoint.internalErrors).toBe(0);
  });

  it('a rejecting async onDatagram is counted and aborts its session (no unhandled rejection)', async () => {
    const { server, port, closes } = await startServer((s) => {
      s.onDatagram = async () => {
        await Promise.resolve();
        throw new Error('async app bug');
      };
    });
    const b = client(port, B_ORIGIN);
    const a = client(port, A_ORIGIN);
    await Promise.all([a.ready, b.ready]);
    void a.datagrams.writable.getWriter().write(new Uint8Array([9]));
    await waitFor(() => closes.has(A_ORIGIN));
    expect(closes.get(A_ORIGIN)).toMatchObject({ code: 0, http3Code: H3_INTERNAL_ERROR });
    expect(server.stats().h3.callbackErrors).toBe(1);
    await expectBAlive(b, 3);
  });

  it('a throwing stream onData aborts only its session', async () => {
    const { server, port, closes } = await startServer((s) => {
      s.onBidiStream = (st) => {
        st.onData = () => {
          throw new TypeError('app bug in onData');
        };
      };
    });
    const b = client(port, B_ORIGIN);
    const a = client(port, A_ORIGIN);
    await Promise.all([a.ready, b.ready]);
    const bs = await a.createBidirectionalStream();
    const w = bs.writable.getWriter();
    void w.write(new TextEncoder().encode('hello')).catch(() => undefined);
    await waitFor(() => closes.has(A_ORIGIN));
    const info = closes.get(A_ORIGIN)!;
    expect(info).toMatchObject({ code: 0, http3Code: H3_INTERNAL_ERROR });
    expect(info.error).toBeInstanceOf(TypeError);
    expect(server.stats().h3.callbackErrors).toBe(1);
    expect(await closedOutcome(a)).toBe('closed 0 CONNECT stream reset (H3_INTERNAL_ERROR)');
    // A's stream went with its session.
    await expect(readAllBytes(bs.readable)).rejects.toThrow();
    await expectBAlive(b, 4);
  });

  it('a throwing onSession aborts that session; later sessions are served', async () => {
    const { server, port, closes, sessions } = await startServer(() => undefined, () => {
      throw new Error('app bug in onSession');
    });
    const b = client(port, B_ORIGIN);
    await b.ready;
    const a = client(port, A_ORIGIN);
    // The 200 and the reset leave together: the client may see either first.
    const outcome = await closedOutcome(a);
    expect(outcome).toContain('H3_INTERNAL_ERROR');
    await waitFor(() => closes.has(A_ORIGIN));
    expect(closes.get(A_ORIGIN)).toMatchObject({ code: 0, http3Code: H3_INTERNAL_ERROR });
    expect(sessions.get(A_ORIGIN)!.isClosed).toBe(true);
    expect(server.stats().h3.callbackErrors).toBe(1);
    expect(server.sessionCount).toBe(1);
    await expectBAlive(b, 5);
    // A new session after the failure works as usual.
    const c = client(port, 'https://c.test');
    await c.ready;
    await expectBAlive(c, 6);
  });

  it('a throwing onClose is counted and changes nothing else', async () => {
    const { server, port, sessions } = await startServer((s) => {
      s.onClose = () => {
        throw new Error('app bug in onClose');
      };
    });
    const b = client(port, B_ORIGIN);
    const a = client(port, A_ORIGIN);
    await Promise.all([a.ready, b.ready]);
    await waitFor(() => sessions.size === 2);
    // Peer close: the throw happens on the packet path.
    a.close({ closeCode: 42, reason: 'bye' });
    await waitFor(() => server.stats().h3.callbackErrors === 1);
    expect(sessions.get(A_ORIGIN)!.isClosed).toBe(true);
    expect(await closedOutcome(a)).toBe('closed 42 bye');
    await expectBAlive(b, 7);
    // Local close from application code: its onClose throw is not rethrown to the caller.
    const bSession = sessions.get(B_ORIGIN)!;
    bSession.onClose = () => {
      throw new Error('app bug in onClose (local close)');
    };
    expect(() => bSession.close(7, 'done')).not.toThrow();
    expect(server.stats().h3.callbackErrors).toBe(2);
    expect(await closedOutcome(b)).toBe('closed 7 done');
    expect(server.stats().endpoint.internalErrors).toBe(0);
  });
});

describe('two sessions on one connection', () => {
  it('a throwing onDatagram resets only its CONNECT stream (H3_INTERNAL_ERROR); the sibling session keeps echoing', async () => {
    const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'] });
    const closes = new Map<number, SessionCloseInfo>();
    let first = -1;
    server.onSession = (s) => {
      if (first < 0) first = s.id;
      echo(s);
      if (s.id === first) {
        s.onDatagram = () => {
          throw new Error('app bug on one of two sessions');
        };
      }
      s.onClose = (info) => closes.set(s.id, info);
    };
    const { port } = await server.listen();
    cleanup.push(() => server.close());
    const raw = await RawClient.connect(port);
    cleanup.push(() => raw.close());
    raw.openControl();
    const a = raw.connectRequest(port);
    expect(await raw.outcome(a)).toEqual({ kind: 'status', status: 200 });
    const b = raw.connectRequest(port);
    expect(await raw.outcome(b)).toEqual({ kind: 'status', status: 200 });
    expect(server.sessionCount).toBe(2);
    raw.quic.sendDatagram(encodeDatagram(a, new Uint8Array([0xaa])));
    // The server resets A's CONNECT stream with H3_INTERNAL_ERROR (and stops reading it).
    await waitFor(() => raw.streams.get(a)?.reset === H3_INTERNAL_ERROR);
    // STOP_SENDING shows when we next write on that stream (-1: quiche had already collected
    // the stream, both sides being done, so the code is no longer readable).
    const stopped = await waitFor(() => {
      raw.quic.write(a, new Uint8Array([0]));
      return raw.streams.get(a)?.stopped ?? null;
    }, 3000);
    expect([H3_INTERNAL_ERROR, -1]).toContain(stopped);
    expect(closes.get(a)).toMatchObject({ code: 0, http3Code: H3_INTERNAL_ERROR, byPeer: false });
    expect(server.stats().h3.callbackErrors).toBe(1);
    // B, on the same QUIC connection, still echoes.
    await waitFor(() => {
      raw.quic.sendDatagram(encodeDatagram(b, new Uint8Array([0xbb])));
      return raw.datagrams.some((d) => {
        const dec = decodeDatagram(d);
        return dec.status === 'ok' && dec.streamId === b && dec.payload[0] === 0xbb;
      });
    });
    expect(raw.alive).toBe(true);
    expect(closes.has(b)).toBe(false);
    expect(server.sessionCount).toBe(1);
  });
});

describe('purgeDatagrams with a throwing predicate', () => {
  it('rethrows to the caller after leaving native code; the rest of the queue is kept', async () => {
    const { server, port, sessions } = await startServer(() => undefined);
    const a = client(port, A_ORIGIN);
    await a.ready;
    await waitFor(() => sessions.size === 1);
    const s = sessions.get(A_ORIGIN)!;
    const read = timedReader(a.datagrams.readable.getReader());
    for (let i = 0; i < 10; i++) s.sendDatagram(new Uint8Array([i]));
    const bad = new RangeError('predicate bug');
    // Still queued (flushed on the next loop turn): 0..2 purged, the predicate throws at 3.
    expect(() => s.purgeDatagrams((d) => {
      if (d[0] === 3) throw bad;
      return d[0] < 3;
    })).toThrow(bad);
    const got: number[] = [];
    for (;;) {
      const r = await read(300);
      if (!r?.value) break;
      got.push(r.value[0]);
    }
    expect(got.sort((x, y) => x - y)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(s.isClosed).toBe(false);
    expect(server.stats().endpoint.internalErrors).toBe(0);
  });
});

describe('application callback isolation (Node client)', () => {
  it('a throwing callback on one client aborts its session only; others on the shared endpoint carry on', async () => {
    const { port, closes, sessions } = await startServer(() => undefined);
    const endpoint = await QuicEndpoint.bind({});
    cleanup.push(() => endpoint.close());
    const a = client(port, A_ORIGIN, endpoint);
    const b = client(port, B_ORIGIN, endpoint);
    await Promise.all([a.ready, b.ready]);
    await waitFor(() => sessions.size === 2);
    await expectBAlive(b, 8);
    a.session!.onDatagram = () => {
      throw new Error('client app bug');
    };
    // Server -> A until the datagram arrives.
    await waitFor(() => {
      sessions.get(A_ORIGIN)!.sendDatagram(new Uint8Array([1]));
      return a.stats().callbackErrors === 1;
    });
    expect(await closedOutcome(a)).toBe('rejected session aborted with H3_INTERNAL_ERROR: application callback threw');
    await waitFor(() => closes.has(A_ORIGIN));
    expect(closes.get(A_ORIGIN)).toMatchObject({ code: 0, http3Code: H3_INTERNAL_ERROR, byPeer: true, reason: 'CONNECT stream reset (H3_INTERNAL_ERROR)' });
    await expectBAlive(b, 9);
    expect(b.stats().callbackErrors).toBe(0);
    expect(endpoint.stats().internalErrors).toBe(0);
  });
});

describe('QUIC endpoint containment', () => {
  it('a throw inside one connection closes it with INTERNAL_ERROR (0x1); the others keep working', async () => {
    const config = buildServerConfig({ alpn: ['h3'], certPem: cert.certPem, keyPem: cert.keyPem });
    let accepted = 0;
    const server = await QuicEndpoint.bind({
      serverConfig: config,
      onConnection: (conn) => {
        // The first connection's upper layer is broken: it throws on every datagram.
        const broken = accepted++ === 0;
        conn.handler = quicHandler({
          onDatagram: (d) => {
            if (broken) throw new Error('bug in the layer above');
            conn.sendDatagram(d);
          },
        });
      },
    });
    cleanup.push(() => server.close());
    const { port } = server.address();
    const bad = await RawClient.connect(port);
    cleanup.push(() => bad.close());
    const good = await RawClient.connect(port);
    cleanup.push(() => good.close());
    bad.quic.sendDatagram(new Uint8Array([1]));
    const closed = await waitFor(() => bad.closeInfo);
    expect(closed).toMatchObject({ byPeer: true, isApp: false, code: 0x1 });
    expect(server.stats().internalErrors).toBe(1);
    await waitFor(() => {
      good.quic.sendDatagram(new Uint8Array([2, 2]));
      return good.datagrams.some((d) => d[0] === 2);
    });
    expect(good.alive).toBe(true);
  });
});
