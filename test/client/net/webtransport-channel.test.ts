/**
 * WebTransportChannel over real QUIC: our WebTransportServer (server/h3) and the Node
 * WebTransport client on 127.0.0.1, with the dev certificate pinned by hash.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createDevCertificate } from '../../../certs/dev-cert.js';
import type { ChannelCloseInfo, ChannelName } from '../../../client/net/channel.js';
import { reliableFraming } from '../../../client/net/reliable-framing.js';
import { defaultTimers } from '../../../client/net/transport-types.js';
import { WebTransportChannel } from '../../../client/net/webtransport-channel.js';
import { NodeWebTransportConstructor } from '../../../tools/bots/node-webtransport.js';
import { WebTransportServer } from '../../../server/h3/server.js';
import { waitFor } from './helpers/scripted-peer.js';
import { startEchoServer as startEchoServerHelper, type EchoServer } from './helpers/wt-echo-server.js';

const cert = createDevCertificate(); // for the test that runs its own server
let servers: WebTransportServer[] = [];
let channels: WebTransportChannel[] = [];
afterEach(async () => {
  for (const c of channels) c.close(4000, 'test over');
  channels = [];
  for (const s of servers) await s.close();
  servers = [];
});

async function startEchoServer(): Promise<EchoServer> {
  const side = await startEchoServerHelper();
  servers.push(side.server);
  return side;
}

async function open(srv: EchoServer, hash: Uint8Array = srv.cert.sha256): Promise<WebTransportChannel> {
  const ch = await WebTransportChannel.open({
    WebTransportImpl: NodeWebTransportConstructor,
    url: srv.url,
    certificateHashes: [{ algorithm: 'sha-256', value: hash }],
    framing: reliableFraming,
    timers: defaultTimers,
  });
  channels.push(ch);
  return ch;
}

describe('WebTransportChannel over real QUIC', () => {
  it('frames reliable messages on one bidi stream and carries datagrams both ways', async () => {
    const srv = await startEchoServer();
    const ch = await open(srv);
    const got: [number[], ChannelName][] = [];
    ch.onMessage = (m, c) => got.push([[...m], c]);
    expect(ch.maxUnreliableSize).toBeGreaterThan(1000);
    expect(ch.sendReliable(new Uint8Array([1, 2, 3]))).toBe(true);
    expect(ch.sendReliable(new Uint8Array(300).fill(9))).toBe(true); // two-byte varint length
    expect(ch.sendUnreliable(new Uint8Array([33, 7]))).toBe(true);
    await waitFor(() => got.length >= 3);
    expect(got).toContainEqual([[3, 2, 1], 'reliable']);
    expect(got).toContainEqual([new Array(300).fill(9), 'reliable']);
    expect(got).toContainEqual([[33, 7], 'unreliable']);
    expect(srv.streams).toHaveLength(1);
    expect(ch.sendUnreliable(new Uint8Array(ch.maxUnreliableSize + 1))).toBe(false);
  });

  it('reports the server\'s session close code and reason', async () => {
    const srv = await startEchoServer();
    const ch = await open(srv);
    const closes: ChannelCloseInfo[] = [];
    ch.onClose = (i) => closes.push(i);
    ch.sendReliable(new Uint8Array([1])); // make the stream known to the server
    await waitFor(() => srv.streams.length === 1);
    srv.sessions[0].close(4009, 'draining');
    await waitFor(() => closes.length > 0);
    expect(closes).toEqual([{ code: 4009, reason: 'draining', byPeer: true }]);
    expect(ch.sendReliable(new Uint8Array([1]))).toBe(false);
  });

  it('closes with our code, which the server sees', async () => {
    const srv = await startEchoServer();
    const ch = await open(srv);
    ch.sendReliable(new Uint8Array([1]));
    await waitFor(() => srv.streams.length === 1);
    ch.close(4008, 'server silent');
    await waitFor(() => srv.closes.length > 0);
    expect(srv.closes[0]).toMatchObject({ code: 4008, reason: 'server silent', byPeer: true });
  });

  it('a malformed frame from the server closes the channel instead of throwing', async () => {
    const srv = await startEchoServer();
    const ch = await open(srv);
    const closes: ChannelCloseInfo[] = [];
    ch.onClose = (i) => closes.push(i);
    ch.sendReliable(new Uint8Array([1]));
    await waitFor(() => srv.streams.length === 1);
    srv.streams[0].onData = null;
    srv.streams[0].write(new Uint8Array([0x00])); // zero-length frame: not allowed
    await waitFor(() => closes.length > 0);
    expect(closes[0]).toMatchObject({ byPeer: false, reason: expect.stringMatching(/bad frame/) });
  });

  it('refuses a server whose certificate does not match the pinned hash', async () => {
    const srv = await startEchoServer();
    await expect(open(srv, new Uint8Array(32).fill(1))).rejects.toThrow();
    expect(srv.sessions).toHaveLength(0);
  });
});

describe('GameClient auto mode with a WebTransport server that never starts the game', () => {
  it('uses WebSocket on the next attempt when the WebTransport session closes before a welcome', async () => {
    const { GameClient } = await import('../../../client/net/game-client.js');
    const { startScriptedPeer, welcomeBody } = await import('./helpers/scripted-peer.js');
    const WebSocket = (await import('ws')).default;
    // The WebTransport endpoint accepts the session and closes it as soon as the hello arrives.
    const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'] });
    servers.push(server);
    let wtSessions = 0;
    server.onSession = (s) => {
      wtSessions++;
      s.onBidiStream = () => s.close(0, '');
    };
    const { port } = await server.listen();
    const peer = await startScriptedPeer();
    try {
      peer.webTransportUrl = `https://127.0.0.1:${port}/wt`;
      peer.certificateHashes = [cert.sha256Base64];
      peer.onMessage = (conn, msg) => {
        if (msg.name === 'hello') conn.send('welcome', welcomeBody());
      };
      const c = new GameClient({
        baseUrl: peer.baseUrl, ticket: 't', transport: 'auto', WebSocket, WebTransport: NodeWebTransportConstructor,
        random: () => 0, reconnect: { baseMs: 10, maxMs: 10, maxAttempts: 3 },
      });
      const transports: string[] = [];
      c.on('transport', (t) => transports.push(t.transport));
      const w = await c.connect();
      expect(w.transport).toBe('websocket');
      expect(transports).toEqual(['webtransport', 'websocket']);
      expect(wtSessions).toBe(1);
      c.close();
    } finally {
      await peer.close();
    }
  });
});
