/**
 * GameClient's chat outbox (client/net/chat-outbox.ts) against the real game server over real
 * sockets (WebSocket, and WebTransport on real QUIC), loopback port 0: a line written into a
 * connection that dies before the server saw it is shown once after the resume; a line the
 * server took whose chatAccepted died with the connection is settled by the resumed welcome and
 * not sent again; a backlog written while away goes out at the server's pace without a flood
 * close.
 *
 * The connection is cut from the test side, deterministically, inside the transport the client
 * was given (helpers/cuttable-transports.ts): the chatSend is swallowed (never reaches the
 * server) and the connection is dropped right there, as when a line is written into a
 * connection that is already dead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { GameClient } from '../../../client/net/game-client.js';
import type { ChatAcceptedEvent, ChatEvent, ChatUnsentEvent } from '../../../client/net/game-client-types.js';
import type { WebTransportConstructor } from '../../../client/net/transport-types.js';
import { CHAT_FLOOD_STRIKES } from '../../../server/chat/chat-room.js';
import { ErrorCode } from '../../../shared/errors.js';
import { cut, CuttableWebSocket, CuttableWebTransport } from './helpers/cuttable-transports.js';
import { closeTestServers, devGameClient, startTestServer, welcomed, type DevClientOptions, type TestServer } from './helpers/game-server.js';
import { waitFor } from './helpers/scripted-peer.js';

afterEach(closeTestServers);

function player(server: TestServer, name: string, over: DevClientOptions = {}): GameClient {
  return devGameClient(server, name, { random: () => 0.5, reconnect: { baseMs: 100, maxMs: 500, maxAttempts: 20 }, ...over });
}

function record(c: GameClient) {
  const chat: ChatEvent[] = [];
  const accepted: ChatAcceptedEvent[] = [];
  const unsent: ChatUnsentEvent[] = [];
  const welcomes: { resumed: boolean; lastChatSeq?: number }[] = [];
  c.on('chat', (m) => chat.push(m));
  c.on('chatAccepted', (m) => accepted.push(m));
  c.on('chatUnsent', (m) => unsent.push(m));
  c.on('welcome', (w) => welcomes.push({ resumed: w.resumed, lastChatSeq: w.lastChatSeq }));
  return { chat, accepted, unsent, welcomes };
}

/** A server and two connected players: Ada on the cuttable transports, Bob plain; both recorded. */
async function adaAndBob(transport: 'websocket' | 'webtransport' = 'websocket') {
  const server = await startTestServer();
  const a = player(server, 'Ada', { transport, WebSocket: CuttableWebSocket, WebTransport: CuttableWebTransport as unknown as WebTransportConstructor });
  const b = player(server, 'Bob');
  const wa = await welcomed(a);
  await welcomed(b);
  return { a, b, wa, seenA: record(a), seenB: record(b) };
}

