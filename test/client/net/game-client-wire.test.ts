import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { GameClient } from '../../../client/net/game-client.js';
import { encodeMessage } from '../../../shared/codec.js';
import { PROTOCOL_VERSION } from '../../../shared/messages.js';
import { encodeSnapshot, type SnapshotView } from '../../../shared/snapshot/index.js';
import type { CloseEvent, ReconnectingEvent, TransportEvent } from '../../../client/net/game-client-types.js';
import type { WebTransportConstructor, WebTransportLike } from '../../../client/net/transport-types.js';
import { WEBTRANSPORT_READY_TIMEOUT_MS } from '../../../client/net/webtransport-channel.js';
import { BUSY_RETRY_FLOOR_MS } from '../../../client/net/game-client.js';
import { startScriptedPeer, waitFor, welcomeBody, type ScriptedPeer } from './helpers/scripted-peer.js';

let peer: ScriptedPeer;
let clients: GameClient[] = [];
afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  await peer?.close();
});

function client(over: Partial<ConstructorParameters<typeof GameClient>[0]> = {}): GameClient {
  const c = new GameClient({ baseUrl: peer.baseUrl, ticket: 'ticket-1', transport: 'websocket', WebSocket, ...over });
  clients.push(c);
  return c;
}

/** Answers every hello with a welcome (resumed when it carried a resume token). */
function autoWelcome(): void {
  let n = 0;
  peer.onMessage = (conn, msg) => {
    if (msg.name === 'hello') {
      n++;
      conn.send('welcome', welcomeBody({ resumeToken: `resume-${n}`, resumed: msg.body.resumeToken !== undefined }));
    }
  };
}

