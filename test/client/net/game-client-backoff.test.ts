import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GameClient } from '../../../client/net/game-client.js';
import type { ReconnectingEvent, CloseEvent } from '../../../client/net/game-client-types.js';

/** A port that was just free: connections to it are refused. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('GameClient reconnect policy (no server reachable)', () => {
  it('retries with exponential backoff and full jitter from the injected random, then gives up', async () => {
    const port = await closedPort();
    const randoms = [0.5, 0.25, 0.9, 0.1, 0.999];
    let i = 0;
    const client = new GameClient({
      baseUrl: `http://127.0.0.1:${port}`,
      ticket: 't',
      transport: 'websocket',
      WebSocket,
      random: () => randoms[i++ % randoms.length],
      reconnect: { baseMs: 20, maxMs: 60, maxAttempts: 4 },
    });
    const retries: ReconnectingEvent[] = [];
    const closes: CloseEvent[] = [];
    client.on('reconnecting', (e) => retries.push(e));
    client.on('close', (e) => closes.push(e));
    await expect(client.connect()).rejects.toThrow(/closed before welcome/);
    // windows 20, 40, 60 (capped), 60; delays = floor(random * window)
    expect(retries.map((r) => [r.attempt, r.delayMs])).toEqual([[1, 10], [2, 10], [3, 54], [4, 6]]);
    expect(closes).toHaveLength(1);
    expect(closes[0].reason).toMatch(/gave up after 4 attempts/);
    expect(client.state).toBe('closed');
    expect(client.stats().connected).toBe(false);
  });

  it('close() during the backoff wait stops further attempts', async () => {
    const port = await closedPort();
    const client = new GameClient({
      baseUrl: `http://127.0.0.1:${port}`,
      ticket: 't',
      transport: 'websocket',
      WebSocket,
      random: () => 0.5,
      reconnect: { baseMs: 200, maxMs: 200, maxAttempts: 10 },
    });
    const retries: ReconnectingEvent[] = [];
    client.on('reconnecting', (e) => retries.push(e));
    const p = client.connect().catch((e: Error) => e.message);
    await new Promise<void>((r) => client.on('reconnecting', () => r()));
    client.close('user gave up');
    expect(await p).toMatch(/closed before welcome: 4000 user gave up/);
    await new Promise((r) => setTimeout(r, 300));
    expect(retries).toHaveLength(1);
  });
});
