import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../shared/errors.js';
import { SNAPSHOT_MESSAGE_ID } from '../../../shared/messages.js';
import {
  WebSocketConnection, WS_RELIABLE_BUFFER_LIMIT_BYTES, WS_UNRELIABLE_HIGH_WATER_BYTES,
} from '../../../server/transports/websocket.js';
import { closeWsPairs, wsPair } from './helpers/ws-pair.js';

afterEach(closeWsPairs);

const pair = () => wsPair();

/** A snapshot-like unreliable message: snapshot id byte, u32 sequence, padding to 1000 bytes. */
function numbered(seq: number): Uint8Array {
  const b = new Uint8Array(1000);
  b[0] = SNAPSHOT_MESSAGE_ID;
  new DataView(b.buffer).setUint32(1, seq);
  return b;
}
const seqOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(1);
/** Most messages a congestion loop sends: 50 MB at most; loopback buffers fill long before. */
const MAX_MESSAGES = 50_000;

/**
 * Sends numbered messages (from `first`) into a paused reader until the connection replaced
 * `replaced` of them (bounded by MAX_MESSAGES); returns the last sequence sent.
 */
async function congest(conn: WebSocketConnection, send: (seq: number) => boolean, replaced: number, first = 1): Promise<number> {
  let sent = first - 1;
  while (conn.stats().unreliableReplaced < replaced && sent < MAX_MESSAGES) {
    expect(send(++sent)).toBe(true);
    if (sent % 200 === 0) await new Promise((r) => setImmediate(r)); // let libuv write
  }
  return sent;
}

