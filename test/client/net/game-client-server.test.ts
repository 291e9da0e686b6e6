/**
 * GameClient against the real game server (`createGameServer`, port 0) over real sockets:
 * WebSocket sessions, two players seeing each other move, chat, resume after the socket is cut
 * with the missed chat replayed, WebTransport fallback, and (when the server offers it)
 * WebTransport itself.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { GameClient } from '../../../client/net/game-client.js';
import type { ChatEvent, SnapshotEvent, TransportEvent } from '../../../client/net/game-client-types.js';
import type { InputRecord } from '../../../client/net/input-history.js';
import type { WebTransportConstructor } from '../../../client/net/transport-types.js';
import { quantizeInput } from '../../../shared/input.js';
import { NodeWebTransportConstructor } from '../../../tools/bots/node-webtransport.js';
import { closeTestServers, devGameClient, startTestServer, welcomed, type DevClientOptions, type TestServer } from './helpers/game-server.js';
import { waitFor } from './helpers/scripted-peer.js';

/** The test's current server (player() joins it); closeTestServers() closes all it started. */
let server!: TestServer;
afterEach(closeTestServers);

const player = (name: string, over: DevClientOptions = {}): GameClient => devGameClient(server, name, over);

describe('GameClient with the real server', () => {
  it('two players over WebSocket see each other move and chat in order exactly once', async () => {
    server = await startTestServer();
    const a = player('Ada');
    const b = player('Bob');
    const wa = await welcomed(a);
    const wb = await welcomed(b);
    expect(wa.transport).toBe('websocket');
    expect(wb.entityId).not.toBe(wa.entityId);
    a.setInput(1, 0);
    const seenByB: number[] = [];
    b.on('snapshot', (s: SnapshotEvent) => {
      const e = s.entities.find((x) => x.id === wa.entityId);
      if (e) seenByB.push(e.x);
    });
    await waitFor(() => new Set(seenByB).size >= 5, 5_000, 'B sees A move');
    const chatB: ChatEvent[] = [];
    b.on('chat', (m) => chatB.push(m));
    for (const t of ['one', 'two', 'three']) expect(a.sendChat(t)).toBe(true);
    await waitFor(() => chatB.filter((m) => m.name === 'Ada').length >= 3, 5_000, 'three chat lines');
    expect(chatB.filter((m) => m.name === 'Ada').map((m) => m.text)).toEqual(['one', 'two', 'three']);
    const ids = chatB.map((m) => m.id);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    const s = b.stats();
    expect(s.connected).toBe(true);
    expect(s.snapshotsReceived).toBeGreaterThanOrEqual(5);
    expect(s.snapshotsDropped).toBe(0);
    expect(s.messagesDropped).toBe(0);
    await waitFor(() => a.stats().rttMs !== null, 5_000, 'RTT sample');
  });

  it('the server applies bit for bit the quantized direction the client recorded for prediction', async () => {
    server = await startTestServer();
    const a = player('Ada');
    const w = await welcomed(a);
    const records: InputRecord[] = [];
    a.on('input', (r) => records.push(r));
    // An analog direction off the quantization grid (and a diagonal, longer than 1 once quantized).
    for (const [dx, dy] of [[Math.cos(1), Math.sin(1)], [-1, 1], [0.123456, -0.654321]]) {
      a.setInput(dx, dy);
      const first = records.length;
      await waitFor(() => records.length > first, 5_000, 'an input with the new direction');
      const rec = records[first];
      const room = server.server.rooms.get(w.roomId)!;
      await waitFor(() => room.getPlayer(w.playerId)!.lastInputSeq >= rec.seq, 5_000, 'the server applies it');
      // The server may already hold a newer input; all of them carry this direction.
      const applied = room.getPlayer(w.playerId)!.input;
      expect([applied.dx, applied.dy]).toEqual([rec.dx, rec.dy]);
      expect([rec.dx, rec.dy]).toEqual(quantizeInput([rec.dx, rec.dy]));
      expect(Math.abs(rec.dx - dx / Math.max(1, Math.hypot(dx, dy)))).toBeLessThanOrEqual(0.5 / 127 + 1e-12);
    }
  });

  it('resumes after its socket is cut: same entity, and the chat it missed is replayed', async () => {
    server = await startTestServer();
    // Track A's sockets so the test can cut the TCP connection under it (no close frame).
    const sockets: WebSocket[] = [];
    class TrackedWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        sockets.push(this);
      }
    }
    const a = player('Ada', {
      WebSocket: TrackedWebSocket,
      random: () => 0.5,
      reconnect: { baseMs: 200, maxMs: 1000, maxAttempts: 10 },
    });
    const b = player('Bob');
    const wa = await welcomed(a);
    await welcomed(b);
    const chatA: ChatEvent[] = [];
    a.on('chat', (m) => chatA.push(m));
    b.sendChat('before');
    await waitFor(() => chatA.some((m) => m.text === 'before'));
    const welcomes: boolean[] = [];
    a.on('welcome', (w) => welcomes.push(w.resumed));
    const retries: number[] = [];
    a.on('reconnecting', (r) => retries.push(r.delayMs));
    // Cut A's socket, then talk while A is away.
    sockets[0].terminate();
    await waitFor(() => a.state !== 'connected', 3_000, 'A notices the cut');
    b.sendChat('while away 1');
    b.sendChat('while away 2');
    await waitFor(() => welcomes.length === 1, 5_000, 'A resumed');
    expect(welcomes).toEqual([true]);
    expect(retries[0]).toBe(100); // 0.5 x 200
    expect(a.welcome?.entityId).toBe(wa.entityId);
    await waitFor(() => chatA.some((m) => m.text === 'while away 2'), 5_000, 'missed chat replayed');
    expect(chatA.map((m) => m.text)).toEqual(['before', 'while away 1', 'while away 2']);
    expect(a.stats().reconnects).toBe(1);
  });

  it('auto mode falls back to WebSocket when the WebTransport constructor throws', async () => {
    server = await startTestServer();
    class Blocked {
      constructor() {
        throw new TypeError('WebTransport disabled');
      }
    }
    const c = player('Cy', { transport: 'auto', WebTransport: Blocked as unknown as WebTransportConstructor });
    const transports: TransportEvent[] = [];
    c.on('transport', (t) => transports.push(t));
    const w = await welcomed(c);
    expect(w.transport).toBe('websocket');
    expect(transports[0]).toEqual({ transport: 'websocket', fallbackReason: 'WebTransport disabled' });
    await waitFor(() => c.stats().snapshotsReceived >= 3);
  });

  it('auto mode falls back to WebSocket when WebTransport hangs past 1 s (UDP silently dropped)', async () => {
    server = await startTestServer();
    // A real session attempt to a UDP port where nothing answers: `ready` never settles.
    class Blackholed {
      constructor(_url: string, options?: ConstructorParameters<WebTransportConstructor>[1]) {
        return new NodeWebTransportConstructor('https://127.0.0.1:9/wt', { ...options, connectTimeoutMs: 10_000 } as ConstructorParameters<WebTransportConstructor>[1]);
      }
    }
    const c = player('Dee', { transport: 'auto', WebTransport: Blackholed as unknown as WebTransportConstructor });
    const transports: TransportEvent[] = [];
    c.on('transport', (t) => transports.push(t));
    const w = await welcomed(c);
    expect(w.transport).toBe('websocket');
    expect(transports[0].fallbackReason).toMatch(/not ready within 1000 ms/);
    await waitFor(() => c.stats().snapshotsReceived >= 3);
  });

  it('auto mode uses WebTransport when the server offers it, with datagram snapshots', async () => {
    server = await startTestServer();
    expect(server.webTransport).toBe(true);
    const a = player('Ada', { transport: 'auto' });
    const b = player('Bob', { transport: 'auto' });
    const wa = await welcomed(a);
    await welcomed(b);
    expect(wa.transport).toBe('webtransport');
    a.setInput(0, 1);
    const ys: number[] = [];
    b.on('snapshot', (s) => {
      const e = s.entities.find((x) => x.id === wa.entityId);
      if (e) ys.push(e.y);
    });
    await waitFor(() => new Set(ys).size >= 5, 5_000, 'B sees A move over WebTransport');
    const got: string[] = [];
    b.on('chat', (m) => got.push(m.text));
    a.sendChat('over quic');
    await waitFor(() => got.includes('over quic'));
    expect(b.stats().bytesDown.unreliable).toBeGreaterThan(0);
  });
});