describe('GameClient on the wire (scripted peer over a real WebSocket)', () => {
  it('says hello first, then sends inputs that repeat the last four, newest first, with consecutive seqs', async () => {
    peer = await startScriptedPeer();
    autoWelcome();
    const c = client();
    const welcome = await c.connect();
    expect(welcome).toMatchObject({ entityId: 1, roomId: 'lobby', transport: 'websocket', resumed: false });
    const conn = peer.connections[0];
    // Change direction every input so the repeated entries are distinguishable.
    let turn = 0;
    const recorded = new Map<number, [number, number]>();
    c.on('input', (r) => recorded.set(r.seq, [r.dx, r.dy]));
    const stopTurning = c.on('input', () => c.setInput(Math.cos(++turn), Math.sin(turn)));
    await waitFor(() => conn.received.filter((m) => m.name === 'input').length >= 6, 5_000, 'six inputs');
    stopTurning();
    c.setInput(1, 0);
    const before = conn.received.length;
    await waitFor(() => conn.received.slice(before).some((m) => m.name === 'input'), 5_000, 'one more input');
    expect(conn.received[0]).toMatchObject({ name: 'hello', body: { v: PROTOCOL_VERSION, ticket: 'ticket-1' } });
    expect('resumeToken' in conn.received[0].body).toBe(false);
    const inputs = conn.received.flatMap((m) => (m.name === 'input' ? [m.body] : []));
    inputs.forEach((inp, i) => {
      if (i > 0) {
        expect(inp.seq).toBe(inputs[i - 1].seq + 1);
        // Newest first: this message's older entries are the previous message's newest ones.
        expect(inp.inputs.slice(1)).toEqual(inputs[i - 1].inputs.slice(0, inp.inputs.length - 1));
      }
      expect(inp.inputs).toHaveLength(Math.min(inp.seq, 4));
      expect(inp.ack).toBe(0); // no snapshot decoded yet
      // What travelled is exactly what the client recorded for prediction (quantized directions).
      inp.inputs.forEach((pair, k) => expect(pair).toEqual(recorded.get(inp.seq - k)));
    });
    expect(inputs.some((inp) => inp.inputs[0][0] !== 0 && inp.inputs[0][0] !== 1)).toBe(true);
    // Once the direction was set, the newest input carries it, and older ones follow in order.
    const last = inputs.at(-1)!;
    expect(last.inputs[0]).toEqual([1, 0]);
    expect(c.stats().inputsSent).toBeGreaterThanOrEqual(6);
    expect(c.stats().bytesUp.unreliable).toBeGreaterThan(0);
    expect(c.stats().bytesUp.reliable).toBeGreaterThan(0);
  });

  it('decodes snapshots against the baseline it acked, acks the newest, and estimates loss from id gaps', async () => {
    peer = await startScriptedPeer();
    autoWelcome();
    const c = client();
    await c.connect();
    const conn = peer.connections[0];
    const snaps: { id: number; xs: number[]; seq: number }[] = [];
    c.on('snapshot', (s) => snaps.push({ id: s.id, xs: s.entities.map((e) => e.x), seq: s.lastInputSeq }));
    const views = new Map<number, SnapshotView>();
    const send = (id: number, x: number, baselineId: number, deliver = true) => {
      const r = encodeSnapshot({
        snapshotId: id, serverTick: id, serverTime: 0, lastInputSeq: id + 100,
        entities: [{ id: 1, x, y: 5, angle: 0 }, { id: 2, x: 500, y: 500, angle: 1 }],
        baseline: baselineId ? views.get(baselineId) : null,
      }, 1024);
      if (!r.ok) throw new Error(r.detail);
      views.set(id, r.view);
      if (deliver) conn.sendRaw(r.bytes);
    };
    const lastAck = () => {
      const inputs = conn.received.flatMap((m) => (m.name === 'input' ? [m.body.ack] : []));
      return inputs.at(-1);
    };
    send(1, 10, 0); // full
    await waitFor(() => lastAck() === 1, 3_000, 'ack of snapshot 1');
    send(2, 12, 1); // delta against the acked baseline
    send(5, 20, 1); // 3 and 4 "lost"; still decodes against baseline 1
    await waitFor(() => lastAck() === 5, 3_000, 'ack of snapshot 5');
    send(4, 18, 2); // late: decodes as a baseline, not shown, ack stays 5
    send(6, 22, 4);
    await waitFor(() => snaps.length === 4);
    expect(snaps).toEqual([
      { id: 1, xs: [10, 500], seq: 101 },
      { id: 2, xs: [12, 500], seq: 102 },
      { id: 5, xs: [20, 500], seq: 105 },
      { id: 6, xs: [22, 500], seq: 106 },
    ]);
    await waitFor(() => lastAck() === 6, 3_000, 'ack of snapshot 6');
    const s = c.stats();
    expect(s.snapshotsReceived).toBe(4);
    expect(s.datagramsLost).toBe(1); // 3 lost; 4 arrived late
    expect(s.snapshotsDropped).toBe(0);
    expect(s.snapshotGapMs).toHaveLength(3);
    expect(s.bytesDown.unreliable).toBeGreaterThan(0);
    // A delta against a baseline the client never had is dropped and counted, not shown.
    send(8, 28, 6, false); // encoded, never delivered
    send(9, 30, 8);
    await waitFor(() => c.stats().snapshotsDropped === 1);
    expect(snaps).toHaveLength(4);
  });

  it('measures RTT from its pings and answers the server\'s pings with the same id and t', async () => {
    peer = await startScriptedPeer();
    autoWelcome();
    const prev = peer.onMessage!;
    peer.onMessage = (conn, msg) => {
      prev(conn, msg);
      if (msg.name === 'ping') conn.send('pong', msg.body);
    };
    const c = client({ pingIntervalMs: 50 });
    await c.connect();
    peer.connections[0].send('ping', { id: 77, t: 1234.5 });
    await waitFor(() => c.stats().rttSamples.length >= 3, 5_000, 'three RTT samples');
    await waitFor(() => peer.connections[0].received.some((m) => m.name === 'pong'), 5_000, 'pong');
    const pong = peer.connections[0].received.find((m) => m.name === 'pong');
    expect(pong?.body).toEqual({ id: 77, t: 1234.5 });
    const s = c.stats();
    expect(s.rttMs).not.toBeNull();
    expect(s.rttMs!).toBeGreaterThanOrEqual(0);
    expect(s.rttSamples.every((v) => v >= 0)).toBe(true);
  });

  it('delivers chat exactly once in id order and sends chat lines', async () => {
    peer = await startScriptedPeer();
    autoWelcome();
    const c = client();
    await c.connect();
    const got: number[] = [];
    c.on('chat', (m) => got.push(m.id));
    const conn = peer.connections[0];
    for (const id of [1, 2, 2, 1, 3]) conn.send('chat', { id, entityId: 2, name: 'Bob', text: `line ${id}`, t: 5 });
    expect(c.sendChat('hello there')).toBe(true);
    expect(c.sendChat('')).toBe(false);
    expect(c.sendChat('x'.repeat(201))).toBe(false);
    await waitFor(() => got.length >= 3 && conn.received.some((m) => m.name === 'chatSend'));
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual([1, 2, 3]);
    expect(c.lastSeenChatId).toBe(3);
    expect(conn.received.find((m) => m.name === 'chatSend')?.body).toEqual({ text: 'hello there', seq: 1 });
    // The two lines seen already are dropped and counted: a server that repeats itself shows.
    expect(c.stats()).toMatchObject({ chatSent: 1, chatReceived: 3, chatRepeated: 2 });
  });

  it('after the socket is cut, reconnects after a full-jitter delay and resumes with token and last chat id', async () => {
    peer = await startScriptedPeer();
    autoWelcome();
    const c = client({ random: () => 0.5, reconnect: { baseMs: 100, maxMs: 1000, maxAttempts: 5 } });
    await c.connect();
    peer.connections[0].send('chat', { id: 41, entityId: 2, name: 'Bob', text: 'before the cut', t: 5 });
    await waitFor(() => c.lastSeenChatId === 41);
    await waitFor(() => peer.connections[0].received.filter((m) => m.name === 'input').length >= 3);
    const seqBefore = Math.max(...peer.connections[0].received.flatMap((m) => (m.name === 'input' ? [m.body.seq] : [])));
    const retries: ReconnectingEvent[] = [];
    c.on('reconnecting', (e) => retries.push(e));
    const resumed = new Promise((r) => c.on('welcome', r));
    peer.connections[0].socket.terminate();
    await resumed;
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ attempt: 1, delayMs: 50 });
    const hello2 = peer.connections[1].received[0];
    expect(hello2).toMatchObject({ name: 'hello', body: { ticket: 'ticket-1', resumeToken: 'resume-1', lastChatId: 41 } });
    expect(c.welcome?.resumed).toBe(true);
    expect(c.stats().reconnects).toBe(1);
    await waitFor(() => peer.connections[1].received.some((m) => m.name === 'input'));
    const firstSeqAfter = peer.connections[1].received.find((m) => m.name === 'input');
    expect(firstSeqAfter?.name === 'input' && firstSeqAfter.body.seq).toBeGreaterThan(seqBefore);
  });

  it('on a drain notice reconnects after random() x jitter and resumes', async () => {
    peer = await startScriptedPeer();
    autoWelcome();
    const c = client({ random: () => 0.5 });
    await c.connect();
    const drains: number[] = [];
    c.on('drain', (d) => drains.push(d.reconnectInMs));
    const again = new Promise((r) => c.on('welcome', r));
    peer.connections[0].send('drain', { deadlineMs: 5_000, reconnectJitterMs: 200 });
    await again;
    expect(drains).toEqual([100]);
    expect(peer.connections).toHaveLength(2);
    expect(peer.connections[1].received[0]).toMatchObject({ name: 'hello', body: { resumeToken: 'resume-1' } });
  });

  it('stops for good on a terminal error (invalid ticket) and reports the server\'s code', async () => {
    peer = await startScriptedPeer();
    peer.onMessage = (conn, msg) => {
      if (msg.name === 'hello') {
        conn.send('error', { code: 4005, message: 'ticket signature does not verify' });
        conn.socket.close(4005, 'ticket invalid');
      }
    };
    const c = client();
    const closes: CloseEvent[] = [];
    const errors: (number | undefined)[] = [];
    c.on('close', (e) => closes.push(e));
    c.on('error', (e) => errors.push(e.code));
    await expect(c.connect()).rejects.toThrow(/4005/);
    expect(closes).toEqual([{ code: 4005, reason: 'ticket invalid', byPeer: true }]);
    expect(errors).toEqual([4005]);
    await new Promise((r) => setTimeout(r, 100));
    expect(peer.connections).toHaveLength(1);
  });

  // SERVER_BUSY, and TOO_MANY_SESSIONS (the address holds its share of sessions: waiting helps
  // only once one of them ends, so never at the backoff's own pace).
  it.each([4017, 4022])('a refusal with code %i is retried after its retryAfterMs, with the jittered backoff on top', async (code) => {
    peer = await startScriptedPeer();
    let hellos = 0;
    peer.onMessage = (conn, msg) => {
      if (msg.name !== 'hello') return;
      hellos++;
      if (hellos === 1) {
        conn.send('error', { code, message: 'busy', retryAfterMs: 300 });
        conn.socket.close(code, 'busy');
      } else if (hellos === 2) {
        // A busy close that could not carry a retry time (WebTransport, before the stream opened).
        conn.socket.close(code, 'busy');
      } else {
        conn.send('welcome', welcomeBody());
      }
    };
    const delays: ReconnectingEvent[] = [];
    const errors: (number | undefined)[] = [];
    // random() = 0: the backoff adds nothing, so the delay is exactly the server's floor.
    const c = client({ random: () => 0 });
    c.on('reconnecting', (e) => delays.push(e));
    c.on('error', (e) => errors.push(e.retryAfterMs));
    await c.connect();
    expect(delays.map((d) => [d.code, d.delayMs])).toEqual([[code, 300], [code, BUSY_RETRY_FLOOR_MS]]);
    expect(errors).toEqual([300]);
  });

  it('a ticket provider that was told to wait (retryAfterMs on its error) is asked again after that wait', async () => {
    peer = await startScriptedPeer();
    autoWelcome();
    let calls = 0;
    const delays: ReconnectingEvent[] = [];
    const c = client({
      random: () => 0,
      ticket: async () => {
        if (++calls === 1) throw Object.assign(new Error('dev ticket: HTTP 429'), { retryAfterMs: 200 });
        return 'ticket-ok';
      },
    });
    c.on('reconnecting', (e) => delays.push(e));
    await c.connect();
    expect(delays.map((d) => d.delayMs)).toEqual([200]);
  });

  it('reuses its ticket to resume; a reused ticket refused as invalid gets one fresh ticket, a fresh one refused is final', async () => {
    peer = await startScriptedPeer();
    let hellos = 0;
    peer.onMessage = (conn, msg) => {
      if (msg.name !== 'hello') return;
      hellos++;
      if (msg.body.ticket === 'ticket-1' && hellos === 2) {
        conn.send('error', { code: 4005, message: 'secret rotated' });
        conn.socket.close(4005, 'ticket invalid');
      } else if (msg.body.ticket === 'ticket-3') {
        conn.send('error', { code: 4005, message: 'no good' });
        conn.socket.close(4005, 'ticket invalid');
      } else {
        conn.send('welcome', welcomeBody({ resumed: msg.body.resumeToken !== undefined }));
      }
    };
    let minted = 0;
    const c = client({ ticket: () => `ticket-${++minted}`, random: () => 0, reconnect: { baseMs: 1, maxMs: 1, maxAttempts: 5 } });
    await c.connect();
    expect(minted).toBe(1);
    const welcomed = new Promise((r) => c.on('welcome', r));
    peer.connections[0].socket.terminate();
    await welcomed;
    // Attempt 2 reused ticket-1 (refused), attempt 3 used a fresh ticket-2.
    expect(peer.connections.map((p) => p.received[0]?.body)).toMatchObject([{ ticket: 'ticket-1' }, { ticket: 'ticket-1' }, { ticket: 'ticket-2' }]);
    expect(minted).toBe(2);
    // Now make the provider's next ticket bad: a fresh ticket refused ends the client.
    const closed = new Promise<CloseEvent>((r) => c.on('close', r));
    peer.connections[2].send('error', { code: 4006, message: 'expired' });
    peer.connections[2].socket.close(4006, 'ticket expired');
    expect(await closed).toMatchObject({ code: 4005 });
    expect(minted).toBe(3);
  });

  it('drops undecodable and out-of-place server messages, counting them, and keeps playing', async () => {
    peer = await startScriptedPeer();
    autoWelcome();
    const c = client();
    await c.connect();
    const conn = peer.connections[0];
    conn.sendRaw(new Uint8Array([200, 1, 2])); // unknown id
    conn.sendRaw(new Uint8Array([6, 0xc1])); // chat with garbage body
    conn.sendRaw(new Uint8Array([1, 0x80])); // hello is client-to-server
    conn.send('welcome', welcomeBody()); // a second welcome is out of place
    await waitFor(() => c.stats().messagesDropped >= 4);
    expect(c.connected).toBe(true);
    conn.send('chat', { id: 1, entityId: 2, name: 'Bob', text: 'still here', t: 1 });
    await waitFor(() => c.stats().chatReceived === 1);
  });
});

