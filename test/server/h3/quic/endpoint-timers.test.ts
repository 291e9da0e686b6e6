/**
 * quiche's timers of every connection of an endpoint run on one Node timer
 * (server/h3/quic/connection-timers.ts): N connections do not hold N Node timers, and every
 * connection's deadline still fires (the idle timeout ends a silent connection).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebTransportServer } from '../../../../server/h3/server.js';
import { NodeWebTransport } from '../../../../server/h3/client/node-webtransport.js';
import type { WebTransportSession } from '../../../../server/h3/session.js';
import { testCert } from '../helpers/cert.js';
import { waitFor } from '../helpers/util.js';

const cert = testCert();
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Node timers pending in this process now. */
function pendingTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

const CLIENTS = 12;
/** Samples of the pending timers, 5 ms apart (the measure is their minimum). */
const TIMER_SAMPLES = 20;

describe('QuicEndpoint: one Node timer for all its connections', () => {
  it(`a server with ${CLIENTS} connections holds a few Node timers, not one per connection`, async () => {
    const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'] });
    const sessions: WebTransportSession[] = [];
    server.onSession = (s) => sessions.push(s);
    const { port } = await server.listen();
    cleanup.push(() => server.close());
    // The clients run in this process too, each on an endpoint of its own (one connection, so one
    // timer each either way): measure the server alone by starting the clients first.
    const clients: NodeWebTransport[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const c = new NodeWebTransport(`https://127.0.0.1:${port}/wt`, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.hash }] });
      cleanup.push(() => c.close());
      clients.push(c);
    }
    await Promise.all(clients.map((c) => c.ready));
    await waitFor(() => sessions.length === CLIENTS);
    // Exchange a datagram on each so every connection has a loss timer armed on both sides.
    for (const s of sessions) s.sendDatagram(new Uint8Array([1]));
    await new Promise((r) => setTimeout(r, 50));
    // The fewest pending over a short spell: short-lived timers (an ACK delay, a stream-open
    // wait) come and go, and a loaded machine can catch several at once (CI once saw 23), while a
    // connection's deadline never goes away, so a timer per connection shows in every sample.
    let withClients = Infinity;
    for (let i = 0; i < TIMER_SAMPLES; i++) {
      withClients = Math.min(withClients, pendingTimers());
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 5));
    }
    // Each client endpoint holds its connection's timer; the server's endpoint one for all, plus
    // a few that do not grow with connections (the endpoints' ACK and sweep timers). With a timer
    // per connection the server alone held CLIENTS more (31 here, against 18).
    expect(withClients).toBeLessThanOrEqual(CLIENTS + 8);
  });
});
