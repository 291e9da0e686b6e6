import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMessage } from '../../shared/codec.js';
import { ErrorCode } from '../../shared/errors.js';
import { MAX_RELIABLE_MESSAGE_BYTES } from '../../shared/limits.js';
import { PROTOCOL_VERSION } from '../../shared/messages.js';
import { decodeSnapshotBody } from '../../shared/snapshot/index.js';
import { createDevCertificate } from '../../certs/dev-cert.js';
import { createGameServer, leafCertificateHash, mintTicket, type GameServerOptions } from '../../server/index.js';
import { MemoryConnection } from './session/memory-connection.js';
import type { RawClient } from './ws-test-client.js';
import { closeRawServers, startRawServer, trackServer } from './helpers/raw-server.js';

const secret = 'test-secret-0123456789abcdef';
afterEach(closeRawServers);

const start = (extra: Partial<GameServerOptions> = {}) =>
  startRawServer({ ticketSecret: secret, timings: { helloTimeoutMs: 400 }, metrics: { public: true }, ...extra });

/** A playing session that must keep receiving snapshots while bad clients come and go. */
async function bystander(connect: () => Promise<RawClient>, ticket: (id: string) => string) {
  const c = await connect();
  await c.welcome(ticket('bystander'));
  await c.until(() => c.snapshots > 0, 5_000, 'first snapshot');
  return {
    client: c,
    async stillPlaying() {
      const before = c.snapshots;
      c.send('input', { seq: Date.now() % 1e9, ack: 0, inputs: [[1, 0]] });
      await c.until(() => c.snapshots >= before + 3, 5_000, 'more snapshots');
      expect(c.closeCode).toBeNull();
    },
  };
}

describe('the embedding surface', () => {
  it('sessions: read-only views that follow each session through a cut and a resume', async () => {
    const { server, connect, ticket } = await start();
    const a = await connect();
    const w = await a.welcome(ticket('alice', 'arena', 'Alice'));
    const sessions = server.sessions;
    expect(Object.keys(sessions).sort()).toEqual(['activeCount', 'get', 'list', 'pendingCount']);
    const view = sessions.get('alice')!;
    expect(sessions.list()).toEqual([view]);
    expect(sessions.get('nobody')).toBeUndefined();
    expect(sessions.activeCount).toBe(1);
    expect(Object.keys(view).sort()).toEqual([
      'connectedAt', 'connectionStats', 'entityId', 'name', 'playerId', 'remoteAddress', 'role', 'roomId', 'rttMs', 'snapshotStats',
      'startedAt', 'state', 'transport',
    ]);
    expect(view).toMatchObject({ playerId: 'alice', name: 'Alice', roomId: 'arena', entityId: w.entityId, state: 'active', transport: 'websocket' });
    expect(view.remoteAddress).toMatch(/127\.0\.0\.1/);
    expect(view.connectedAt).toBeGreaterThanOrEqual(view.startedAt);
    expect(() => { (view as { state: string }).state = 'gone'; }).toThrow(TypeError);
    await a.until(() => a.snapshots > 1);
    expect(view.connectionStats()!.messagesSentUnreliable).toBeGreaterThan(1);
    expect(view.snapshotStats()!.encoded + view.snapshotStats()!.shared).toBeGreaterThan(1);

    a.terminate();
    for (const deadline = Date.now() + 3000; view.state !== 'suspended' && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 10));
    expect(view).toMatchObject({ state: 'suspended', transport: null, connectedAt: null });
    expect(sessions.activeCount).toBe(0);
    expect(sessions.list()).toEqual([view]);
    await new Promise((r) => setTimeout(r, 5));
    const a2 = await connect();
    await a2.welcome(ticket('alice', 'arena', 'Alice'), { resumeToken: w.resumeToken, lastChatId: 0 });
    expect(sessions.get('alice')).toBe(view);
    expect(view.state).toBe('active');
    expect(view.connectedAt!).toBeGreaterThan(view.startedAt);
  });

  it('accept() takes a connection from a transport of the embedder', async () => {
    const server = trackServer(createGameServer({ ticketSecret: secret, httpPort: 0 }));
    const conn = new MemoryConnection();
    server.accept(conn);
    conn.deliver('hello', { v: PROTOCOL_VERSION, ticket: mintTicket(secret, { playerId: 'own', name: 'Own', room: 'arena' }) });
    for (let i = 0; i < 5 && !server.sessions.get('own'); i++) await Promise.resolve();
    expect(conn.of('welcome')).toHaveLength(1);
    expect(server.sessions.get('own')).toMatchObject({ state: 'active', remoteAddress: 'memory' });
    expect(server.http).toBeNull(); // nothing listens: the connection needed no HTTP
  });

  it('publishes the hash of the leaf certificate only (what a browser checks serverCertificateHashes against)', () => {
    const leaf = createDevCertificate();
    const issuer = createDevCertificate();
    const chain = leaf.certPem + issuer.certPem;
    expect(leafCertificateHash(chain)).toBe(leaf.sha256Base64);
    expect(leafCertificateHash(issuer.certPem)).toBe(issuer.sha256Base64);
    expect(leafCertificateHash('no certificate here')).toBeNull();
    const server = trackServer(createGameServer({ ticketSecret: secret, httpPort: 0, webTransport: { port: 0, certPem: chain, keyPem: leaf.keyPem } }));
    expect(server.connectInfo().certificateHashes).toEqual([leaf.sha256Base64]);
  });

  it('listen() once; close() is idempotent', async () => {
    const { server } = await start();
    await expect(server.listen()).rejects.toThrow(/already/);
    const first = server.close();
    expect(server.close()).toBe(first);
    await first;
  });
});