describe('GameClient snapshot path (it picks the interpolation delay rule)', () => {
  it.each([
    ['webtransport', 'unreliable', 'datagram'],
    ['webtransport', 'reliable', 'ordered'],
    ['websocket', 'unreliable', 'ordered'],
  ] as const)('over %s with the server sending snapshots %s, every snapshot says %s', async (transport, snapshotChannel, path) => {
    server = await startTestServer({ snapshotChannel });
    expect(server.webTransport).toBe(true);
    const a = player('Ada', { transport });
    const paths: Array<string | undefined> = [];
    a.on('snapshot', (s) => paths.push(s.path));
    expect((await welcomed(a)).transport).toBe(transport);
    await waitFor(() => paths.length >= 5, 5_000, 'five snapshots');
    expect(new Set(paths)).toEqual(new Set([path]));
  });
});

describe('GameClient leaving', () => {
  for (const transport of ['websocket', 'webtransport'] as const) {
    it(`close() over ${transport} delivers the leave: the other player sees playerLeft at once`, async () => {
      server = await startTestServer();
      const a = player('Ada', { transport });
      const b = player('Bob', { transport });
      await welcomed(a);
      const wb = await welcomed(b);
      expect(wb.transport).toBe(transport);
      const left: number[] = [];
      a.on('playerLeft', (p) => left.push(p.entityId));
      b.close();
      expect(b.state).toBe('closed');
      // Well inside the server's 30 s resume window: only a delivered leave explains it.
      await waitFor(() => left.includes(wb.entityId), 3_000, 'playerLeft');
    });
  }
});

