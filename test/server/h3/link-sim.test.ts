/**
 * The link simulator on the server's UDP path (server option `linkSim`), over real quiche and
 * UDP: loss drops datagrams in the chosen direction (QUIC recovers the handshake and streams),
 * delay shows in the round trip, and the counters say what happened.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebTransportServer } from '../../../server/h3/server.js';
import { NodeWebTransport } from '../../../server/h3/client/node-webtransport.js';
import type { WebTransportSession } from '../../../server/h3/session.js';
import { testCert } from './helpers/cert.js';
import { echo, readAllBytes, pattern, waitFor } from './helpers/util.js';

const cert = testCert();
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function start(linkSim: string) {
  const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'], linkSim, linkSimSeed: 42 });
  const sessions: WebTransportSession[] = [];
  server.onSession = (s) => {
    sessions.push(s);
    echo(s);
  };
  const { port } = await server.listen();
  cleanup.push(() => server.close());
  const client = new NodeWebTransport(`https://127.0.0.1:${port}/wt`, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.hash }] });
  cleanup.push(() => client.close());
  await client.ready;
  await waitFor(() => sessions.length === 1);
  return { server, client, session: sessions[0] };
}

describe('WebTransportServer linkSim', () => {
  it('rejects an invalid spec at listen', async () => {
    const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'], linkSim: 'loss=2' });
    await expect(server.listen()).rejects.toThrow(/loss/);
  });

  it('drops about the configured share of server->client datagrams; streams still arrive whole', async () => {
    const { server, client, session } = await start('down.loss=0.3');
    const reader = client.datagrams.readable.getReader();
    let got = 0;
    void (async () => {
      for (;;) {
        const { done } = await reader.read();
        if (done) return;
        got++;
      }
    })().catch(() => undefined);
    for (let i = 0; i < 400; i++) {
      session.sendDatagram(new Uint8Array([i & 0xff]));
      // Slowly enough that quiche's datagram queue never fills (those drops are counted apart).
      if (i % 5 === 4) await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 300));
    // 30% loss: expect ~280 of 400; bounds well outside chance.
    expect(got).toBeGreaterThan(220);
    expect(got).toBeLessThan(340);
    expect(server.stats().datagrams.droppedQueueFull).toBe(0);
    const sim = server.stats().linkSim!;
    // Loss applies per UDP packet (quiche packs several datagrams into one): about 30% of them.
    expect(sim.down.lost / sim.down.sent).toBeGreaterThan(0.15);
    expect(sim.down.lost / sim.down.sent).toBeLessThan(0.45);
    expect(sim.up.lost).toBe(0);
    // Reliable streams recover every loss.
    const bs = await client.createBidirectionalStream();
    const w = bs.writable.getWriter();
    const data = pattern(50_000);
    const writing = w.write(data).then(() => w.close());
    const back = await readAllBytes(bs.readable);
    await writing;
    expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
  });

  it('runs on an injected clock: held packets move only when the test steps time', async () => {
    // A manual clock: timers fire only in advance().
    let t = 0;
    const timers: Array<{ at: number; fn: () => void }> = [];
    const clock = {
      now: () => t,
      setTimer: (fn: () => void, ms: number) => {
        const h = { at: t + ms, fn };
        timers.push(h);
        return h;
      },
      clearTimer: (h: unknown) => {
        const i = timers.indexOf(h as { at: number; fn: () => void });
        if (i >= 0) timers.splice(i, 1);
      },
    };
    const advance = (ms: number) => {
      t += ms;
      for (const h of timers.filter((x) => x.at <= t)) {
        timers.splice(timers.indexOf(h), 1);
        h.fn();
      }
    };
    const server = new WebTransportServer({
      certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'], linkSim: 'down.delay=10000', clock,
    });
    server.onSession = (s) => {
      s.onDatagram = (d) => s.sendDatagram(d);
    };
    const { port } = await server.listen();
    cleanup.push(() => server.close());
    const client = new NodeWebTransport(`https://127.0.0.1:${port}/wt`, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.hash }] });
    cleanup.push(() => client.close());
    let ready = false;
    void client.ready.then(() => {
      ready = true;
    });
    // The server's handshake flight waits in the simulator: 10 s of simulated delay.
    await new Promise((r) => setTimeout(r, 200));
    expect(ready).toBe(false);
    expect(server.stats().linkSim!.down.pending).toBeGreaterThan(0);
    // Step simulated time; each step releases what is due (QUIC sees real time pass meanwhile).
    await waitFor(async () => {
      advance(10_000);
      await new Promise((r) => setTimeout(r, 20));
      return ready;
    });
    expect(server.stats().linkSim!.down.delivered).toBeGreaterThan(0);
  });

  it('adds the configured one-way delay in each direction', async () => {
    const { client } = await start('delay=40');
    const w = client.datagrams.writable.getWriter();
    const r = client.datagrams.readable.getReader();
    const t0 = performance.now();
    await w.write(new Uint8Array([1]));
    await r.read();
    const rtt = performance.now() - t0;
    expect(rtt).toBeGreaterThanOrEqual(80);
  });
});
