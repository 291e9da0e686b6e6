/**
 * The game server (createGameServer) against a client that behaves as an attacker would, over real
 * sockets on loopback (Linux routes all of 127.0.0.0/8 to lo, so a test can be several addresses):
 * each finding of issue 10 outside the QUIC and HTTP/3 layers, with honest players alongside.
 * Every attack loop is bounded in count and time.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMessage } from '../../shared/codec.js';
import { ErrorCode, errorInfo } from '../../shared/errors.js';
import { PROTOCOL_VERSION } from '../../shared/messages.js';
import { mintTicket, type GameServerOptions } from '../../server/index.js';
import { ManualScheduler } from '../../server/clock.js';
import { InProcessChatFanout } from '../../server/chat/fanout.js';
import { CHAT_BURST, CHAT_SHARED_BURST } from '../../server/chat/chat-room.js';
import { InProcessRoomManager, ROOM_CAP_RETRY_AFTER_MS } from '../../server/rooms/room-manager.js';
import { standardScene } from '../../server/rooms/standard-scene.js';
import { MAX_PENDING_PER_ADDRESS, PENDING_BUSY_RETRY_AFTER_MS } from '../../server/session/admission.js';
import { WS_MAX_FRAME_BYTES } from '../../server/transports/websocket.js';
import type { RawClient } from './ws-test-client.js';
import { closeRawServers, startRawServer } from './helpers/raw-server.js';

const secret = 'abuse-secret-0123456789abcdef';
afterEach(closeRawServers);

const start = (extra: Partial<GameServerOptions> = {}) => startRawServer({ ticketSecret: secret, metrics: { public: true }, ...extra });

/** A value of `tickwire_refusals_total{layer,reason}` in a metrics text (0 when absent). */
function refusals(text: string, layer: string, reason: string): number {
  const m = text.match(new RegExp(`^tickwire_refusals_total\\{layer="${layer}",reason="${reason}"\\} (\\d+)`, 'm'));
  return m ? Number(m[1]) : 0;
}

function closes(text: string, code: string): number {
  const m = text.match(new RegExp(`^tickwire_session_closes_total\\{code="${code}"\\} (\\d+)`, 'm'));
  return m ? Number(m[1]) : 0;
}

async function devTicket(httpUrl: string, body: unknown, localAddress?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; json: Record<string, unknown> }> {
  const url = new URL('/api/dev/ticket', httpUrl);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', localAddress, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => { text += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text || '{}') as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('join lock-out: per-address shares of the pending-hello budget', () => {
  it('while one address holds its whole share (1,000 silent sockets), a client from another address joins within 1 s', async () => {
    const { server, connect, ticket, metrics } = await start({ timings: { helloTimeoutMs: 20_000 } });
    // The flood: 1,000 sockets from 127.0.0.1 that never say hello, opened 50 at a time.
    const flood: RawClient[] = [];
    for (let i = 0; i < 1_000; i += 50) {
      flood.push(...await Promise.all(Array.from({ length: 50 }, () => connect({ localAddress: '127.0.0.1' }))));
    }
    // Those beyond the address's share are refused at once; wait for that to settle (bounded).
    const settle = Date.now() + 10_000;
    while (flood.filter((c) => c.closeCode !== null).length < 1_000 - MAX_PENDING_PER_ADDRESS && Date.now() < settle) {
      await new Promise((r) => setTimeout(r, 20));
    }

    // The honest player, from another address, while 127.0.0.1 holds its whole share.
    const honest = await connect({ localAddress: '127.0.0.2' });
    const t0 = Date.now();
    honest.hello(ticket('honest'));
    await honest.until(() => honest.of('welcome').length > 0 || honest.closeCode !== null, 1_000, 'welcome within 1 s');
    expect(honest.closeCode).toBeNull();
    expect(honest.of('welcome')).toHaveLength(1);
    expect(Date.now() - t0).toBeLessThan(1_000);

    // The flood: its share held, the rest refused with a busy code and a retry time, counted.
    const refused = flood.filter((c) => c.closeCode !== null);
    expect(refused.length).toBe(1_000 - MAX_PENDING_PER_ADDRESS);
    expect(new Set(refused.map((c) => c.closeCode))).toEqual(new Set([ErrorCode.SERVER_BUSY]));
    expect(refused[0]!.of('error')[0]).toMatchObject({ code: ErrorCode.SERVER_BUSY, retryAfterMs: PENDING_BUSY_RETRY_AFTER_MS });
    expect(server.sessions.pendingCount).toBe(MAX_PENDING_PER_ADDRESS);
    const text = await metrics();
    expect(refusals(text, 'game', 'pending_per_address')).toBe(1_000 - MAX_PENDING_PER_ADDRESS);
    expect(closes(text, 'SERVER_BUSY')).toBe(1_000 - MAX_PENDING_PER_ADDRESS);
  }, 90_000);
});