/** Waits (at most 10 s) until the newest message received is `seq`. */
async function untilReceived(received: Uint8Array[], seq: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((received.length === 0 || seqOf(received.at(-1)!) !== seq) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('WebSocketConnection over a real socket', () => {
  it('routes by message id: unreliable ids to onUnreliable, reliable ones to onReliable', async () => {
    const { conn, ws } = await pair();
    const got: string[] = [];
    conn.onReliable = (b) => got.push(`r${b[0]}`);
    conn.onUnreliable = (b) => got.push(`u${b[0]}`);
    ws.send(new Uint8Array([1, 0x80]));
    ws.send(new Uint8Array([32, 0x80]));
    ws.send(new Uint8Array([50, 0x80])); // unknown id in the unreliable range
    ws.send(new Uint8Array([20, 0x80])); // unknown id in the reliable range
    const deadline = Date.now() + 5000;
    while (got.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(['r1', 'u32', 'u50', 'r20']);
    expect(conn.stats().bytesReceivedReliable).toBe(4);
    expect(conn.stats().bytesReceivedUnreliable).toBe(4);
  });

  it('latest-wins: under congestion an older snapshot is replaced, never queued behind a newer one', async () => {
    const { conn, ws, received } = await pair();
    ws.pause(); // the reader stops: kernel buffers fill, then ws's own buffer grows
    // Inline, not congest(): the buffer is read in the same turn as the last send (ws writes
    // out what it corked on the next tick).
    let sent = 0;
    while (conn.stats().unreliableReplaced < 20 && sent < MAX_MESSAGES) {
      expect(conn.sendUnreliable(numbered(++sent), { replaceKey: 'snapshot' })).toBe(true);
      if (sent % 200 === 0) await new Promise((r) => setImmediate(r)); // let libuv write
    }
    expect(conn.stats().unreliableReplaced).toBeGreaterThanOrEqual(20);
    expect(conn.bufferedAmount).toBeGreaterThanOrEqual(WS_UNRELIABLE_HIGH_WATER_BYTES);
    // ws's buffer stays bounded: it never took the replaced messages.
    expect(conn.bufferedAmount).toBeLessThan(WS_UNRELIABLE_HIGH_WATER_BYTES + 2 * 1024);
    ws.resume();
    await untilReceived(received, sent);
    const seqs = received.map(seqOf);
    expect(seqs.at(-1)).toBe(sent); // the freshest one arrives
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!); // never stale after fresh
    expect(seqs.length).toBe(sent - conn.stats().unreliableReplaced - conn.stats().unreliableDropped);
  });

  it('onCommitted fires for every message that reaches the socket, in order, and never for a replaced one', async () => {
    const { conn, ws, received } = await pair();
    const committed: number[] = [];
    const send = (seq: number) => conn.sendUnreliable(numbered(seq), { replaceKey: 'snapshot', onCommitted: () => committed.push(seq) });
    expect(send(1)).toBe(true);
    expect(committed).toEqual([1]); // an uncongested socket takes it at once
    ws.pause();
    const sent = await congest(conn, send, 5, 2);
    expect(conn.stats().unreliableReplaced).toBeGreaterThanOrEqual(5);
    ws.resume();
    await untilReceived(received, sent);
    // Exactly the messages that went out were committed, each once, in sending order.
    expect(committed).toEqual(received.map(seqOf));
    expect(committed.at(-1)).toBe(sent);
  });

  it('one options object and one callback serve every message: onCommitted gets each message\'s commit tag', async () => {
    const { conn, ws, received } = await pair();
    const committed: number[] = [];
    const options = { replaceKey: 'snapshot', onCommitted: (tag: number) => committed.push(tag), commitTag: 0 };
    const send = (seq: number) => {
      options.commitTag = seq;
      return conn.sendUnreliable(numbered(seq), options);
    };
    ws.pause();
    const sent = await congest(conn, send, 5);
    // Held messages go out once the reader is back, with no further send to push them.
    ws.resume();
    await untilReceived(received, sent);
    expect(committed).toEqual(received.map(seqOf));
    expect(committed.at(-1)).toBe(sent);
  });

  it('frames every length a message can have: 7-bit, 16-bit and 64-bit payload lengths (RFC 6455 §5.2)', async () => {
    const { conn, received } = await pair();
    const lengths = [1, 125, 126, 127, 1000, 65_535, 65_536, 200_000];
    const messages = lengths.map((n, k) => {
      const m = new Uint8Array(n).map((_, i) => (i * 7 + k) & 0xff);
      m[0] = 1; // a reliable id
      return m;
    });
    for (const m of messages) expect(conn.sendReliable(m)).toBe(true);
    const deadline = Date.now() + 10_000;
    while (received.length < messages.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(received.map((r) => r.length)).toEqual(lengths);
    received.forEach((r, k) => expect(Buffer.from(r).equals(Buffer.from(messages[k]))).toBe(true));
    expect(conn.stats().messagesSentReliable).toBe(lengths.length);
  });

  it('a reader that stops on the reliable channel is closed with SLOW_CONSUMER', async () => {
    const { conn, ws } = await pair();
    let closeCode = 0;
    ws.on('close', (code) => { closeCode = code; });
    let serverClose: number | null = null;
    conn.onClose = (info) => { serverClose = info.code; };
    ws.pause();
    const chunk = new Uint8Array(64 * 1024).fill(1);
    let ok = true;
    let n = 0;
    const MAX_CHUNKS = 2_000; // 128 MB bound
    while (ok && n < MAX_CHUNKS) {
      ok = conn.sendReliable(chunk);
      n++;
      if (n % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(ok).toBe(false);
    expect(serverClose).toBe(ErrorCode.SLOW_CONSUMER);
    expect(conn.closed).toBe(true);
    expect(conn.bufferedAmount).toBeLessThanOrEqual(WS_RELIABLE_BUFFER_LIMIT_BYTES + chunk.length + 1024);
    ws.resume();
    const deadline = Date.now() + 10_000;
    while (closeCode === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(closeCode).toBe(ErrorCode.SLOW_CONSUMER);
  });

  it('what one turn writes to a socket leaves after the turn in one write, in order with ws\'s own frames and the close', async () => {
    const { conn, ws, server } = await pair();
    // The TCP socket under the server's ws socket (ws's own field; production code writes to it too).
    const tcp = (server as unknown as { _socket: import('node:net').Socket })._socket;
    const seen: string[] = [];
    ws.on('message', (d: Buffer) => seen.push(`m${d[1]}`));
    ws.on('ping', () => seen.push('ping'));
    let closed = 0;
    ws.on('close', (code) => { closed = code; });
    expect(conn.sendReliable(new Uint8Array([1, 1]))).toBe(true);
    server.ping(); // ws writes its own frame between ours
    expect(conn.sendUnreliable(new Uint8Array([SNAPSHOT_MESSAGE_ID, 2]))).toBe(true);
    expect(conn.sendReliable(new Uint8Array([1, 3]))).toBe(true);
    // Corked for the rest of this turn: nothing reached the kernel yet, and ws counts what waits.
    expect(tcp.writableCorked).toBe(1);
    expect(tcp.writableLength).toBe(4 + 2 + 4 + 4); // three 2-byte messages and a ping, framed
    expect(conn.bufferedAmount).toBe(tcp.writableLength);
    await new Promise((r) => setImmediate(r)); // the turn is over (its nextTick queue ran)
    expect(tcp.writableCorked).toBe(0);
    expect(tcp.writableLength).toBe(0); // handed to the kernel (one write, loopback has room)
    // A send followed by a close in one turn: the message still precedes the close frame.
    expect(conn.sendReliable(new Uint8Array([1, 4]))).toBe(true);
    conn.close(ErrorCode.NORMAL, 'bye');
    const deadline = Date.now() + 5_000;
    while (closed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual(['m1', 'ping', 'm2', 'm3', 'm4']);
    expect(closed).toBe(ErrorCode.NORMAL);
    expect(conn.stats().messagesSentReliable).toBe(3);
    expect(conn.stats().messagesSentUnreliable).toBe(1);
  });

  it('refuses unreliable messages over maxUnreliableSize and everything after close', async () => {
    const { conn } = await pair();
    expect(conn.sendUnreliable(new Uint8Array(conn.maxUnreliableSize + 1))).toBe(false);
    expect(conn.stats().unreliableDropped).toBe(1);
    conn.close(ErrorCode.NORMAL, 'done');
    conn.close(ErrorCode.NORMAL, 'twice is fine');
    expect(conn.sendReliable(new Uint8Array([1]))).toBe(false);
    expect(conn.sendUnreliable(new Uint8Array([32]))).toBe(false);
  });
});
