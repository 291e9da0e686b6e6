/**
 * tickwire_messages_total / tickwire_bytes_total {direction="out"} count every message a session
 * sends, whatever its kind (welcome, snapshot, chat, pong, heartbeat ping, ...), by the one rule
 * in SessionManager.sendCounted: over a real WebSocket and a real WebTransport session, what
 * the server counted equals what the client received, per channel, message for message and byte
 * for byte (the WebTransport stream's messages by number).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mintTicket, type GameServer } from '../../../server/index.js';
import { encodeMessage } from '../../../shared/codec.js';
import { encodeFrame } from '../../../shared/framing.js';
import { messageSpecById } from '../../../shared/messages.js';
import { closeRawServers, startRawServer } from '../helpers/raw-server.js';

const secret = 'sent-count-secret-0123456789abcdef';
afterEach(closeRawServers);

type Tally = Record<'reliable' | 'unreliable', { messages: number; bytes: number }>;
const zero = (): Tally => ({ reliable: { messages: 0, bytes: 0 }, unreliable: { messages: 0, bytes: 0 } });

function add(t: Tally, bytes: Uint8Array): void {
  const spec = messageSpecById(bytes[0]);
  if (!spec) throw new Error(`unknown message id ${bytes[0]}`);
  t[spec.channel].messages++;
  t[spec.channel].bytes += bytes.length;
}

/** What the server counted as sent, per channel. */
async function counted(s: GameServer): Promise<Tally> {
  const text = await s.metrics.text();
  const read = (name: string, channel: string) => {
    const m = new RegExp(`^${name}\\{channel="${channel}",direction="out"\\} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  const t = zero();
  for (const ch of ['reliable', 'unreliable'] as const) t[ch] = { messages: read('tickwire_messages_total', ch), bytes: read('tickwire_bytes_total', ch) };
  return t;
}

/** Waits (bounded) until the server's count and the client's tally agree, then asserts they do. */
async function expectSame(s: GameServer, received: Tally): Promise<void> {
  const until = Date.now() + 10_000;
  let got = await counted(s);
  while (JSON.stringify(got) !== JSON.stringify(received) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    got = await counted(s);
  }
  expect(got).toEqual(received);
}

describe('sent messages are counted once, by one rule, on both transports', () => {
  it('WebSocket: welcome, snapshots, chat and pong counted exactly as the client received them', async () => {
    const { server, connect } = await startRawServer({ ticketSecret: secret, metrics: { public: true } });
    const tally = zero();
    const c = await connect();
    c.ws.on('message', (data: Buffer) => add(tally, new Uint8Array(data)));
    await c.welcome(mintTicket(secret, { playerId: 'wsp', name: 'wsp', room: 'arena' }));
    c.send('chatSend', { text: 'hello there' });
    c.send('ping', { id: 7, t: 1 });
    await c.until(() => c.of('chat').length === 1 && c.of('pong').length === 1 && c.snapshots >= 5, 10_000, 'chat, pong and snapshots');
    c.send('leave', {});
    await c.closed(10_000);
    expect(tally.unreliable.messages).toBeGreaterThanOrEqual(5);
    await expectSame(server, tally);
  });

  it('WebTransport: the reliable stream and the datagrams counted exactly as the client received them', async () => {
    const { server, wt } = await startRawServer({ ticketSecret: secret, metrics: { public: true }, wt: true });
    const c = await wt();
    const tally = zero();
    const datagrams = c.wt.datagrams.readable.getReader();
    void (async () => {
      for (;;) {
        const r = await datagrams.read().catch(() => ({ done: true as const, value: undefined }));
        if (r.done) return;
        add(tally, r.value);
      }
    })();
    await c.hello(mintTicket(secret, { playerId: 'wtp', name: 'wtp', room: 'arena' }));
    const waitFor = async (what: string, pred: () => boolean) => {
      const until = Date.now() + 10_000;
      while (!pred()) {
        if (Date.now() > until) throw new Error(`no ${what}; got ${c.received.map((m) => m.name).join(',')}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await waitFor('welcome', () => c.of('welcome').length === 1);
    await c.writer.write(encodeFrame(encodeMessage('chatSend', { text: 'hello there' })));
    await waitFor('chat and snapshots', () => c.of('chat').length === 1 && tally.unreliable.messages >= 5);
    await c.writer.write(encodeFrame(encodeMessage('leave', {})));
    await waitFor('the close', () => c.closeCode !== null);
    // The reliable stream's messages, from the client's record (frames already decoded: their
    // bytes are compared on the WebSocket, here their number).
    tally.reliable.messages = c.received.length;
    const until = Date.now() + 10_000;
    let got = await counted(server);
    while ((got.reliable.messages !== tally.reliable.messages || JSON.stringify(got.unreliable) !== JSON.stringify(tally.unreliable)) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      got = await counted(server);
    }
    expect(got.reliable.messages).toBe(tally.reliable.messages);
    expect(got.unreliable).toEqual(tally.unreliable);
  });
});
