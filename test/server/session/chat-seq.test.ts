/**
 * The server side of the client chat outbox (docs/protocol.md, "Chat lines the client wrote"),
 * over a real WebSocket and real WebTransport (QUIC on loopback) against createGameServer: a
 * repeated `chatSend.seq` is not shown twice and costs nothing, accepted and refused lines name
 * their seq, and a resumed welcome carries the highest seq accepted.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMessage } from '../../../shared/codec.js';
import { encodeFrame } from '../../../shared/framing.js';
import { CHAT_BURST, CHAT_FLOOD_STRIKES } from '../../../server/chat/chat-room.js';
import { closeRawServers, startRawServer } from '../helpers/raw-server.js';

const secret = randomBytes(32);
afterEach(closeRawServers);

async function start(webTransport = false) {
  const s = await startRawServer({ ticketSecret: secret, metrics: { public: true }, wt: webTransport });
  const metric = async (reason: string) => {
    const text = await s.metrics();
    const line = text.split('\n').find((l) => l.startsWith(`tickwire_messages_dropped_total{reason="${reason}"}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  return { ...s, metric };
}

describe('chatSend seq on the server', () => {
  it('drops a repeated seq: shown once, answered with chatAccepted, no token and no flood strike spent, counted', async () => {
    const { connect, ticket, metric } = await start();
    const a = await connect();
    await a.welcome(ticket('alice'));
    const b = await connect();
    await b.welcome(ticket('bob'));
    a.send('chatSend', { text: 'once', seq: 1 });
    await a.until(() => a.of('chatAccepted').length === 1);
    expect(a.of('chatAccepted')).toEqual([{ seq: 1 }]);
    // More repeats than the burst and than the flood strikes: none is shown, none is refused.
    const repeats = CHAT_FLOOD_STRIKES + CHAT_BURST;
    for (let i = 0; i < repeats; i++) a.send('chatSend', { text: 'once', seq: 1 });
    await a.until(() => a.of('chatAccepted').length === 1 + repeats);
    expect(a.of('chatAccepted').every((m) => m.seq === 1)).toBe(true);
    // The rest of the burst is still there: the repeats took no token.
    for (let seq = 2; seq <= CHAT_BURST; seq++) a.send('chatSend', { text: `line ${seq}`, seq });
    await b.until(() => b.of('chat').length === CHAT_BURST);
    expect(b.of('chat').map((c) => c.text)).toEqual(['once', ...Array.from({ length: CHAT_BURST - 1 }, (_, i) => `line ${i + 2}`)]);
    expect(a.of('chatRejected')).toEqual([]);
    expect(a.closeCode).toBeNull();
    expect(await metric('chat_repeat')).toBe(repeats);
  });

  it('a refused line names its seq and may come again with it; a lower seq than one accepted is a repeat', async () => {
    const { connect, ticket } = await start();
    const a = await connect();
    await a.welcome(ticket('alice'));
    a.send('chatSend', { text: '\u0007', seq: 1 }); // nothing visible: refused as empty
    for (let seq = 2; seq <= CHAT_BURST + 2; seq++) a.send('chatSend', { text: `l${seq}`, seq });
    await a.until(() => a.of('chatRejected').length === 2);
    expect(a.of('chatRejected')).toEqual([
      { reason: 'empty', retryAfterMs: 0, seq: 1 },
      { reason: 'rate_limited', retryAfterMs: expect.any(Number), seq: CHAT_BURST + 2 },
    ]);
    const retry = a.of('chatRejected')[1].retryAfterMs;
    await new Promise((r) => setTimeout(r, retry + 50));
    a.send('chatSend', { text: `l${CHAT_BURST + 2}`, seq: CHAT_BURST + 2 });
    await a.until(() => a.of('chatAccepted').some((m) => m.seq === CHAT_BURST + 2));
    a.send('chatSend', { text: 'late', seq: 3 });
    await a.until(() => a.of('chatAccepted').length === CHAT_BURST + 2);
    expect(a.of('chatAccepted').at(-1)).toEqual({ seq: CHAT_BURST + 2 });
    expect(a.of('chat').map((c) => c.text)).not.toContain('late');
  });

  it('a resumed welcome carries the highest seq accepted; a fresh one carries none; a repeat after the resume is not shown', async () => {
    const { connect, ticket } = await start();
    const a = await connect();
    const w1 = await a.welcome(ticket('alice'));
    expect(w1.lastChatSeq).toBeUndefined();
    const b = await connect();
    await b.welcome(ticket('bob'));
    a.send('chatSend', { text: 'one', seq: 1 });
    a.send('chatSend', { text: 'two', seq: 2 });
    await b.until(() => b.of('chat').length === 2);
    a.terminate();
    await new Promise((r) => setTimeout(r, 100));
    const a2 = await connect();
    const w2 = await a2.welcome(ticket('alice'), { resumeToken: w1.resumeToken, lastChatId: 2 });
    expect(w2).toMatchObject({ resumed: true, lastChatSeq: 2 });
    a2.send('chatSend', { text: 'two', seq: 2 });
    a2.send('chatSend', { text: 'three', seq: 3 });
    await b.until(() => b.of('chat').length === 3);
    await a2.until(() => a2.of('chatAccepted').length === 2);
    expect(b.of('chat').map((c) => c.text)).toEqual(['one', 'two', 'three']);
  });

  it('over WebTransport: a repeated seq in the reliable stream is shown once', async () => {
    const { connect, wt, ticket } = await start(true);
    const b = await connect();
    await b.welcome(ticket('bob'));
    const a = await wt();
    await a.hello(ticket('alice'));
    for (const deadline = Date.now() + 5_000; a.of('welcome').length === 0 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    expect(a.of('welcome')).toHaveLength(1);
    const send = (text: string, seq: number) => a.writer.write(encodeFrame(encodeMessage('chatSend', { text, seq })));
    for (let i = 0; i < 3; i++) await send('quic once', 1);
    await send('quic two', 2);
    await b.until(() => b.of('chat').length === 2);
    for (const deadline = Date.now() + 3_000; a.of('chatAccepted').length < 4 && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    expect(a.of('chatAccepted')).toEqual([{ seq: 1 }, { seq: 1 }, { seq: 1 }, { seq: 2 }]);
    expect(b.of('chat').map((c) => c.text)).toEqual(['quic once', 'quic two']);
  });
});
