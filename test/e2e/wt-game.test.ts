import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createDevCertificate } from '../../certs/dev-cert.js';
import { NodeWebTransportConstructor } from '../../tools/bots/node-webtransport.js';
import { ErrorCode } from '../../shared/errors.js';
import type { WebTransportSession } from '../../server/h3/index.js';
import { closeGameAfterEach, joinPlayer, startServer, waitFor } from './game-fixture.js';

const game = closeGameAfterEach();

describe('end to end over WebTransport (GameClient + NodeWebTransport <-> createGameServer on quiche)', () => {
  it('two players see each other move, chat in order exactly once, resume after the connection is dropped', async () => {
    const cert = createDevCertificate();
    const started = await startServer({ webTransport: { port: 0, certPem: cert.certPem, keyPem: cert.keyPem }, metrics: { public: true } });
    const server = started.server;
    game.server = server;
    // The server's WebTransport sessions in the order they opened, so the test can drop one.
    const opened: WebTransportSession[] = [];
    const accept = server.webTransport!.onSession!;
    server.webTransport!.onSession = (session) => {
      opened.push(session);
      accept(session);
    };
    const join = (id: string, reconnectBaseMs?: number) =>
      joinPlayer(started.baseUrl, id, { transport: 'webtransport', WebTransport: NodeWebTransportConstructor, reconnectBaseMs });
    const a = await join('alice', 400);
    const aliceSession = opened.at(-1)!;
    const b = await join('bob');
    game.players.push(a, b);
    expect(a.welcome.transport).toBe('webtransport');
    expect(b.welcome.transport).toBe('webtransport');

    await waitFor(() => a.positions.has(b.welcome.entityId) && b.positions.has(a.welcome.entityId), 5_000, 'entities');
    const bStart = { ...a.positions.get(b.welcome.entityId)! };
    b.client.setInput(-1, 0);
    await waitFor(() => Math.abs(a.positions.get(b.welcome.entityId)!.x - bStart.x) > 20, 5_000, 'movement');

    for (let i = 0; i < 4; i++) b.client.sendChat(`wt ${i}`);
    await waitFor(() => a.chat.length === 4 && b.chat.length === 4, 5_000, 'chat');
    expect(a.chat.map((c) => c.text)).toEqual(['wt 0', 'wt 1', 'wt 2', 'wt 3']);

    // Snapshots rode datagrams: the server's WebTransport session counted them.
    const alice = server.sessions.get('alice')!;
    expect(alice.transport).toBe('webtransport');
    expect(alice.connectionStats()!.messagesSentUnreliable).toBeGreaterThan(5);
    // The kernel dropped nothing at the server's UDP socket, and /metrics says so (Linux: /proc).
    const metrics = await (await fetch(`${started.baseUrl}/metrics`)).text();
    if (existsSync('/proc/net/udp')) {
      expect(server.webTransport!.udpSocketDrops()).toBe(0);
      expect(metrics).toMatch(/^tickwire_udp_socket_drops\{socket="webtransport"\} 0$/m);
    }

    // The server gives up on alice's connection as if she went silent; she resumes.
    const resumed = new Promise<boolean>((resolve) => a.client.on('welcome', (w) => resolve(w.resumed)));
    aliceSession.close(ErrorCode.IDLE_TIMEOUT, 'test: connection dropped');
    await waitFor(() => alice.state === 'suspended', 2_000, 'the drop suspends her session');
    expect(alice.transport).toBeNull();
    b.client.sendChat('missed over wt');
    await waitFor(() => b.chat.length === 5, 2_000, 'bob sees his line');
    expect(await resumed).toBe(true);
    await waitFor(() => a.chat.length === 5, 5_000, 'replay');
    expect(a.chat.map((c) => c.id)).toEqual([1, 2, 3, 4, 5]);
    expect(a.client.welcome!.entityId).toBe(a.welcome.entityId);
  });
});