describe('room exhaustion', () => {
  it('dev tickets name only rooms the demo serves: no ticket a join would refuse, no room flood', async () => {
    const { server, info } = await start({ devTickets: { burst: 1_000 } });
    for (let i = 0; i < 50; i++) {
      const r = await devTicket(info.httpUrl, { name: 'flood', room: `room-${i}` });
      expect(r.status).toBe(400);
    }
    // ':' passes the ticket's id pattern but no room id: never minted for a join to refuse.
    expect((await devTicket(info.httpUrl, { name: 'x', room: 'a:b' })).status).toBe(400);
    expect((await devTicket(info.httpUrl, { name: 'x' })).json).toMatchObject({ room: 'arena' });
    expect(server.rooms.list().length).toBe(0);
  });

  it('at the room cap, empty rooms give up their slot at once; rooms all in use answer SERVER_BUSY, not UNKNOWN_ROOM', async () => {
    const scheduler = new ManualScheduler(Date.now());
    // The stepped scheduler never fires the 30 s linger: only a prompt reclaim frees a slot.
    const rooms = new InProcessRoomManager({ scheduler, fanout: new InProcessChatFanout(), defaultDefinition: standardScene, maxRooms: 3 });
    const { connect, ticket } = await start({ roomManager: rooms });
    for (const id of ['r1', 'r2', 'r3']) {
      const c = await connect();
      await c.welcome(ticket(`p-${id}`, id));
      c.send('leave', {});
      await c.closed();
    }
    expect(rooms.list()).toHaveLength(3);
    const d = await connect();
    const w = await d.welcome(ticket('p-r4', 'r4'));
    expect(w.roomId).toBe('r4');
    // Three rooms with players now fill the cap: a fourth is busy, with a retry time.
    for (const id of ['r5', 'r6']) await (await connect()).welcome(ticket(`p-${id}`, id));
    const e = await connect();
    e.hello(ticket('p-r7', 'r7'));
    expect(await e.closed()).toBe(ErrorCode.SERVER_BUSY);
    expect(e.of('error')[0]).toMatchObject({ code: ErrorCode.SERVER_BUSY, retryAfterMs: ROOM_CAP_RETRY_AFTER_MS });
  });
});

describe('dev tickets', () => {
  it('minting is rate-limited per address: 429 with Retry-After, counted; another address is not affected', async () => {
    const { info, metrics } = await start({ devTickets: { burst: 3, perSecond: 1 } });
    for (let i = 0; i < 3; i++) expect((await devTicket(info.httpUrl, { name: `n${i}` }, '127.0.0.1')).status).toBe(200);
    const limited = await devTicket(info.httpUrl, { name: 'n4' }, '127.0.0.1');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.json.retryAfterMs).toBeGreaterThan(0);
    expect((await devTicket(info.httpUrl, { name: 'other' }, '127.0.0.3')).status).toBe(200);
    expect(refusals(await metrics(), 'http', 'dev_ticket_rate_limited')).toBe(1);
  });

  it('a dev ticket starts one session: a second fresh join with it is refused and replaces nothing; a resume still works', async () => {
    const { server, info, connect } = await start({ devTickets: true });
    const t = (await devTicket(info.httpUrl, { name: 'Ann' })).json as { ticket: string; playerId: string };
    const a = await connect();
    const w = await a.welcome(t.ticket);
    const replay = await connect();
    replay.hello(t.ticket);
    expect(await replay.closed()).toBe(ErrorCode.TICKET_INVALID);
    expect(a.closeCode).toBeNull();
    expect(server.sessions.get(t.playerId)!.state).toBe('active');
    // The rightful client, back after a cut, resumes with its token and the same ticket.
    a.terminate();
    await new Promise((r) => setTimeout(r, 100));
    const back = await connect();
    expect(await back.welcome(t.ticket, { resumeToken: w.resumeToken, lastChatId: 0 })).toMatchObject({ resumed: true, entityId: w.entityId });
  });

  it('fresh dev tickets from one address do not multiply the chat burst', async () => {
    const { info, connect, ticket } = await start({ devTickets: true });
    const watcher = await connect({ localAddress: '127.0.0.9' });
    await watcher.welcome(ticket('watcher'));
    const spammers: RawClient[] = [];
    for (let i = 0; i < 6; i++) {
      const t = (await devTicket(info.httpUrl, { name: `s${i}` }, '127.0.0.1')).json as { ticket: string };
      const c = await connect({ localAddress: '127.0.0.1' });
      await c.welcome(t.ticket);
      spammers.push(c);
    }
    for (const c of spammers) for (let k = 0; k < CHAT_BURST; k++) c.send('chatSend', { text: `spam ${k}` });
    await Promise.all(spammers.map((c) => c.until(() => c.of('chat').length + c.of('chatRejected').length >= CHAT_BURST, 5_000, 'answers')));
    await new Promise((r) => setTimeout(r, 100));
    // Six tickets, one shared burst (per-ticket buckets alone let all 30 lines through); the
    // shared bucket's refill while the lines arrive may add one or two.
    expect(watcher.of('chat').length).toBeGreaterThanOrEqual(CHAT_SHARED_BURST);
    expect(watcher.of('chat').length).toBeLessThanOrEqual(CHAT_SHARED_BURST + 2);
  });
});