describe('game server over a real WebSocket', () => {
  it('welcomes a player with its entity, rates and world, then streams decodable snapshots', async () => {
    const { connect, ticket } = await start();
    const a = await connect();
    const w = await a.welcome(ticket('alice'));
    expect(w).toMatchObject({ playerId: 'alice', name: 'alice', roomId: 'arena', tickHz: 60, snapshotHz: 20, resumed: false, worldW: 1000, worldH: 1000 });
    expect(w.players.map((p) => p.playerId)).toEqual(['alice']);
    await a.until(() => a.snapshots >= 2);
    const snap = a.messages.find((m) => m.name === 'snapshot')!.body as Uint8Array;
    const decoded = decodeSnapshotBody(snap, () => undefined);
    expect(decoded.ok).toBe(true);
    if (decoded.ok) expect([...decoded.snapshot.ids.subarray(0, decoded.snapshot.count)]).toContain(w.entityId);
  });

  it('tells players about each other and answers pings with pongs', async () => {
    const { connect, ticket } = await start();
    const a = await connect();
    await a.welcome(ticket('alice'));
    const b = await connect();
    const wb = await b.welcome(ticket('bob'));
    expect(wb.players.map((p) => p.playerId).sort()).toEqual(['alice', 'bob']);
    await a.until(() => a.of('playerJoined').some((p) => p.playerId === 'bob'));
    b.send('ping', { id: 7, t: 123 });
    await b.until(() => b.of('pong').some((p) => p.id === 7 && p.t === 123));
    b.send('leave', {});
    expect(await b.closed()).toBe(ErrorCode.NORMAL);
    await a.until(() => a.of('playerLeft').some((p) => p.playerId === 'bob'));
  });

  it('delivers chat in order exactly once to everyone', async () => {
    const { connect, ticket } = await start();
    const a = await connect();
    await a.welcome(ticket('alice'));
    const b = await connect();
    await b.welcome(ticket('bob'));
    for (let i = 0; i < 5; i++) a.send('chatSend', { text: `line ${i}` });
    await b.until(() => b.of('chat').length >= 5);
    await a.until(() => a.of('chat').length >= 5);
    expect(b.of('chat').map((c) => c.text)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    expect(b.of('chat').map((c) => c.id)).toEqual([1, 2, 3, 4, 5]);
    expect(a.of('chat').map((c) => c.id)).toEqual([1, 2, 3, 4, 5]);
  });

  describe('bad input gets its documented outcome while another session keeps playing', () => {
    const closeCases: [string, (c: RawClient, t: (id: string) => string) => void, number][] = [
      ['wrong protocol version', (c, t) => c.hello(t('x1'), { v: 99 }), ErrorCode.PROTOCOL_VERSION],
      ['forged ticket', (c) => c.hello(mintTicket('another-secret-0123456789', { playerId: 'x2', name: 'x', room: 'arena' })), ErrorCode.TICKET_INVALID],
      ['garbage ticket', (c) => c.hello('not-a-ticket'), ErrorCode.TICKET_INVALID],
      ['expired ticket', (c) => c.hello(mintTicket(secret, { playerId: 'x3', name: 'x', room: 'arena', expiresAt: Date.now() - 1 })), ErrorCode.TICKET_EXPIRED],
      ['message before hello', (c) => c.send('chatSend', { text: 'hi' }), ErrorCode.BAD_MESSAGE],
      ['unknown message type', (c) => c.sendRaw(new Uint8Array([20, 0x90])), ErrorCode.UNKNOWN_MESSAGE_TYPE],
      ['undecodable bytes', (c) => c.sendRaw(new Uint8Array([1, 0xc1, 0xc1])), ErrorCode.BAD_MESSAGE],
      ['oversized frame', (c) => c.sendRaw(new Uint8Array(MAX_RELIABLE_MESSAGE_BYTES + 10).fill(1)), ErrorCode.MESSAGE_TOO_LARGE],
      ['text frame', (c) => c.sendRaw('hello?'), ErrorCode.BAD_MESSAGE],
      ['server message sent by a client', (c) => c.send('drain', { deadlineMs: 1, reconnectJitterMs: 1 }), ErrorCode.WRONG_CHANNEL],
      ['no hello at all', () => {}, ErrorCode.HELLO_TIMEOUT],
      ['room this server does not host', (c) => c.hello(mintTicket(secret, { playerId: 'x4', name: 'x', room: 'nope' })), ErrorCode.UNKNOWN_ROOM],
    ];
    for (const [what, act, code] of closeCases) {
      it(`${what} -> close ${code}`, async () => {
        const { connect, ticket } = await start({ rooms: { arena: {} }, defaultRoom: null });
        const other = await bystander(connect, ticket);
        const bad = await connect();
        act(bad, ticket);
        expect(await bad.closed()).toBe(code);
        // Every refusal is explained by an `error` message before the close, whichever layer
        // (transport framing, codec, handshake) found it.
        expect(bad.of('error').map((e) => e.code)).toEqual([code]);
        await other.stillPlaying();
      });
    }

    it('chat flood -> chatRejected with retry time, then close CHAT_FLOOD', async () => {
      const { connect, ticket, metrics: scrape } = await start();
      const other = await bystander(connect, ticket);
      const bad = await connect();
      await bad.welcome(ticket('flooder'));
      for (let i = 0; i < 60; i++) bad.send('chatSend', { text: `spam ${i}` });
      expect(await bad.closed()).toBe(ErrorCode.CHAT_FLOOD);
      const rejected = bad.of('chatRejected');
      expect(rejected.length).toBeGreaterThan(0);
      expect(rejected[0]).toMatchObject({ reason: 'rate_limited' });
      expect(rejected[0]!.retryAfterMs).toBeGreaterThan(0);
      // The bystander got the burst that was allowed, and nothing after.
      await other.stillPlaying();
      expect(other.client.of('chat').length).toBe(5);
      const metrics = await scrape();
      expect(metrics).toMatch(/tickwire_messages_dropped_total\{reason="rate_limited"\} [1-9]/);
      expect(metrics).toMatch(/tickwire_session_closes_total\{code="CHAT_FLOOD"\} 1/);
    });

    it('unreliable junk, unknown unreliable types and out-of-range inputs are dropped and counted, not fatal', async () => {
      const { server, connect, ticket, info } = await start();
      const other = await bystander(connect, ticket);
      const c = await connect();
      await c.welcome(ticket('sloppy'));
      c.sendRaw(new Uint8Array([50, 1, 2, 3]));            // unknown unreliable id
      c.sendRaw(new Uint8Array([32, 0xc1]));               // undecodable input
      c.sendRaw(encodeBadInput());                         // dx out of range
      c.send('input', { seq: 5, ack: 0, inputs: [[0, 1]] });
      c.send('input', { seq: 4, ack: 0, inputs: [[1, 0]] }); // stale
      await c.until(() => c.snapshots > 3);
      expect(c.closeCode).toBeNull();
      await other.stillPlaying();
      const text = await (await fetch(`${info.httpUrl}/metrics`)).text();
      expect(text).toMatch(/tickwire_messages_invalid_total\{reason="unknown_type"\} 1/);
      // The undecodable input and the out-of-range one (the codec names the first invalid_field).
      expect(text).toMatch(/tickwire_messages_invalid_total\{reason="invalid_field"\} 2/);
      expect(text).toMatch(/tickwire_messages_dropped_total\{reason="stale"\} [1-9]/);
      const session = server.sessions.get('sloppy')!;
      expect(server.rooms.get('arena')!.getPlayer('sloppy')!.input).toEqual({ dx: 0, dy: 1 });
      expect(session.state).toBe('active');
    });
  });

  it('resumes a cut session: same entity, missed chat replayed exactly once', async () => {
    const { server, connect, ticket } = await start();
    const a = await connect();
    const wa = await a.welcome(ticket('alice'));
    const b = await connect();
    await b.welcome(ticket('bob'));
    b.send('chatSend', { text: 'before' });
    await a.until(() => a.of('chat').length === 1);
    a.terminate();
    await new Promise((r) => setTimeout(r, 100));
    expect(server.sessions.get('alice')!.state).toBe('suspended');
    b.send('chatSend', { text: 'missed 1' });
    b.send('chatSend', { text: 'missed 2' });
    await b.until(() => b.of('chat').length === 3);
    const a2 = await connect();
    const w2 = await a2.welcome(ticket('alice'), { resumeToken: wa.resumeToken, lastChatId: 1 });
    expect(w2).toMatchObject({ resumed: true, entityId: wa.entityId });
    await a2.until(() => a2.of('chat').length === 2);
    expect(a2.of('chat').map((c) => c.text)).toEqual(['missed 1', 'missed 2']);
    b.send('chatSend', { text: 'after' });
    await a2.until(() => a2.of('chat').length === 3);
    expect(a2.of('chat').map((c) => c.id)).toEqual([2, 3, 4]);
  });

  it('a resume from a new connection replaces the open one with SESSION_REPLACED', async () => {
    const { server, connect, ticket } = await start();
    const a = await connect();
    const wa = await a.welcome(ticket('alice'));
    const a2 = await connect();
    const w2 = await a2.welcome(ticket('alice'), { resumeToken: wa.resumeToken, lastChatId: 0 });
    expect(w2.entityId).toBe(wa.entityId);
    expect(await a.closed()).toBe(ErrorCode.SESSION_REPLACED);
    await a2.until(() => a2.snapshots > 2);
    expect(server.rooms.get('arena')!.playerCount).toBe(1);
  });

  it('a stale resume token starts a fresh session', async () => {
    const { connect, ticket } = await start();
    const a = await connect();
    const w = await a.welcome(ticket('alice'), { resumeToken: 'made-up-token', lastChatId: 0 });
    expect(w.resumed).toBe(false);
  });

  it('room definitions run their hooks and extend the standard scene', async () => {
    const events: string[] = [];
    const { server, connect, ticket } = await start({
      rooms: {
        loud: {
          maxPlayers: 4,
          onJoin: (room, p) => { events.push(`join ${p.playerId}`); p.entity.x = 100; p.entity.y = 100; },
          onLeave: (_room, p) => { events.push(`leave ${p.playerId}`); },
          onChat: (_room, _p, text) => (text.includes('veto') ? null : text.toUpperCase()),
        },
      },
    });
    const a = await connect();
    await a.welcome(ticket('a', 'loud'));
    a.send('chatSend', { text: 'veto this' });
    a.send('chatSend', { text: 'hello' });
    await a.until(() => a.of('chat').length === 1);
    expect(a.of('chat')[0]!.text).toBe('HELLO');
    // The standard scene's onTick still moves the player.
    a.send('input', { seq: 1, ack: 0, inputs: [[1, 0]] });
    const room = server.rooms.get('loud')!;
    const deadline = Date.now() + 5000;
    while (room.getPlayer('a')!.entity.x < 110 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(room.getPlayer('a')!.entity.x).toBeGreaterThanOrEqual(110);
    a.send('leave', {});
    await a.closed();
    expect(events).toEqual(['join a', 'leave a']);
  });

  it('room full', async () => {
    const { connect, ticket } = await start({ rooms: { tiny: { maxPlayers: 1 } } });
    const a = await connect();
    await a.welcome(ticket('a', 'tiny'));
    const b = await connect();
    b.hello(ticket('b', 'tiny'));
    expect(await b.closed()).toBe(ErrorCode.ROOM_FULL);
  });

  it('serves healthz, connect-info, metrics, and dev tickets only when enabled', async () => {
    const { info } = await start();
    expect(await (await fetch(`${info.httpUrl}/healthz`)).json()).toEqual({ ok: true, draining: false });
    expect(await (await fetch(`${info.httpUrl}/api/connect-info`)).json()).toEqual({
      protocolVersion: PROTOCOL_VERSION, webTransportUrl: null, certificateHashes: [], webSocketPath: '/ws',
    });
    const r = await fetch(`${info.httpUrl}/api/dev/ticket`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' });
    expect(r.status).toBe(404);
    const metrics = await (await fetch(`${info.httpUrl}/metrics`)).text();
    for (const name of ['tickwire_sessions', 'tickwire_tick_duration_seconds', 'tickwire_bytes_total', 'tickwire_messages_dropped_total', 'tickwire_messages_invalid_total', 'tickwire_udp_socket_drops']) {
      expect(metrics).toContain(`# TYPE ${name}`);
    }
    // No WebTransport socket here: the drop count is unknown, so the gauge has no sample.
    expect(metrics).not.toMatch(/^tickwire_udp_socket_drops /m);
  });

  it('serves the built client statically when the directory exists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tickwire-static-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>tickwire test</title>');
    try {
      const { info, server } = await start({ staticDir: dir });
      const page = await fetch(`${info.httpUrl}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('tickwire test');
      await server.close();
      const missing = await start({ staticDir: join(dir, 'nope') });
      expect((await fetch(`${missing.info.httpUrl}/`)).status).toBe(404);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dev tickets mint a usable ticket and validate input', async () => {
    const { info, connect } = await start({ devTickets: { rooms: ['arena', 'r1'] } });
    const post = (body: string) => fetch(`${info.httpUrl}/api/dev/ticket`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect((await post('{"name":""}')).status).toBe(400);
    expect((await post('{"name":"\\u0000\\u202e"}')).status).toBe(400);
    expect((await post('{"name":"a","room":"bad room"}')).status).toBe(400);
    expect((await post('{"name":"a","room":"r2"}')).status).toBe(400);
    expect(await (await post('{"name":"a"}')).json()).toMatchObject({ room: 'arena' });
    const t = await (await post('{"name":"Ann","room":"r1"}')).json() as { ticket: string; playerId: string; room: string };
    expect(t.room).toBe('r1');
    const c = await connect();
    const w = await c.welcome(t.ticket);
    expect(w).toMatchObject({ name: 'Ann', roomId: 'r1', playerId: t.playerId });
    const metrics = await (await fetch(`${info.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/tickwire_sessions\{transport="websocket"\} 1/);
  });

  it('drain: notice to clients, refuses new sessions, closes the rest at the deadline', async () => {
    const { server, connect, ticket, info } = await start();
    const a = await connect();
    await a.welcome(ticket('alice'));
    const b = await connect();
    await b.welcome(ticket('bob'));
    const drained = server.drain({ deadlineMs: 600, reconnectJitterMs: 100 });
    await a.until(() => a.of('drain').length === 1);
    expect(a.of('drain')[0]).toEqual({ deadlineMs: 600, reconnectJitterMs: 100 });
    expect(await (await fetch(`${info.httpUrl}/healthz`)).json()).toEqual({ ok: true, draining: true });
    const late = await connect();
    late.hello(ticket('late'));
    expect(await late.closed()).toBe(ErrorCode.SERVER_DRAINING);
    a.send('leave', {});           // a leaves on its own
    await drained;
    expect(await a.closed()).toBe(ErrorCode.NORMAL);
    expect(await b.closed()).toBe(ErrorCode.SERVER_DRAINING);
  });
});

/** An input whose dx byte is -128, outside the quantized range [-127, 127] (the encoder refuses it). */
function encodeBadInput(): Uint8Array {
  // The packed inputs end the message: [dx byte, dy byte] of the single input.
  const bad = Uint8Array.from(encodeMessage('input', { seq: 99, ack: 0, inputs: [[0.5, 0.25]] }));
  bad[bad.length - 2] = 0x80;
  return bad;
}
