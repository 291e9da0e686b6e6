/**
 * The QUIC endpoint's refusals reach /metrics of a real game server
 * (`tickwire_refusals_total{layer="quic",reason}`): before, a full handshake budget dropped
 * Initials and no metric moved (issue 10, "Invisible refusals"). With the endpoint on a worker
 * thread too: its counters cross the thread boundary in the worker's reports.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { abandonedInitials, RawUdpPeer } from './h3/helpers/abandoned-handshakes.js';
import { testCert } from './h3/helpers/cert.js';
import { waitFor } from './h3/helpers/util.js';
import { closeRawServers, startRawServer } from './helpers/raw-server.js';

const cert = testCert();
let peer: RawUdpPeer | null = null;
afterEach(async () => {
  await peer?.close();
  peer = null;
  await closeRawServers();
});

const sample = (text: string, reason: string) => {
  const m = text.match(new RegExp(`^tickwire_refusals_total\\{layer="quic",reason="${reason}"\\} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : null;
};

describe.each([0, 1])('QUIC refusals in /metrics (webTransport.workers: %i)', (workers) => {
  it('an Initial dropped at the handshake cap and one dropped at the per-address cap each show under their reason', async () => {
    // Caps of 2 in flight overall and 1 per address, no Retry: the second Initial from one
    // address meets the per-address cap; a third from another address meets the global one...
    const { server, info } = await startRawServer({
      ticketSecret: 'refusal-metrics-secret-0123456789',
      // /metrics is off the public port by default; this test reads it there.
      metrics: { public: true },
      webTransport: { port: 0, certPem: cert.certPem, keyPem: cert.keyPem, retry: 'never', maxHandshakes: 2, maxHandshakesPerAddress: 1, workers },
    });
    const port = info.webTransportPort!;
    const [a, b, c, d] = abandonedInitials(4);
    peer = await RawUdpPeer.bind('127.0.0.1');
    peer.send(a.datagram, port, a.key);
    peer.send(b.datagram, port, b.key);
    const other = await RawUdpPeer.bind('127.0.0.2');
    try {
      other.send(c.datagram, port, c.key);
      await waitFor(() => server.webTransport!.stats().endpoint.connectionsHandshaking === 2);
      // ...once two handshakes hold the whole budget.
      other.send(d.datagram, port, d.key);
      await waitFor(() => server.webTransport!.stats().endpoint.initialsDroppedHandshakeLimit === 1);
    } finally {
      await other.close();
    }
    const text = await (await fetch(`${info.httpUrl}/metrics`)).text();
    expect(sample(text, 'address_handshake_limit')).toBe(1);
    expect(sample(text, 'handshake_limit')).toBe(1);
    expect(sample(text, 'retry_sent') ?? 0).toBe(0);
  });

  it('an Initial dropped at the per-address connection share shows as address_connection_limit', async () => {
    // One connection alive per address: the second Initial from 127.0.0.1 meets the connection
    // share (the handshake caps, 256 per address, are far away).
    const { server, info } = await startRawServer({
      ticketSecret: 'refusal-metrics-secret-0123456789',
      metrics: { public: true },
      webTransport: { port: 0, certPem: cert.certPem, keyPem: cert.keyPem, retry: 'never', maxConnectionsPerAddress: 1, workers },
    });
    const port = info.webTransportPort!;
    const [a, b] = abandonedInitials(2);
    peer = await RawUdpPeer.bind('127.0.0.1');
    peer.send(a.datagram, port, a.key);
    await waitFor(() => server.webTransport!.stats().endpoint.connectionsHandshaking === 1);
    peer.send(b.datagram, port, b.key);
    await waitFor(() => server.webTransport!.stats().endpoint.initialsDroppedAddressConnectionLimit === 1);
    const text = await (await fetch(`${info.httpUrl}/metrics`)).text();
    expect(sample(text, 'address_connection_limit')).toBe(1);
    expect(sample(text, 'address_handshake_limit') ?? 0).toBe(0);
  });
});
