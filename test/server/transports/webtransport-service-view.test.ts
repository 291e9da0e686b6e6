/**
 * server/transports/webtransport-service.ts `webTransportServiceView`: the read-only WebTransport
 * side that `GameServer.webTransport` hands out, in-thread and with the endpoint on a worker. It
 * follows the live service (ports, sessions, draining, counters) over a real QUIC session on
 * loopback, and offers nothing that changes it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NodeWebTransport } from '../../../server/h3/client/node-webtransport.js';
import { createGameServer, type GameServer } from '../../../server/index.js';
import { gameServerInternals } from '../../../server/internals.js';
import { testCert } from '../h3/helpers/cert.js';
import { waitFor } from '../h3/helpers/util.js';

const cert = testCert();
const servers: GameServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const VIEW_KEYS = ['isDraining', 'ports', 'refusals', 'sessionCount', 'stats', 'udpSocketDrops'];

describe.each([0, 1])('GameServer.webTransport, workers: %i', (workers) => {
  it('is null before listen, then a frozen view that follows the service and cannot change it', async () => {
    const server = createGameServer({
      ticketSecret: 'view-secret-0123456789abcdef', httpPort: 0, webTransport: { port: 0, certPem: cert.certPem, keyPem: cert.keyPem, workers },
    });
    servers.push(server);
    expect(server.webTransport).toBeNull();
    const info = await server.listen();
    const view = server.webTransport!;
    expect(Object.isFrozen(view)).toBe(true);
    expect(Object.keys(view).sort()).toEqual(VIEW_KEYS);
    expect(view.ports()).toContain(info.webTransportPort);
    expect(view.sessionCount).toBe(0);

    const c = new NodeWebTransport(info.webTransportUrl!, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.hash }] });
    try {
      await c.ready;
      await waitFor(() => view.sessionCount === 1, 5_000);
      await waitFor(() => view.stats().endpoint.packetsIn > 0, 5_000);
      // A fresh object per call: writing to one does not change the next.
      const s = view.stats();
      s.sessionsActive = 99;
      expect(view.stats().sessionsActive).not.toBe(99);
    } finally {
      c.close();
    }

    // Nothing of the service's controls is reachable through the view.
    const service = gameServerInternals(server).webTransport()!;
    expect(() => { (view as unknown as { onConnection: unknown }).onConnection = () => {}; }).toThrow(TypeError);
    expect(() => { (view as unknown as { stats: unknown }).stats = () => null; }).toThrow(TypeError);
    expect(service.onConnection).not.toBeNull();
    expect(view.isDraining).toBe(false);
    service.drain();
    expect(view.isDraining).toBe(true);
    expect(Object.isFrozen(server.rooms)).toBe(true);
    expect(Object.keys(server.rooms).sort()).toEqual(['get', 'list']);
  });
});
