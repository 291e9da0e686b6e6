/**
 * `WebTransportServer.refusals()` and the refusal metric (issue 10: refusals must be visible):
 * every refusal of the HTTP/3 + WebTransport layer moves one counter with a stable reason, and
 * in a real `createGameServer` they reach `tickwire_refusals_total` on /metrics: a CONNECT to an
 * unknown path (404) or from a refused origin (403), an HTTP/3 connection error, a parked request
 * past its cap, and a WebTransport stream the game refuses.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebTransportServer } from '../../../server/h3/server.js';
import { NodeWebTransport } from '../../../server/h3/client/node-webtransport.js';
import { createGameServer, type GameServer } from '../../../server/index.js';
import { encodeDataFrame } from '../../../server/h3/wire/frames.js';
import { CLIENT_SETTINGS, encodeSettingsFrame } from '../../../server/h3/wire/settings.js';
import { MAX_PARKED_REQUEST_BYTES } from '../../../server/h3/h3-limits.js';
import { H3_EXCESSIVE_LOAD, H3_FRAME_UNEXPECTED } from '../../../server/h3/wire/errors.js';
import { RawClient } from './helpers/raw-client.js';
import { testCert } from './helpers/cert.js';
import { waitFor } from './helpers/util.js';

const cert = testCert();
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function client(url: string, origin?: string): NodeWebTransport {
  const c = new NodeWebTransport(url, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.hash }], origin });
  cleanup.push(async () => c.close());
  return c;
}

async function raw(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  cleanup.push(() => c.close());
  return c;
}

/** Provokes one of each refusal against the WebTransport server on `port` (path `/wt`). */
async function provoke(port: number): Promise<void> {
  // 404: unknown path; 403: an origin not allowed.
  const notFound = client(`https://127.0.0.1:${port}/nope`, 'https://game.test');
  await expect(notFound.ready).rejects.toThrow();
  expect(notFound.responseStatus).toBe(404);
  const forbidden = client(`https://127.0.0.1:${port}/wt`, 'https://evil.test');
  await expect(forbidden.ready).rejects.toThrow();
  expect(forbidden.responseStatus).toBe(403);
  // An HTTP/3 connection error: a second SETTINGS frame (RFC 9114 §7.2.4).
  const bad = await raw(port);
  const ctl = bad.openControl();
  bad.quic.write(ctl, encodeSettingsFrame(CLIENT_SETTINGS));
  await waitFor(() => bad.closeInfo);
  expect(bad.closeInfo?.code).toBe(H3_FRAME_UNEXPECTED);
  // A parked request (CONNECT before SETTINGS) with more behind it than it may hold.
  const flood = await raw(port);
  const req = flood.connectRequest(port);
  flood.quic.write(req, encodeDataFrame(new Uint8Array(MAX_PARKED_REQUEST_BYTES + 1)));
  expect(await flood.outcome(req)).toEqual({ kind: 'reset', code: H3_EXCESSIVE_LOAD });
}

describe('WebTransportServer.refusals()', () => {
  it('counts every refusal once under a stable snake_case reason', async () => {
    const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'], allowedOrigins: ['https://game.test'] });
    const { port } = await server.listen();
    cleanup.push(() => server.close());
    await provoke(port);
    const byReason = new Map(server.refusals().filter((r) => r.count > 0).map((r) => [`${r.layer} ${r.reason}`, r.count]));
    expect(Object.fromEntries(byReason)).toMatchObject({
      'http3 status_404': 1,
      'http3 status_403': 1,
      'http3 connection_error_h3_frame_unexpected': 1,
      'http3 parked_request_too_large': 1,
    });
    for (const key of byReason.keys()) expect(key).toMatch(/^(quic|http3|webtransport) [a-z0-9_]+$/);
  });
});

describe('refusals on /metrics of a real game server', () => {
  let game: GameServer | null = null;
  afterEach(async () => {
    await game?.close();
    game = null;
  });

  it('shows 404, 403, an HTTP/3 connection error, a parked-request cap and a refused stream', async () => {
    game = createGameServer({
      ticketSecret: 'test-secret-0123456789abcdef',
      httpPort: 0,
      // /metrics is off the public port by default; this test reads it there.
      metrics: { public: true },
      webTransport: { port: 0, certPem: cert.certPem, keyPem: cert.keyPem, allowedOrigins: ['https://game.test'] },
    });
    const info = await game.listen();
    const port = info.webTransportPort!;
    await provoke(port);
    // The game takes the first bidirectional stream and refuses a second one.
    const player = client(`https://127.0.0.1:${port}/wt`, 'https://game.test');
    await player.ready;
    // (Opening a stream sends its WebTransport header; no game byte is needed.)
    await player.createBidirectionalStream();
    const second = await player.createBidirectionalStream();
    await expect(second.readable.getReader().read()).rejects.toBeDefined();
    const text = await (await fetch(`${info.httpUrl}/metrics`)).text();
    const sample = (layer: string, reason: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`tickwire_refusals_total{layer="${layer}",reason="${reason}"}`));
      return line ? Number(line.split(' ').pop()) : null;
    };
    expect(sample('http3', 'status_404')).toBe(1);
    expect(sample('http3', 'status_403')).toBe(1);
    expect(sample('http3', 'connection_error_h3_frame_unexpected')).toBe(1);
    expect(sample('http3', 'parked_request_too_large')).toBe(1);
    expect(sample('webtransport', 'extra_bidi_stream')).toBe(1);
  });
});
