/**
 * server/h3/quic/endpoint.ts on real quiche and UDP. Directly: how a datagram is routed or
 * dropped (malformed, unknown connection id, no server role) and counted, the bound address,
 * close. Through the WebTransport API: stream write backpressure (queue limit, refused write,
 * onWritable), datagram send never blocking (queue full = counted drop), purge of queued
 * datagrams, idle timeout, orderly close. Admission, amplification, stateless reset and kernel
 * drops have their own files beside this one (endpoint-*.test.ts, udp-drops.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebTransportServer, type WebTransportServerOptions } from '../../../../server/h3/server.js';
import { NodeWebTransport } from '../../../../server/h3/client/node-webtransport.js';
import type { SessionCloseInfo, WebTransportSession } from '../../../../server/h3/session.js';
import { ACK_COALESCE_MS, STREAM_WRITE_QUEUE_LIMIT_BYTES, DATAGRAM_SEND_QUEUE_LEN } from '../../../../server/h3/quic/limits.js';
import { QuicEndpoint } from '../../../../server/h3/quic/endpoint.js';
import { LOCAL_CID_LENGTH } from '../../../../server/h3/quic/limits.js';
import { QUIC_V1 } from '../../../../server/h3/quic/packet.js';
import { RawUdpPeer } from '../helpers/abandoned-handshakes.js';
import { testCert } from '../helpers/cert.js';
import { readAllBytes, timedReader, waitFor } from '../helpers/util.js';

const cert = testCert();
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function pair(opts: Partial<WebTransportServerOptions> = {}, clientOpts: ConstructorParameters<typeof NodeWebTransport>[1] = {}) {
  const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'], ...opts });
  const sessions: WebTransportSession[] = [];
  server.onSession = (s) => sessions.push(s);
  const { port } = await server.listen();
  cleanup.push(() => server.close());
  const client = new NodeWebTransport(`https://127.0.0.1:${port}/wt`, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.hash }], ...clientOpts });
  cleanup.push(() => client.close());
  await client.ready;
  await waitFor(() => sessions.length === 1);
  return { server, client, session: sessions[0] };
}

/** A long-header packet (RFC 9000 §17.2) of QUIC v1 with these connection ids, padded to `size`. */
function longPacket(dcid: Uint8Array, scid: Uint8Array, size = 1200): Uint8Array {
  const p = new Uint8Array(size);
  p[0] = 0xc0 | (2 << 4); // long header, fixed bit, type Handshake (carries no token)
  new DataView(p.buffer).setUint32(1, QUIC_V1);
  p[5] = dcid.length;
  p.set(dcid, 6);
  p[6 + dcid.length] = scid.length;
  p.set(scid, 7 + dcid.length);
  return p;
}

describe('QuicEndpoint: routing and counting', () => {
  it('drops and counts what it cannot route: short or malformed headers, unknown ids, long headers without a server role', async () => {
    // A client-only endpoint (no serverConfig) and no stateless resets: nothing is answered.
    const ep = await QuicEndpoint.bind({ statelessResetKey: null });
    cleanup.push(() => ep.close());
    const peer = await RawUdpPeer.bind();
    cleanup.push(() => peer.close());
    const port = ep.address().port;
    expect(ep.address().host).toBe('127.0.0.1');
    expect(port).toBeGreaterThan(0);

    peer.send(Uint8Array.of(0x40, 1, 2), port); // short header shorter than our connection id
    await waitFor(() => ep.stats().packetsDroppedMalformed === 1);
    const shortUnknown = new Uint8Array(1 + LOCAL_CID_LENGTH + 40);
    shortUnknown[0] = 0x40;
    shortUnknown.fill(0x33, 1);
    peer.send(shortUnknown, port); // a short header for an id nobody has
    await waitFor(() => ep.stats().packetsDroppedUnknown === 1);
    peer.send(Uint8Array.of(0xc0, 0, 0, 0, 1, 21, 0), port); // long header whose dcid claims 21 bytes
    await waitFor(() => ep.stats().packetsDroppedMalformed === 2);
    peer.send(longPacket(new Uint8Array(8).fill(7), new Uint8Array(8).fill(9)), port); // well formed, no server role
    await waitFor(() => ep.stats().packetsDroppedUnknown === 2);

    const st = ep.stats();
    expect(st.packetsIn).toBe(4);
    expect(st.bytesIn).toBe(3 + shortUnknown.length + 7 + 1200);
    expect(st.packetsOut).toBe(0);
    expect(st.statelessResetsSent).toBe(0);
    expect(st.connectionsActive).toBe(0);
    expect(ep.connectionCount).toBe(0);
    // Nothing came back to the sender.
    await new Promise((r) => setTimeout(r, 50));
    expect(peer.receivedPackets).toBe(0);
  });

  it('close() is idempotent and refuses new connections after it', async () => {
    const ep = await QuicEndpoint.bind();
    await ep.close();
    await ep.close();
    expect(ep.socketDrops()).toBeNull();
    expect(() => ep.connect({ host: '127.0.0.1', port: 9 }, undefined as never)).toThrow(/closed/);
  });
});