describe('GameClient across a server drain and replacement', () => {
  it('on drain reconnects after the jitter delay and joins the replacement on the same port: fresh session, chat numbered afresh', async () => {
    // Both processes of the deployment share the ticket secret, as a game backend's would.
    const ticketSecret = randomBytes(32);
    const a = await startTestServer({ ticketSecret });
    server = a;
    const port = Number(new URL(a.baseUrl).port);
    const c = player('Ada', { transport: 'auto', random: () => 0.5, reconnect: { baseMs: 100, maxMs: 400, maxAttempts: 40 } });
    const w1 = await welcomed(c);
    expect(w1.transport).toBe('webtransport');
    const drains: number[] = [];
    c.on('drain', (d) => drains.push(d.reconnectInMs));
    const welcomes: { resumed: boolean; transport: string }[] = [];
    c.on('welcome', (w) => welcomes.push({ resumed: w.resumed, transport: w.transport }));
    const closes: number[] = [];
    c.on('close', (e) => closes.push(e.code));
    await a.server.drain({ deadlineMs: 600, reconnectJitterMs: 200 });
    expect(drains).toEqual([100]);
    expect(welcomes).toEqual([]);
    // The replacement process takes over the HTTP port (its WebTransport port is new; the client
    // reads connect-info again on every attempt).
    server = await startTestServer({ ticketSecret, httpPort: port });
    await waitFor(() => welcomes.length === 1, 10_000, 'welcome from the replacement');
    // A fresh session (the new process never saw ours). Its transport depends on timing: an
    // attempt that began against the draining server may have fallen back to WebSocket.
    expect(welcomes[0].resumed).toBe(false);
    expect(closes).toEqual([]);
    // Chat numbering restarted on the new server; the client must not hide its lines.
    const b = player('Bob');
    await welcomed(b);
    const got: string[] = [];
    c.on('chat', (m) => got.push(m.text));
    b.sendChat('hello from the new server');
    await waitFor(() => got.includes('hello from the new server'), 5_000, 'chat on the new server');
  });
});
