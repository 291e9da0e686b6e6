/**
 * NodeWebTransport <-> WebTransportServer over real UDP on 127.0.0.1 with real quiche: datagrams
 * and streams both ways, a 100 KB echo, reset/stop/close codes both ways, drain, refusals
 * (404/403/429/503), the connection closed after its session, and 100 concurrent sessions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebTransportServer, type WebTransportServerOptions } from '../../../server/h3/server.js';
import { NodeWebTransport, WebTransportError } from '../../../server/h3/client/node-webtransport.js';
import type { SessionCloseInfo, WebTransportSession, WebTransportStream } from '../../../server/h3/session.js';
import { testCert } from './helpers/cert.js';
import { echo, waitFor, readAllBytes, pattern, timedReader } from './helpers/util.js';

const cert = testCert();
const servers: WebTransportServer[] = [];
const clients: NodeWebTransport[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function startServer(opts: Partial<WebTransportServerOptions> = {}, onSession?: (s: WebTransportSession) => void) {
  const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'], ...opts });
  servers.push(server);
  const sessions: WebTransportSession[] = [];
  server.onSession = (s) => {
    sessions.push(s);
    onSession?.(s);
  };
  const { port } = await server.listen();
  return { server, port, sessions };
}

function client(port: number, opts: ConstructorParameters<typeof NodeWebTransport>[1] = {}, path = '/wt') {
  const c = new NodeWebTransport(`https://127.0.0.1:${port}${path}`, {
    serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.hash }],
    ...opts,
  });
  clients.push(c);
  return c;
}

describe('NodeWebTransport <-> WebTransportServer', () => {
  it('opens a session and reports path, origin, address and datagram size', async () => {
    const { port, sessions } = await startServer({}, echo);
    const c = client(port, { origin: 'https://game.example' });
    await c.ready;
    await waitFor(() => sessions.length === 1);
    const s = sessions[0];
    expect(s.path).toBe('/wt');
    expect(s.origin).toBe('https://game.example');
    expect(s.remoteAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(s.maxDatagramSize).toBeGreaterThan(1000);
    expect(c.datagrams.maxDatagramSize).toBeGreaterThan(1000);
  });

  it('carries datagrams both ways', async () => {
    const { port, sessions } = await startServer({}, echo);
    const c = client(port);
    await c.ready;
    const w = c.datagrams.writable.getWriter();
    const r = c.datagrams.readable.getReader();
    const read = timedReader(r);
    const got = new Set<number>();
    for (let round = 0; round < 10 && got.size < 20; round++) {
      for (let i = 0; i < 20; i++) if (!got.has(i)) await w.write(new Uint8Array([i, 0xee]));
      const until = Date.now() + 200;
      while (got.size < 20 && Date.now() < until) {
        const v = await read(50);
        if (v && v.value) got.add(v.value[0]);
      }
    }
    expect(got.size).toBe(20);
    // Server-initiated datagrams.
    sessions[0].sendDatagram(new TextEncoder().encode('from-server'));
    // Late echoes of the resends above may still arrive first.
    const fromServer = await waitFor(async () => {
      const v = await read(100);
      return v?.value && new TextDecoder().decode(v.value) === 'from-server';
    });
    expect(fromServer).toBe(true);
    expect(sessions[0].datagramsReceived).toBeGreaterThanOrEqual(20);
  });

  it('echoes 100 KB over a client-opened bidirectional stream', async () => {
    const { port } = await startServer({}, echo);
    const c = client(port);
    const bs = await c.createBidirectionalStream();
    const data = pattern(100_000);
    const w = bs.writable.getWriter();
    const writing = w.write(data).then(() => w.close());
    const back = await readAllBytes(bs.readable);
    await writing;
    expect(back.byteLength).toBe(100_000);
    expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
  });

  it('carries server-opened bidi and uni streams and client uni streams', async () => {
    const received: string[] = [];
    const { port, sessions } = await startServer({}, (s) => {
      s.onUniStream = (st) => {
        const parts: Uint8Array[] = [];
        st.onData = (d) => parts.push(d);
        st.onEnd = () => received.push(Buffer.concat(parts).toString());
      };
    });
    const c = client(port);
    await c.ready;
    await waitFor(() => sessions.length === 1);
    const s = sessions[0];
    // client -> server uni
    const uw = (await c.createUnidirectionalStream()).getWriter();
    await uw.write(new TextEncoder().encode('client uni'));
    await uw.close();
    await waitFor(() => received.length === 1);
    expect(received[0]).toBe('client uni');
    // server -> client uni
    const su = s.openUniStream()!;
    su.write(new TextEncoder().encode('server uni'));
    su.end();
    const ur = c.incomingUnidirectionalStreams.getReader();
    const incoming = (await ur.read()).value!;
    expect(Buffer.from(await readAllBytes(incoming)).toString()).toBe('server uni');
    // server -> client bidi, client answers on it
    const sb = s.openBidiStream()!;
    const answer: Uint8Array[] = [];
    let ended = false;
    sb.onData = (d) => answer.push(d);
    sb.onEnd = () => {
      ended = true;
    };
    sb.write(new TextEncoder().encode('ping'));
    const br = c.incomingBidirectionalStreams.getReader();
    const pair = (await br.read()).value!;
    const rr = pair.readable.getReader();
    expect(Buffer.from((await rr.read()).value!).toString()).toBe('ping');
    const pw = pair.writable.getWriter();
    await pw.write(new TextEncoder().encode('pong'));
    await pw.close();
    await waitFor(() => ended);
    expect(Buffer.concat(answer).toString()).toBe('pong');
  });

  it('maps stream reset and STOP_SENDING codes both ways', async () => {
    const serverStreams: WebTransportStream[] = [];
    const resets: Array<number | null> = [];
    const stops: Array<number | null> = [];
    const { port } = await startServer({}, (s) => {
      s.onBidiStream = (st) => {
        serverStreams.push(st);
        st.onReset = (code) => resets.push(code);
        st.onStopSending = (code) => stops.push(code);
      };
    });
    const c = client(port);
    // client aborts its send side with code 7 -> server sees reset 7
    const a = await c.createBidirectionalStream();
    const aw = a.writable.getWriter();
    await aw.write(new Uint8Array([1]));
    // Let the stream reach the server first: a stream reset before its header arrives is never seen.
    await waitFor(() => serverStreams.length === 1);
    await aw.abort(new WebTransportError('abort', 'stream', 7));
    await waitFor(() => resets.length === 1);
    expect(resets[0]).toBe(7);
    // server resets with 0xfffffffe (largest codes survive the mapping) -> client read errors
    const b = await c.createBidirectionalStream();
    const bw = b.writable.getWriter();
    await bw.write(new Uint8Array([2]));
    await waitFor(() => serverStreams.length === 2);
    serverStreams[1].reset(0xfffffffe);
    const err = await readAllBytes(b.readable).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(WebTransportError);
    expect((err as WebTransportError).streamErrorCode).toBe(0xfffffffe);
    // client cancels reading with code 9 -> server gets STOP_SENDING 9 when it writes
    const d = await c.createBidirectionalStream();
    const dw = d.writable.getWriter();
    await dw.write(new Uint8Array([3]));
    await waitFor(() => serverStreams.length === 3);
    await d.readable.cancel(new WebTransportError('stop', 'stream', 9));
    await waitFor(() => {
      serverStreams[2].write(new Uint8Array(10));
      return stops.length === 1;
    });
    expect(stops[0]).toBe(9);
    // server stops reading with 11 -> client writes fail with streamErrorCode 11
    const e = await c.createBidirectionalStream();
    const ew = e.writable.getWriter();
    await ew.write(new Uint8Array([4]));
    await waitFor(() => serverStreams.length === 4);
    serverStreams[3].stopSending(11);
    const werr = await waitFor(async () => {
      try {
        await ew.write(new Uint8Array(100));
        return null;
      } catch (x) {
        return x;
      }
    });
    expect((werr as WebTransportError).streamErrorCode).toBe(11);
  });

  it('delivers session close codes and reasons both ways', async () => {
    const closes: SessionCloseInfo[] = [];
    const { port, sessions } = await startServer({}, (s) => {
      s.onClose = (i) => closes.push(i);
    });
    const c1 = client(port);
    await c1.ready;
    c1.close({ closeCode: 4001, reason: 'client says bye' });
    expect(await c1.closed).toEqual({ closeCode: 4001, reason: 'client says bye' });
    await waitFor(() => closes.length === 1);
    expect(closes[0]).toEqual({ code: 4001, reason: 'client says bye', byPeer: true });

    const c2 = client(port);
    await c2.ready;
    await waitFor(() => sessions.length === 2);
    sessions[1].close(0xffffffff, 'server says bye ✓');
    expect(await c2.closed).toEqual({ closeCode: 0xffffffff, reason: 'server says bye ✓' });
    expect(closes[1]).toEqual({ code: 0xffffffff, reason: 'server says bye ✓', byPeer: false });
  });

  it('drain sends GOAWAY and a DRAIN capsule, then refuses new sessions with 503', async () => {
    const { server, port } = await startServer({}, echo);
    const c = client(port);
    await c.ready;
    server.drain();
    await c.draining;
    await waitFor(() => c.stats().goawaysReceived === 1 && c.stats().drainsReceived === 1);
    expect(server.stats().h3.goawaysSent).toBe(1);
    expect(server.stats().h3.drainsSent).toBe(1);
    // The drained session still works until closed.
    const w = c.datagrams.writable.getWriter();
    const read = timedReader(c.datagrams.readable.getReader());
    await waitFor(async () => {
      await w.write(new Uint8Array([5]));
      return (await read(100)) !== null;
    });
    const late = client(port);
    await expect(late.ready).rejects.toThrow(/503/);
    expect(late.responseStatus).toBe(503);
  });

  it('answers 404 for an unknown path, 403 for a refused origin, 429 over capacity', async () => {
    const { server, port } = await startServer({ allowedOrigins: ['https://ok.example'], maxSessions: 1 }, echo);
    const notFound = client(port, { origin: 'https://ok.example' }, '/nope');
    await expect(notFound.ready).rejects.toThrow(/404/);
    expect(notFound.responseStatus).toBe(404);
    const forbidden = client(port, { origin: 'https://evil.example' });
    await expect(forbidden.ready).rejects.toThrow(/403/);
    const noOrigin = client(port);
    await expect(noOrigin.ready).rejects.toThrow(/403/);
    const first = client(port, { origin: 'https://ok.example' });
    await first.ready;
    const second = client(port, { origin: 'https://ok.example' });
    await expect(second.ready).rejects.toThrow(/429/);
    expect(server.stats().h3.responses).toMatchObject({ 200: 1, 403: 2, 404: 1, 429: 1 });
  });

  it('refuses a server whose certificate hash does not match', async () => {
    const { port } = await startServer({}, echo);
    const wrong = new Uint8Array(cert.hash);
    wrong[0] ^= 0xff;
    const c = client(port, { serverCertificateHashes: [{ algorithm: 'sha-256', value: wrong }] });
    await expect(c.ready).rejects.toThrow(/closed/);
    expect(c.connectionCloseInfo?.code).toBe(0x100 + 42);
    expect(() => new NodeWebTransport(`https://127.0.0.1:${port}/wt`).ready).not.toThrow();
    const noPin = new NodeWebTransport(`https://127.0.0.1:${port}/wt`);
    await expect(noPin.ready).rejects.toThrow(/serverCertificateHashes/);
    const any = client(port, { serverCertificateHashes: undefined, allowAnyCertificate: true });
    await any.ready;
  });

  it('closes the QUIC connection shortly after its session ends, even if the client does not', async () => {
    const { server, port, sessions } = await startServer({}, echo);
    // Like Chromium: the client leaves the connection open after the session ends.
    const c = client(port, { closeConnectionWhenDone: false });
    await c.ready;
    expect(server.stats().connectionsActive).toBe(1);
    await waitFor(() => sessions.length === 1);
    sessions[0].close(0, 'done');
    await c.closed;
    await waitFor(() => c.stats().connectionClosed, 10_000);
    expect(c.connectionCloseInfo?.byPeer).toBe(true);
    expect(c.connectionCloseInfo?.code).toBe(0x100); // H3_NO_ERROR
    await waitFor(() => server.stats().connectionsActive === 0);
  });

  it('serves 100 concurrent sessions, each with a datagram and a stream echo', async () => {
    // 100 connections from one address: over the per-address share meant for the internet.
    const { server, port } = await startServer({ maxConnectionsPerAddress: 100 }, echo);
    const many = Array.from({ length: 100 }, () => client(port));
    await Promise.all(many.map((c) => c.ready));
    expect(server.sessionCount).toBe(100);
    const results = await Promise.all(many.map(async (c, i) => {
      const bs = await c.createBidirectionalStream();
      const w = bs.writable.getWriter();
      await w.write(new TextEncoder().encode(`stream-${i}`));
      await w.close();
      const text = Buffer.from(await readAllBytes(bs.readable)).toString();
      const dw = c.datagrams.writable.getWriter();
      const read = timedReader(c.datagrams.readable.getReader());
      const got = await waitFor(async () => {
        await dw.write(new TextEncoder().encode(`dgram-${i}`));
        const v = await read(200);
        return v?.value ? Buffer.from(v.value).toString() : null;
      }, 10_000);
      return { text, got };
    }));
    results.forEach((r, i) => {
      expect(r.text).toBe(`stream-${i}`);
      expect(r.got).toBe(`dgram-${i}`);
    });
    for (const c of many) c.close({ closeCode: 1, reason: '' });
    await waitFor(() => server.sessionCount === 0);
    await waitFor(() => server.stats().connectionsActive === 0, 10_000);
  }, 60_000);
});
