/**
 * server/h3/server-view.ts: the read-only view of a WebTransportServer (`GameServer.webTransport`).
 * It follows the live server (address, sessions, draining, counters) over a real QUIC session on
 * loopback, and offers nothing that changes the server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebTransportServer } from '../../../server/h3/server.js';
import { webTransportServerView } from '../../../server/h3/server-view.js';
import { NodeWebTransport } from '../../../server/h3/client/node-webtransport.js';
import { createGameServer } from '../../../server/index.js';
import { testCert } from './helpers/cert.js';
import { waitFor } from './helpers/util.js';

const cert = testCert();
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('webTransportServerView', () => {
  it('follows the live server and cannot change it', async () => {
    const wt = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'], allowedOrigins: null });
    const opened: string[] = [];
    wt.onSession = (s) => opened.push(s.path);
    cleanup.push(() => wt.close());
    const view = webTransportServerView(wt);
    expect(view.address()).toBeNull();
    const { port } = await wt.listen();
    expect(view.address()).toEqual(wt.address());
    expect(view.address()!.port).toBe(port);
    expect(view.sessionCount).toBe(0);

    const c = new NodeWebTransport(`https://127.0.0.1:${port}/wt`, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.hash }] });
    cleanup.push(async () => c.close());
    await c.ready;
    await waitFor(() => view.sessionCount === 1, 5_000);
    expect(opened).toEqual(['/wt']);
    expect(view.stats().sessionsActive).toBe(1);
    expect(view.stats().endpoint.packetsIn).toBeGreaterThan(0);
    // A copy per call: writing to one does not change the next.
    const s = view.stats();
    s.sessionsActive = 99;
    expect(view.stats().sessionsActive).toBe(1);
    expect(view.refusals()).toEqual(wt.refusals());

    expect(view.isDraining).toBe(false);
    wt.drain();
    expect(view.isDraining).toBe(true);

    // Frozen, and nothing of the server's controls is reachable through it.
    expect(Object.keys(view).sort()).toEqual(['address', 'isDraining', 'refusals', 'sessionCount', 'stats', 'udpSocketDrops']);
    expect(() => { (view as unknown as { onSession: unknown }).onSession = () => {}; }).toThrow(TypeError);
    expect(() => { (view as unknown as { stats: unknown }).stats = () => null; }).toThrow(TypeError);
    expect(wt.onSession).not.toBeNull();
  });

  it('is what GameServer.webTransport hands out: null before listen, a view after', async () => {
    const server = createGameServer({ ticketSecret: 'view-secret-0123456789abcdef', httpPort: 0, webTransport: { port: 0, certPem: cert.certPem, keyPem: cert.keyPem } });
    cleanup.push(() => server.close());
    expect(server.webTransport).toBeNull();
    const info = await server.listen();
    const view = server.webTransport!;
    expect(view.address()!.port).toBe(info.webTransportPort);
    expect(Object.keys(view).sort()).toEqual(['address', 'isDraining', 'refusals', 'sessionCount', 'stats', 'udpSocketDrops']);
    expect(Object.isFrozen(view)).toBe(true);
    expect(Object.isFrozen(server.rooms)).toBe(true);
    expect(Object.keys(server.rooms).sort()).toEqual(['get', 'list']);
  });
});