describe('GameClient under hostile server bytes', () => {
  it('random and mutated messages never throw out of the client; it keeps its session and chat', async () => {
    peer = await startScriptedPeer();
    autoWelcome();
    const c = client();
    await c.connect();
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.message));
    const conn = peer.connections[0];
    const valid = [
      encodeMessage('chat', { id: 1000, entityId: 3, name: 'Eve', text: 'seed line', t: 1 }),
      encodeMessage('playerJoined', { entityId: 9, playerId: 'p9', name: 'Zed' }),
      encodeMessage('pong', { id: 1, t: 2 }),
      encodeSnapshot({ snapshotId: 5, serverTick: 1, serverTime: 0, lastInputSeq: 0, entities: [{ id: 1, x: 1, y: 1, angle: 0 }] }, 1024),
    ].map((m) => (m instanceof Uint8Array ? m : m.ok ? m.bytes : new Uint8Array([35])));
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const N = 600;
    for (let i = 0; i < N; i++) {
      let bytes: Uint8Array;
      if (i % 2 === 0) {
        bytes = new Uint8Array(1 + Math.floor(rnd() * 60)).map(() => Math.floor(rnd() * 256));
      } else {
        bytes = valid[i % valid.length].slice();
        const flips = 1 + Math.floor(rnd() * 3);
        for (let k = 0; k < flips; k++) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
      }
      conn.sendRaw(bytes);
    }
    conn.send('chat', { id: 5000, entityId: 2, name: 'Bob', text: 'after the storm', t: 1 });
    const got: string[] = [];
    c.on('chat', (m) => got.push(m.text));
    await waitFor(() => got.includes('after the storm'), 5_000, 'chat after the storm');
    expect(c.connected).toBe(true);
    expect(peer.connections).toHaveLength(1);
    const s = c.stats();
    expect(s.messagesDropped + s.snapshotsDropped).toBeGreaterThan(N / 4);
    expect(errors.filter((e) => e.includes('listener'))).toEqual([]);
  });
});