describe('QUIC endpoint through the session API', () => {
  it('refuses a stream write past the queue limit and signals onWritable once it drained', async () => {
    const { client, session } = await pair();
    const stream = session.openUniStream()!;
    const chunk = new Uint8Array(64 * 1024).fill(0x5a);
    let accepted = 0;
    let refusals = 0;
    const total = 8 * 1024 * 1024;
    let stopped = false;
    stream.onStopSending = () => {
      stopped = true;
    };
    const writable = () => new Promise<void>((resolve, reject) => {
      stream.onWritable = () => resolve();
      stream.onStopSending = () => reject(new Error('peer stopped the stream'));
    });
    // The client reads concurrently (an unread stream is stopped by NodeWebTransport at 4 MiB).
    const reading = (async () => {
      const incoming = (await client.incomingUnidirectionalStreams.getReader().read()).value!;
      return readAllBytes(incoming, total + 1);
    })();
    // Synchronous writes: quiche takes up to the peer's flow-control credit, our queue the rest
    // up to its limit; then write() refuses, taking nothing.
    while (accepted < total) {
      if (stream.write(chunk)) {
        accepted += chunk.byteLength;
        continue;
      }
      refusals++;
      expect(stream.queuedBytes).toBeGreaterThan(STREAM_WRITE_QUEUE_LIMIT_BYTES - chunk.byteLength);
      expect(stream.queuedBytes).toBeLessThanOrEqual(STREAM_WRITE_QUEUE_LIMIT_BYTES);
      await writable();
    }
    stream.end();
    expect(stopped).toBe(false);
    expect(refusals).toBeGreaterThan(0);
    const got = await reading;
    expect(got.byteLength).toBe(total);
    expect(got.every((b) => b === 0x5a)).toBe(true);
  }, 30_000);

  it('never blocks on datagrams: past the send queue they are dropped and counted', async () => {
    const { server, session } = await pair();
    const results: boolean[] = [];
    // All in one turn of the event loop: nothing is flushed, so the queue fills.
    for (let i = 0; i < DATAGRAM_SEND_QUEUE_LEN + 36; i++) results.push(session.sendDatagram(new Uint8Array(100)));
    expect(results.filter(Boolean).length).toBe(DATAGRAM_SEND_QUEUE_LEN);
    expect(session.datagramsDropped).toBe(36);
    expect(server.stats().datagrams.droppedQueueFull).toBe(36);
    // Too large for one packet: dropped and counted apart.
    expect(session.sendDatagram(new Uint8Array(session.maxDatagramSize + 1))).toBe(false);
    expect(server.stats().datagrams.droppedTooLarge).toBe(1);
    expect(session.sendDatagram(new Uint8Array(session.maxDatagramSize))).toBe(false); // queue still full this turn
  });

  it('purges queued datagrams that went stale before they were sent', async () => {
    const { client, session } = await pair();
    const read = timedReader(client.datagrams.readable.getReader());
    for (let i = 0; i < 10; i++) session.sendDatagram(new Uint8Array([i]));
    // Still queued (flushed on the next loop turn): drop the five oldest "snapshots".
    session.purgeDatagrams((d) => d[0] < 5);
    const got: number[] = [];
    for (;;) {
      const r = await read(300);
      if (!r?.value) break;
      got.push(r.value[0]);
    }
    expect(got.sort((a, b) => a - b)).toEqual([5, 6, 7, 8, 9]);
  });

  it('ends an idle connection after the idle timeout and tells the session', async () => {
    const { server, client, session } = await pair({ idleTimeoutMs: 300 }, { idleTimeoutMs: 300 });
    const closes: SessionCloseInfo[] = [];
    session.onClose = (i) => closes.push(i);
    const t0 = performance.now();
    await waitFor(() => closes.length === 1, 10_000);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
    expect(closes[0].byPeer).toBe(true);
    await expect(client.closed).rejects.toThrow(/connection closed/);
    await waitFor(() => server.stats().connectionsActive === 0);
  });

  it('holds lone ACKs up to ACK_COALESCE_MS and lets them ride on the packets it sends anyway', async () => {
    const { server, client, session } = await pair();
    const received: number[] = [];
    session.onDatagram = (d) => received.push(d[0]);
    const writer = client.datagrams.writable.getWriter();
    const sendBurst = async (n: number, first: number) => {
      // One datagram per loop turn: the client flushes each in a packet of its own.
      for (let i = 0; i < n; i++) {
        await writer.write(new Uint8Array([first + i]));
        await new Promise((r) => setImmediate(r));
      }
    };
    await new Promise((r) => setTimeout(r, 2 * ACK_COALESCE_MS));
    // 1. Twenty ack-eliciting packets, and the server has nothing to send: their ACKs wait and
    //    leave together, in a few packets instead of twenty.
    const out0 = server.stats().endpoint.packetsOut;
    await sendBurst(20, 0);
    await waitFor(() => received.length === 20);
    await new Promise((r) => setTimeout(r, ACK_COALESCE_MS + 60));
    const acksAlone = server.stats().endpoint.packetsOut - out0;
    expect(acksAlone).toBeGreaterThanOrEqual(1);
    expect(acksAlone).toBeLessThanOrEqual(5);
    // 2. The server answers every datagram: the ACKs ride on the answers, one packet each.
    session.onDatagram = (d) => {
      received.push(d[0]);
      session.sendDatagram(d);
    };
    const out1 = server.stats().endpoint.packetsOut;
    await sendBurst(20, 100);
    await waitFor(() => received.length === 40);
    await new Promise((r) => setTimeout(r, ACK_COALESCE_MS + 60));
    expect(server.stats().endpoint.packetsOut - out1).toBeLessThanOrEqual(20 + 2);
    writer.releaseLock();
  });

  it('close() ends every session with the given code and then the socket', async () => {
    const { server, client, session } = await pair();
    const closes: SessionCloseInfo[] = [];
    session.onClose = (i) => closes.push(i);
    await server.close(4009, 'server shutting down');
    expect(closes).toEqual([{ code: 4009, reason: 'server shutting down', byPeer: false }]);
    const info = await client.closed.catch((e: unknown) => e);
    expect(info).toEqual({ closeCode: 4009, reason: 'server shutting down' });
  });
});
