import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { ChannelCloseInfo, ChannelName } from '../../../client/net/channel.js';
import { defaultTimers, type WebSocketConstructor } from '../../../client/net/transport-types.js';
import { WebSocketChannel } from '../../../client/net/websocket-channel.js';

const WS: WebSocketConstructor = WebSocket;
const channelOf = (b: Uint8Array): ChannelName => (b[0] >= 32 ? 'unreliable' : 'reliable');

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function wsServer(): Promise<{ wss: WebSocketServer; url: string }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  cleanup.push(() => new Promise<void>((r) => {
    for (const c of wss.clients) c.terminate();
    wss.close(() => r());
  }));
  const { port } = wss.address() as { port: number };
  return { wss, url: `ws://127.0.0.1:${port}/ws` };
}

describe('WebSocketChannel over a real socket', () => {
  it('carries binary messages both ways and sorts incoming ones by channel', async () => {
    const { wss, url } = await wsServer();
    const serverGot: number[][] = [];
    wss.on('connection', (sock) => {
      sock.on('message', (data: Buffer) => {
        serverGot.push([...data]);
        sock.send(Buffer.from([1, 9]));
        sock.send(Buffer.from([33, 8]));
        sock.send('text frames are ignored');
      });
    });
    const ch = await WebSocketChannel.open(WS, url, channelOf, defaultTimers);
    const got: [number[], ChannelName][] = [];
    ch.onMessage = (m, c) => got.push([[...m], c]);
    expect(ch.sendReliable(new Uint8Array([1, 2]))).toBe(true);
    await waitFor(() => got.length >= 2);
    expect(serverGot).toEqual([[1, 2]]);
    expect(got).toEqual([[[1, 9], 'reliable'], [[33, 8], 'unreliable']]);
    ch.close(4000, 'bye');
  });

  it('reports the peer close code and reason once; sends fail afterwards', async () => {
    const { wss, url } = await wsServer();
    wss.on('connection', (sock) => setTimeout(() => sock.close(4009, 'draining'), 20));
    const ch = await WebSocketChannel.open(WS, url, channelOf, defaultTimers);
    const closes: ChannelCloseInfo[] = [];
    ch.onClose = (i) => closes.push(i);
    await waitFor(() => closes.length > 0);
    expect(closes).toEqual([{ code: 4009, reason: 'draining', byPeer: true }]);
    expect(ch.closed).toBe(true);
    expect(ch.sendReliable(new Uint8Array([1]))).toBe(false);
    expect(ch.sendUnreliable(new Uint8Array([33]))).toBe(false);
  });

  it('our close reaches the server with our game code', async () => {
    const { wss, url } = await wsServer();
    const serverClose = new Promise<[number, string]>((resolve) => {
      wss.on('connection', (sock) => sock.on('close', (code, reason) => resolve([code, reason.toString()])));
    });
    const ch = await WebSocketChannel.open(WS, url, channelOf, defaultTimers);
    const closes: ChannelCloseInfo[] = [];
    ch.onClose = (i) => closes.push(i);
    ch.close(4008, 'server silent');
    ch.close(4000, 'again'); // idempotent
    expect(await serverClose).toEqual([4008, 'server silent']);
    expect(closes).toEqual([{ code: 4008, reason: 'server silent', byPeer: false }]);
  });

  it('rejects when the port refuses the connection', async () => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const { port } = srv.address() as { port: number };
    await new Promise<void>((r) => srv.close(() => r()));
    await expect(WebSocketChannel.open(WS, `ws://127.0.0.1:${port}/ws`, channelOf, defaultTimers)).rejects.toThrow(/failed to open/);
  });

  it('rejects when the handshake never completes within the timeout', async () => {
    // A TCP server that accepts and never answers the HTTP upgrade.
    const sockets: import('node:net').Socket[] = [];
    const srv: Server = createServer((s) => sockets.push(s));
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    cleanup.push(() => new Promise<void>((r) => {
      sockets.forEach((s) => s.destroy());
      srv.close(() => r());
    }));
    const { port } = srv.address() as { port: number };
    await expect(WebSocketChannel.open(WS, `ws://127.0.0.1:${port}/ws`, channelOf, defaultTimers, 150)).rejects.toThrow(/not open within 150 ms/);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 3_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