describe('GameClient chat outbox across a dropped connection', () => {
  for (const transport of ['websocket', 'webtransport'] as const) {
    it(`over ${transport}: a line written into a connection that dies before the server saw it is shown once after the resume`, async () => {
      const { a, wa, seenA, seenB } = await adaAndBob(transport);
      expect(wa.transport).toBe(transport);
      cut.chatSend = true;
      expect(a.sendChat('into the void')).toBe(true);
      expect(cut.chatSend).toBe(false); // swallowed: the server never saw it
      await waitFor(() => seenA.welcomes.length === 1, 10_000, 'A resumed');
      expect(seenA.welcomes[0]).toEqual({ resumed: true, lastChatSeq: 0 });
      await waitFor(() => seenB.chat.some((m) => m.text === 'into the void'), 5_000, 'the line reaches B');
      await waitFor(() => seenA.accepted.length === 1, 5_000, 'A hears it accepted');
      a.sendChat('after');
      await waitFor(() => seenB.chat.some((m) => m.text === 'after'), 5_000, 'the next line reaches B');
      await waitFor(() => seenA.accepted.length === 2, 5_000, 'A hears the next line accepted');
      expect(seenB.chat.map((m) => m.text)).toEqual(['into the void', 'after']);
      expect(seenA.accepted).toEqual([{ seq: 1, text: 'into the void' }, { seq: 2, text: 'after' }]);
      expect(seenA.unsent).toEqual([]);
      expect(a.stats()).toMatchObject({ chatSent: 2, chatAccepted: 2, chatResent: 1, chatUnsent: 0, chatPending: 0, reconnects: 1 });
      await waitFor(() => seenA.chat.filter((m) => m.name === 'Ada').length === 2, 5_000, 'A sees its own lines');
      expect(seenA.chat.map((m) => m.text)).toEqual(['into the void', 'after']);
      expect(a.stats().chatRepeated).toBe(0);
    });
  }

  it('a line the server took whose chatAccepted died with the connection is settled by the resumed welcome, not sent again', async () => {
    const { a, seenA, seenB } = await adaAndBob();
    cut.chatAccepted = true;
    a.sendChat('taken');
    await waitFor(() => seenA.welcomes.length === 1, 10_000, 'A resumed');
    expect(seenA.welcomes[0]).toEqual({ resumed: true, lastChatSeq: 1 });
    expect(seenA.accepted).toEqual([{ seq: 1, text: 'taken' }]);
    expect(a.stats()).toMatchObject({ chatResent: 0, chatPending: 0, chatAccepted: 1 });
    a.sendChat('next');
    await waitFor(() => seenB.chat.some((m) => m.text === 'next'), 5_000, 'the next line');
    await waitFor(() => seenA.accepted.length === 2, 5_000, 'A hears the next line accepted');
    expect(seenB.chat.map((m) => m.text)).toEqual(['taken', 'next']);
    expect(seenA.accepted.at(-1)).toEqual({ seq: 2, text: 'next' });
  });

  it('a backlog written while away (more lines than the flood strikes) goes out at the server\'s pace after the resume: all shown once, in order, no CHAT_FLOOD', async () => {
    const { a, seenA, seenB } = await adaAndBob();
    const closes: number[] = [];
    a.on('close', (c) => closes.push(c.code));
    cut.chatSend = true;
    const lines = Array.from({ length: CHAT_FLOOD_STRIKES + 2 }, (_, i) => `backlog ${i + 1}`);
    for (const line of lines) expect(a.sendChat(line)).toBe(true);
    expect(a.stats().chatPending).toBe(lines.length);
    await waitFor(() => seenB.chat.filter((m) => m.name === 'Ada').length === lines.length, 60_000, 'the whole backlog reaches B');
    await waitFor(() => seenA.accepted.length === lines.length, 5_000, 'A hears the whole backlog accepted');
    expect(seenB.chat.map((m) => m.text)).toEqual(lines);
    expect(seenA.accepted.map((m) => m.text)).toEqual(lines);
    expect(seenA.accepted.map((m) => m.seq)).toEqual(lines.map((_, i) => i + 1));
    expect(seenA.unsent).toEqual([]);
    expect(closes).toEqual([]);
    expect(a.state).toBe('connected');
    expect(a.stats().reconnects).toBe(1);
    expect(closes).not.toContain(ErrorCode.CHAT_FLOOD);
  }, 90_000);
});

describe('GameClient chat outbox limits', () => {
  it('refuses a line past CHAT_OUTBOX_LIMIT while reconnecting and reports what close() gives up', async () => {
    const { CHAT_OUTBOX_LIMIT } = await import('../../../client/net/chat-outbox.js');
    const a = player(await startTestServer(), 'Ada', { WebSocket: CuttableWebSocket, reconnect: { baseMs: 60_000, maxMs: 60_000, maxAttempts: 2 } });
    await welcomed(a);
    const seenA = record(a);
    cut.chatSend = true;
    for (let i = 0; i < CHAT_OUTBOX_LIMIT; i++) expect(a.sendChat(`l${i}`)).toBe(true);
    await waitFor(() => a.state === 'reconnecting', 5_000, 'A notices the cut');
    expect(a.sendChat('one too many')).toBe(false);
    expect(a.stats()).toMatchObject({ chatPending: CHAT_OUTBOX_LIMIT, chatOutboxFull: 1, chatSent: CHAT_OUTBOX_LIMIT });
    a.close();
    expect(seenA.unsent.map((u) => u.text)).toEqual(Array.from({ length: CHAT_OUTBOX_LIMIT }, (_, i) => `l${i}`));
    expect(seenA.unsent.every((u) => u.reason === 'closed')).toBe(true);
    expect(a.sendChat('after close')).toBe(false);
  });
});