describe('one rule for protocol errors over WebSocket: `error` first, counted, not resumable', () => {
  const cases: [string, (c: RawClient) => void, number, string, boolean][] = [
    ['text frame', (c) => c.sendRaw('hello?'), ErrorCode.BAD_MESSAGE, 'protocol_text_frame', true],
    ['undecodable message', (c) => c.sendRaw(new Uint8Array([5, 0xc1, 0xc1])), ErrorCode.BAD_MESSAGE, 'protocol_decode', true],
    ['unknown message type', (c) => c.sendRaw(new Uint8Array([20, 0x90])), ErrorCode.UNKNOWN_MESSAGE_TYPE, 'protocol_unknown_type', true],
    ['hello again', (c) => c.hello('x'), ErrorCode.BAD_MESSAGE, 'protocol_hello_again', true],
    // Over ws's own frame limit ws closes with 1009 itself, before we could send anything.
    ['frame over the WebSocket limit', (c) => c.sendRaw(new Uint8Array(WS_MAX_FRAME_BYTES + 1).fill(1)), 1009, 'protocol_frame_too_large', false],
  ];
  for (const [what, act, code, reason, errorFirst] of cases) {
    it(`${what} in a session -> close ${code}, session gone`, async () => {
      const { server, connect, ticket, metrics } = await start();
      const c = await connect();
      await c.welcome(ticket('bad'));
      act(c);
      expect(await c.closed()).toBe(code);
      if (errorFirst) expect(c.of('error').map((e) => e.code)).toEqual([code]);
      // Not suspended: the session ended with the connection (no resume of a protocol breaker).
      await new Promise((r) => setTimeout(r, 50));
      expect(server.sessions.get('bad')).toBeUndefined();
      const text = await metrics();
      expect(refusals(text, 'game', reason)).toBe(1);
      const name = errorInfo(errorFirst ? code : ErrorCode.MESSAGE_TOO_LARGE)!.name;
      expect(closes(text, name)).toBe(1);
    });
  }

  it('the same rule before the hello (text frame on a fresh socket)', async () => {
    const { connect, metrics } = await start();
    const c = await connect();
    c.sendRaw('GET / HTTP/1.1');
    expect(await c.closed()).toBe(ErrorCode.BAD_MESSAGE);
    expect(c.of('error').map((e) => e.code)).toEqual([ErrorCode.BAD_MESSAGE]);
    const text = await metrics();
    expect(refusals(text, 'game', 'protocol_text_frame')).toBe(1);
    expect(closes(text, 'BAD_MESSAGE')).toBe(1);
  });
});

