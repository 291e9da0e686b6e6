/**
 * Issue 10, WebTransport lock-out: one address floods the server with Initials of handshakes it
 * never completes (3,000 real client Initials, 3.6 MB, in about 1.5 s, from one raw UDP socket).
 * Before per-address caps and Retry, these filled the global handshake budget and every new
 * WebTransport connection was dropped until the flood's connections idled out (30 s). Now an
 * honest client from another address opens a session within a second, in every Retry mode.
 *
 * The second is a behaviour bound, not a speed test: a client whose Initial is dropped retries
 * only after its probe timeout (1 s), and client/net gives up on WebTransport after 1 s.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebTransportServer } from '../../../../server/h3/server.js';
import { NodeWebTransport } from '../../../../server/h3/client/node-webtransport.js';
import { QuicEndpoint } from '../../../../server/h3/quic/endpoint.js';
import type { RetryMode } from '../../../../server/h3/quic/admission.js';
import { MAX_CONNECTIONS_PER_ADDRESS, MAX_HANDSHAKES_PER_ADDRESS, RETRY_ABOVE_HANDSHAKES_PER_ADDRESS } from '../../../../server/h3/quic/limits.js';
import { abandonedInitials, RawUdpPeer, type AbandonedInitial } from '../helpers/abandoned-handshakes.js';
import { testCert } from '../helpers/cert.js';
import { waitFor } from '../helpers/util.js';

const FLOOD = 3_000;
const cert = testCert();
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

let initials: AbandonedInitial[] = [];
beforeAll(() => {
  initials = abandonedInitials(FLOOD);
});

/** Resolves once `read()` has not changed for `quietMs` (bounded by `timeoutMs`). */
async function settled(read: () => number, quietMs = 300, timeoutMs = 30_000): Promise<number> {
  let last = read();
  let since = Date.now();
  await waitFor(() => {
    const v = read();
    if (v !== last) {
      last = v;
      since = Date.now();
    }
    return Date.now() - since >= quietMs;
  }, timeoutMs, 20);
  return last;
}

describe('a handshake flood from one address does not lock other addresses out', () => {
  for (const retry of ['under-load', 'never', 'always'] as RetryMode[]) {
    it(`retry '${retry}': a client from 127.0.0.2 opens a session within 1 s while 127.0.0.1 holds ${FLOOD} abandoned handshakes`, async () => {
      const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'], retry });
      const { port } = await server.listen();
      cleanup.push(() => server.close());
      let sessions = 0;
      server.onSession = () => sessions++;

      const attacker = await RawUdpPeer.bind('127.0.0.1');
      cleanup.push(() => attacker.close());
      await attacker.flood(initials, port, 100, 50);
      // The server has read the whole flood (its socket buffer holds it all).
      await settled(() => server.stats().endpoint.packetsIn);
      const afterFlood = server.stats().endpoint;
      expect(afterFlood.packetsIn).toBeGreaterThanOrEqual(FLOOD * 0.95);

      // The honest client, on another loopback address (another host, as far as the server knows).
      const endpoint = await QuicEndpoint.bind({ host: '127.0.0.2', port: 0 });
      cleanup.push(() => endpoint.close());
      const client = new NodeWebTransport(`https://127.0.0.1:${port}/wt`, {
        serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.hash }],
        endpoint,
      });
      cleanup.push(() => client.close());
      const ready = await Promise.race([
        client.ready.then(() => 'ready', (e: unknown) => `failed: ${String(e)}`),
        new Promise<string>((r) => setTimeout(() => r('not ready after 1 s'), 1_000)),
      ]);
      expect(ready).toBe('ready');
      await waitFor(() => sessions === 1);

      // The flood's share stayed bounded, and every refusal was counted.
      const e = server.stats().endpoint;
      const refused = Object.fromEntries(server.refusals().filter((r) => r.layer === 'quic').map((r) => [r.reason, r.count]));
      if (retry === 'always') {
        // No state at all for the flood: a Retry each, none answered.
        expect(refused.retry_sent).toBeGreaterThanOrEqual(afterFlood.packetsIn);
        expect(e.connectionsAccepted).toBe(1);
      } else if (retry === 'under-load') {
        // A few handshakes, then a Retry for everything else from that address.
        expect(e.connectionsAccepted).toBeLessThanOrEqual(RETRY_ABOVE_HANDSHAKES_PER_ADDRESS + 1);
        expect(refused.retry_sent).toBeGreaterThanOrEqual(afterFlood.packetsIn - RETRY_ABOVE_HANDSHAKES_PER_ADDRESS);
      } else {
        // No Retry: the per-address caps hold the flood to its share (the connection share, 64,
        // is met before the handshake share, 256); the rest is dropped, counted.
        const share = Math.min(MAX_HANDSHAKES_PER_ADDRESS, MAX_CONNECTIONS_PER_ADDRESS);
        expect(e.connectionsAccepted).toBeLessThanOrEqual(share + 1);
        expect((refused.address_handshake_limit ?? 0) + (refused.address_connection_limit ?? 0)).toBeGreaterThanOrEqual(afterFlood.packetsIn - share);
        expect(refused.retry_sent).toBe(0);
      }
    }, 60_000);
  }
});
