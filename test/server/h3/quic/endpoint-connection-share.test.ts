/**
 * Issue 10: one address may hold at most `maxConnectionsPerAddress` QUIC connections alive
 * (handshaking or established). Before this share only handshakes in flight were capped per
 * address, so one host could complete handshake after handshake and hold thousands of
 * established connections (each with quiche's state) until the global MAX_CONNECTIONS was gone.
 * Real QUIC endpoints on loopback: the server drops and counts the Initial of a connection over
 * the share, other addresses are not concerned, and the slot comes back however the connection
 * ends (closed by the client, idle timeout, handshake timeout).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebTransportServer, type WebTransportServerOptions } from '../../../../server/h3/server.js';
import { NodeWebTransport } from '../../../../server/h3/client/node-webtransport.js';
import { QuicEndpoint } from '../../../../server/h3/quic/endpoint.js';
import { abandonedInitials, RawUdpPeer } from '../helpers/abandoned-handshakes.js';
import { testCert } from '../helpers/cert.js';
import { echo, waitFor } from '../helpers/util.js';

const cert = testCert();
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function startServer(opts: Partial<WebTransportServerOptions>) {
  const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'], ...opts });
  server.onSession = echo;
  const { port } = await server.listen();
  cleanup.push(() => server.close());
  return { server, port };
}

/** A WebTransport client on its own endpoint bound to `host` (another loopback address is another host to the server). */
async function client(port: number, host = '127.0.0.1', opts: ConstructorParameters<typeof NodeWebTransport>[1] = {}) {
  const endpoint = await QuicEndpoint.bind({ host, port: 0 });
  cleanup.push(() => endpoint.close());
  const c = new NodeWebTransport(`https://127.0.0.1:${port}/wt`, {
    serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.hash }],
    endpoint,
    ...opts,
  });
  cleanup.push(() => c.close());
  return c;
}

/** 'ready', or why not, within `ms`. */
function outcome(c: NodeWebTransport, ms: number): Promise<string> {
  return Promise.race([
    c.ready.then(() => 'ready', () => 'failed'),
    new Promise<string>((r) => setTimeout(() => r('not ready'), ms)),
  ]);
}

const refused = (server: WebTransportServer) => server.refusals().find((r) => r.layer === 'quic' && r.reason === 'address_connection_limit')?.count;

describe('QUIC connections alive per address (maxConnectionsPerAddress)', () => {
  it('an address at its share gets its next Initial dropped and counted; another address still connects; a closed connection gives its slot back', async () => {
    const { server, port } = await startServer({ maxConnectionsPerAddress: 2 });
    const a = await client(port);
    const b = await client(port);
    await Promise.all([a.ready, b.ready]);
    await waitFor(() => server.stats().endpoint.connectionsHandshaking === 0);

    // Both handshakes are over: only the connection share can refuse the third.
    const c = await client(port, '127.0.0.1', { connectTimeoutMs: 1_500 });
    expect(await outcome(c, 3_000)).toBe('failed');
    expect(server.stats().endpoint.connectionsAccepted).toBe(2);
    expect(server.stats().endpoint.initialsDroppedAddressConnectionLimit).toBeGreaterThanOrEqual(1);
    expect(refused(server)).toBe(server.stats().endpoint.initialsDroppedAddressConnectionLimit);

    // Another host is not concerned.
    const other = await client(port, '127.0.0.2');
    expect(await outcome(other, 3_000)).toBe('ready');

    // The client closes one connection: once the server let it go, 127.0.0.1 connects again.
    a.close();
    await waitFor(() => server.stats().connectionsActive === 2);
    const d = await client(port);
    expect(await outcome(d, 3_000)).toBe('ready');
  }, 20_000);

  it('a connection that ends by the idle timeout gives its slot back', async () => {
    // Both sides take the smaller idle timeout (RFC 9000 §10.1): a silent session idles out.
    const { server, port } = await startServer({ maxConnectionsPerAddress: 1, idleTimeoutMs: 400 });
    const a = await client(port);
    await a.ready;
    expect(server.stats().connectionsActive).toBe(1);
    await waitFor(() => server.stats().endpoint.connectionsActive === 0, 5_000);
    const b = await client(port);
    expect(await outcome(b, 3_000)).toBe('ready');
    expect(server.stats().endpoint.initialsDroppedAddressConnectionLimit).toBe(0);
  }, 20_000);

  it('handshakes that time out give their connection slots back', async () => {
    const { server, port } = await startServer({ maxConnectionsPerAddress: 2, retry: 'never', handshakeTimeoutMs: 300 });
    const peer = await RawUdpPeer.bind('127.0.0.1');
    cleanup.push(() => peer.close());
    const initials = abandonedInitials(4);
    peer.send(initials[0].datagram, port, initials[0].key);
    peer.send(initials[1].datagram, port, initials[1].key);
    await waitFor(() => server.stats().endpoint.connectionsHandshaking === 2);
    // Two handshakes of 256 allowed in flight, but two connections of 2: the third is refused.
    peer.send(initials[2].datagram, port, initials[2].key);
    await waitFor(() => server.stats().endpoint.initialsDroppedAddressConnectionLimit === 1);
    // The handshake timeout ends both connections, and with them their slots.
    await waitFor(() => server.stats().endpoint.handshakesTimedOut === 2, 5_000);
    expect(server.stats().endpoint.connectionsActive).toBe(0);
    peer.send(initials[3].datagram, port, initials[3].key);
    await waitFor(() => server.stats().endpoint.connectionsAccepted === 3);
    expect(server.stats().endpoint.initialsDroppedAddressConnectionLimit).toBe(1);
  }, 20_000);
});
