/**
 * The HTTP port's connection limits (server/http/connection-guard.ts) on a real server over
 * loopback (all of 127.0.0.0/8 is local on Linux, so a test can be several addresses): one
 * address holding idle TCP connections (a slowloris, found by the soak's idle-tcp attack) gets
 * only its share, counted; an honest client from another address is served meanwhile.
 */
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS, MAX_HTTP_CONNECTIONS_PER_ADDRESS } from '../../../server/http/connection-guard.js';
import { closeRawServers, startRawServer } from '../helpers/raw-server.js';

const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await closeRawServers();
});

/** An idle TCP connection from `localAddress`; resolves when it closes (with how long it lived). */
function idle(port: number, localAddress: string): { opened: Promise<void>; closed: Promise<void>; isClosed: () => boolean } {
  const s = connect({ host: '127.0.0.1', port, localAddress });
  sockets.push(s);
  let closedFlag = false;
  s.on('error', () => undefined);
  return {
    opened: new Promise((resolve) => s.once('connect', () => resolve())),
    closed: new Promise((resolve) => s.once('close', () => { closedFlag = true; resolve(); })),
    isClosed: () => closedFlag,
  };
}

function healthz(port: number, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', localAddress, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP connection guard', () => {
  it('keeps one address to its share of TCP connections, counts the refusals, and serves others meanwhile', async () => {
    const share = 5;
    const extra = 3;
    const { server, info } = await startRawServer({ ticketSecret: 'guard-secret-0123456789abcdef', metrics: { public: true }, admission: { maxHttpConnectionsPerAddress: share } });
    const port = Number(new URL(info.httpUrl).port);
    const held = Array.from({ length: share }, () => idle(port, '127.0.9.1'));
    await Promise.all(held.map((c) => c.opened));
    const over = Array.from({ length: extra }, () => idle(port, '127.0.9.1'));
    // Those over the share are closed at once; the ones within it stay open.
    await Promise.all(over.map((c) => c.closed));
    expect(held.filter((c) => c.isClosed())).toHaveLength(0);
    // Another address is served while the first holds its whole share.
    expect(await healthz(port, '127.0.9.2')).toBe(200);
    const text = await server.metrics.text();
    expect(text).toMatch(new RegExp(`tickwire_refusals_total\\{layer="http",reason="connections_per_address"\\} ${extra}\\b`));
    // A share freed is a share again.
    for (const s of sockets.splice(0, 1)) s.destroy();
    await held[0].closed;
    await new Promise((r) => setTimeout(r, 50));
    const again = idle(port, '127.0.9.1');
    await again.opened;
    await new Promise((r) => setTimeout(r, 200));
    expect(again.isClosed()).toBe(false);
  });

  it('bounds the time a request may take to arrive (slow or silent connections), below node defaults', async () => {
    const { server } = await startRawServer({ ticketSecret: 'guard-secret-0123456789abcdef' });
    expect(MAX_HTTP_CONNECTIONS_PER_ADDRESS).toBeGreaterThan(0);
    expect(server.http!.server.headersTimeout).toBe(HTTP_HEADERS_TIMEOUT_MS);
    expect(server.http!.server.requestTimeout).toBe(HTTP_REQUEST_TIMEOUT_MS);
    expect(HTTP_HEADERS_TIMEOUT_MS).toBeLessThan(60_000);
  });
});