describe('what the server says back', () => {
  it('display names are sanitised like chat before anyone sees them', async () => {
    const { connect } = await start();
    const a = await connect();
    await a.welcome(mintTicket(secret, { playerId: 'a', name: 'Ann', room: 'arena' }));
    const b = await connect();
    const w = await b.welcome(mintTicket(secret, { playerId: 'b', name: 'Ev\u0000\u001b[31mil\u202etxt.exe', room: 'arena' }));
    expect(w.name).toBe('Eviltxt.exe');
    await a.until(() => a.of('playerJoined').length === 1);
    expect(a.of('playerJoined')[0]!.name).toBe('Eviltxt.exe');
    // Nothing visible left: a fallback name, not an empty or invisible one.
    const c = await connect();
    expect((await c.welcome(mintTicket(secret, { playerId: 'c', name: '\u202e\u200b\u3164', room: 'arena' }))).name).toBe('player');
  });

  it('close reasons and error messages never echo what the client sent', async () => {
    const { connect } = await start();
    const a = await connect();
    a.hello('t', { v: 65432 });
    expect(await a.closed()).toBe(ErrorCode.PROTOCOL_VERSION);
    const b = await connect();
    // A hello as a plain map with a field of the client's choosing (the codec refuses unknown fields).
    const { Packr } = await import('msgpackr');
    const evil = new Packr({ useRecords: false }).pack({ v: PROTOCOL_VERSION, ticket: 't', '<script>evil</script>': 1 });
    b.sendRaw(new Uint8Array([1, ...evil]));
    expect(await b.closed()).toBe(ErrorCode.BAD_MESSAGE);
    for (const c of [a, b]) {
      const texts = [c.closeReason, ...c.of('error').map((e) => e.message)];
      for (const t of texts) {
        expect(t.startsWith(errorInfo(c.closeCode!)!.description)).toBe(true);
        expect(t).not.toMatch(/65432|script|evil/);
      }
    }
    expect(encodeMessage('error', { code: 4002, message: 'x' }).length).toBeGreaterThan(0);
  });
});

describe('/metrics placement', () => {
  it('not on the public port by default outside dev servers; a listener of its own, or a bearer token, when asked', async () => {
    const plain = await start({ metrics: undefined });
    expect((await fetch(`${plain.info.httpUrl}/metrics`)).status).toBe(404);
    expect(plain.info.metricsUrl).toBeNull();
    await plain.server.close();

    const own = await start({ metrics: { port: 0 } });
    expect((await fetch(`${own.info.httpUrl}/metrics`)).status).toBe(404);
    expect(own.info.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const scraped = await fetch(own.info.metricsUrl!);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('# TYPE tickwire_refusals_total');
    await own.server.close();

    const token = 'scrape-token-0123456789';
    const guarded = await start({ metrics: { token } });
    expect((await fetch(`${guarded.info.httpUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${guarded.info.httpUrl}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const ok = await fetch(`${guarded.info.httpUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(refusals(await ok.text(), 'http', 'metrics_unauthorized')).toBe(2);
    await guarded.server.close();

    const dev = await start({ metrics: undefined, devTickets: true });
    expect((await fetch(`${dev.info.httpUrl}/metrics`)).status).toBe(200);
  });
});

describe('allowed origins for the WebSocket upgrade', () => {
  it("'self' admits pages of this server only: another origin, or none, gets 403 and is counted", async () => {
    const { connect, ticket, info, metrics } = await start({ allowedOrigins: 'self' });
    expect(info.allowedOrigins).toContain(info.httpUrl);
    await expect(connect({ origin: 'http://evil.example' })).rejects.toThrow(/403/);
    await expect(connect()).rejects.toThrow(/403/);
    const good = await connect({ origin: info.httpUrl });
    await good.welcome(ticket('ok'));
    const localhost = await connect({ origin: info.httpUrl.replace('127.0.0.1', 'localhost') });
    await localhost.welcome(ticket('ok2'));
    expect(refusals(await metrics(), 'http', 'bad_origin')).toBe(2);
  });
});

describe('busy refusals name what to do', () => {
  it('a pending-hello refusal is SERVER_BUSY with retryAfterMs, not INTERNAL_ERROR', async () => {
    const { connect } = await start({ admission: { maxPendingPerAddress: 1 } });
    await connect();
    const second = await connect();
    expect(await second.closed()).toBe(ErrorCode.SERVER_BUSY);
    expect(second.of('error')).toEqual([{ code: ErrorCode.SERVER_BUSY, message: errorInfo(ErrorCode.SERVER_BUSY)!.description, retryAfterMs: PENDING_BUSY_RETRY_AFTER_MS }]);
  });
});
