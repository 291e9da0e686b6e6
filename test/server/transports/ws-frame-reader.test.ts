import { afterEach, describe, expect, it } from 'vitest';
import { readWholeFrames } from '../../../server/transports/ws-frame-reader.js';
import { closeWsPairs, wsPair } from './helpers/ws-pair.js';

/** A client frame (RFC 6455 §5.2): first byte as given, masked with `mask`, 7-, 16- or 64-bit length. */
function clientFrame(first: number, payload: Uint8Array, mask = [0x37, 0xfa, 0x21, 0x3d]): Buffer {
  const n = payload.length;
  const header = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const out = Buffer.alloc(header + 4 + n);
  out[0] = first;
  if (header === 2) out[1] = 0x80 | n;
  else if (header === 4) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  for (let i = 0; i < 4; i++) out[header + i] = mask[i];
  for (let i = 0; i < n; i++) out[header + 4 + i] = payload[i] ^ mask[i & 3];
  return out;
}
const binary = (payload: Uint8Array, mask?: number[]) => clientFrame(0x82, payload, mask);
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
const open = { readyState: 1 };

describe('readWholeFrames', () => {
  it('unmasks and delivers every whole binary frame of a chunk, 7- and 16-bit lengths, any length mod 4', () => {
    const payloads = [0, 1, 2, 3, 4, 5, 125, 126, 127, 1000, 65_535].map((n) => bytes(n, n));
    const chunk = Buffer.concat(payloads.map((p, i) => binary(p, [i, 0xff - i, 0x55, 0xaa])));
    const got: Uint8Array[] = [];
    expect(readWholeFrames(chunk, 0, (p) => got.push(Uint8Array.from(p)), open)).toBe(chunk.length);
    expect(got).toEqual(payloads);
  });

  it('stops at the first frame it does not take and says where it starts', () => {
    const a = binary(bytes(10, 1));
    const cases: [string, Buffer][] = [
      ['ping (control frame)', clientFrame(0x89, bytes(3, 2))],
      ['close', clientFrame(0x88, Uint8Array.of(0x03, 0xe8))],
      ['first fragment (no FIN)', clientFrame(0x02, bytes(4, 3))],
      ['text frame', clientFrame(0x81, Buffer.from('hi'))],
      ['RSV1 set', clientFrame(0xc2, bytes(4, 4))],
      ['unmasked', Buffer.from([0x82, 0x02, 1, 2])],
      ['64-bit length', Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 9])],
      ['cut by the chunk end', binary(bytes(300, 5)).subarray(0, 200)],
      ['cut inside the 16-bit length', binary(bytes(300, 5)).subarray(0, 3)],
    ];
    for (const [what, next] of cases) {
      const got: number[] = [];
      const chunk = Buffer.concat([a, next, binary(bytes(5, 6))]);
      expect(readWholeFrames(chunk, 0, (p) => got.push(p.length), open), what).toBe(a.length);
      expect(got, what).toEqual([10]);
    }
    expect(readWholeFrames(Buffer.concat([a, Buffer.from([0x82])]), 0, () => {}, open), 'one byte left').toBe(a.length);
  });

  it('leaves a frame over maxPayload to ws (its 1009), and stops once a message closed the socket', () => {
    const big = binary(bytes(200, 1));
    expect(readWholeFrames(big, 100, () => {}, open)).toBe(0);
    expect(readWholeFrames(big, 200, () => {}, open)).toBe(big.length);
    const socket = { readyState: 1 };
    const chunk = Buffer.concat([binary(bytes(4, 1)), binary(bytes(4, 2))]);
    const got: number[] = [];
    const stop = readWholeFrames(chunk, 0, (p) => { got.push(p[0]); socket.readyState = 2; }, socket);
    expect(stop).toBe(chunk.length / 2);
    expect(got).toEqual([1]);
  });
});

afterEach(closeWsPairs);

const pair = () => wsPair({ maxPayload: 64 * 1024 });

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

/** An unreliable message (id 32, the input id range) carrying `n` in its second byte. */
const msg = (n: number, size = 8) => { const b = bytes(size, n); b[0] = 32; b[1] = n; return b; };

describe('WebSocketConnection reads frames off the socket (real ws client, raw frames)', () => {
  it('whole frames, ws-only frames and frames cut across writes arrive in order; pings are answered', async () => {
    const { conn, ws, tcp } = await pair();
    const got: number[] = [];
    conn.onUnreliable = (b) => got.push(b[1]);
    let pongs = 0;
    ws.on('pong', () => pongs++);
    // 1, 2 whole; a ping; 3 in two fragments (ws reassembles); 4 whole; 5 cut across two writes.
    const five = binary(msg(5, 3000));
    tcp.write(Buffer.concat([
      binary(msg(1)), binary(msg(2)), clientFrame(0x89, bytes(2, 9)),
      clientFrame(0x02, msg(3).subarray(0, 4)), clientFrame(0x80, msg(3).subarray(4)),
      binary(msg(4)), five.subarray(0, 1500),
    ]));
    await until(() => got.length >= 4 && pongs === 1);
    tcp.write(Buffer.concat([five.subarray(1500), binary(msg(6)), binary(msg(7, 300))]));
    await until(() => got.length >= 7);
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(pongs).toBe(1);
    expect(conn.stats().bytesReceivedUnreliable).toBe(8 * 5 + 3000 + 300);
  });

  it('a close frame in the middle of a chunk ends the session there; nothing after it is delivered', async () => {
    const { conn, tcp } = await pair();
    const got: number[] = [];
    conn.onUnreliable = (b) => got.push(b[1]);
    let closed: number | null = null;
    conn.onClose = (info) => { closed = info.code; };
    tcp.write(Buffer.concat([binary(msg(1)), clientFrame(0x88, Uint8Array.of(0x03, 0xe8)), binary(msg(2))]));
    await until(() => closed !== null);
    expect(closed).toBe(1000);
    expect(got).toEqual([1]);
  });

  it('a frame over maxPayload still gets ws\'s 1009 and no message', async () => {
    const { conn, ws, tcp } = await pair();
    const got: number[] = [];
    conn.onUnreliable = (b) => got.push(b[1]);
    let closeCode = 0;
    ws.on('close', (code) => { closeCode = code; });
    tcp.write(Buffer.concat([binary(msg(1)), binary(msg(2, 65_000)), clientFrame(0x82, msg(3, 64 * 1024 + 1))]));
    await until(() => closeCode !== 0);
    expect(got).toEqual([1, 2]);
    expect(closeCode).toBe(1009);
  });
});