describe('GameClient transport choice in auto mode', () => {
  class ThrowingWebTransport {
    constructor() {
      throw new TypeError('WebTransport blocked by policy');
    }
  }
  class HangingWebTransport implements WebTransportLike {
    static instances = 0;
    static closedCalls = 0;
    readonly ready = new Promise<void>(() => {});
    readonly closed = new Promise<void>(() => {});
    readonly datagrams = { readable: new ReadableStream<Uint8Array>(), writable: new WritableStream<Uint8Array>() };
    constructor() {
      HangingWebTransport.instances++;
    }
    createBidirectionalStream(): Promise<never> {
      return new Promise(() => {});
    }
    close(): void {
      HangingWebTransport.closedCalls++;
    }
  }

  async function autoClient(WebTransport: WebTransportConstructor | undefined) {
    peer = await startScriptedPeer();
    peer.webTransportUrl = 'https://127.0.0.1:9/wt';
    autoWelcome();
    const c = client({ transport: 'auto', WebTransport });
    const transports: TransportEvent[] = [];
    c.on('transport', (t) => transports.push(t));
    return { c, transports };
  }

  it('falls back to WebSocket when the WebTransport constructor throws', async () => {
    const { c, transports } = await autoClient(ThrowingWebTransport as unknown as WebTransportConstructor);
    const w = await c.connect();
    expect(w.transport).toBe('websocket');
    expect(transports).toEqual([{ transport: 'websocket', fallbackReason: 'WebTransport blocked by policy' }]);
  });

  it('falls back to WebSocket when WebTransport is not ready within 1 s, and closes the attempt', async () => {
    const { c, transports } = await autoClient(HangingWebTransport);
    const t0 = performance.now();
    const w = await c.connect();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(WEBTRANSPORT_READY_TIMEOUT_MS - 5);
    expect(w.transport).toBe('websocket');
    expect(transports[0].fallbackReason).toMatch(/not ready within 1000 ms/);
    expect(HangingWebTransport.instances).toBe(1);
    expect(HangingWebTransport.closedCalls).toBe(1);
    expect(c.stats().transport).toBe('websocket');
  });

  it('uses WebSocket when there is no WebTransport at all', async () => {
    const { c, transports } = await autoClient(undefined);
    await c.connect();
    expect(transports).toEqual([{ transport: 'websocket', fallbackReason: 'WebTransport is not available' }]);
  });

  it('in webtransport-only mode a failing WebTransport is retried, never replaced by WebSocket', async () => {
    peer = await startScriptedPeer();
    peer.webTransportUrl = 'https://127.0.0.1:9/wt';
    const c = client({
      transport: 'webtransport',
      WebTransport: ThrowingWebTransport as unknown as WebTransportConstructor,
      reconnect: { baseMs: 1, maxMs: 1, maxAttempts: 2 },
    });
    await expect(c.connect()).rejects.toThrow(/gave up after 2 attempts: WebTransport blocked/);
    expect(peer.connections).toHaveLength(0);
  });
});
