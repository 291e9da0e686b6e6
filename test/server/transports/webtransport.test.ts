import { afterEach, describe, expect, it } from 'vitest';
import { createDevCertificate } from '../../../certs/dev-cert.js';
import { NodeWebTransport, WebTransportServer } from '../../../server/h3/index.js';
import type { ProtocolError } from '../../../server/transports/connection.js';
import { WT_MAX_CLIENT_FRAME_BYTES, WebTransportConnection } from '../../../server/transports/webtransport.js';
import { ErrorCode } from '../../../shared/errors.js';
import { encodeFrame, FrameDecoder, writeVarint } from '../../../shared/framing.js';
import { MAX_RELIABLE_MESSAGE_BYTES } from '../../../shared/limits.js';

let server: WebTransportServer | null = null;
const clients: NodeWebTransport[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) { try { c.close(); } catch { /* already closed */ } }
  await server?.close();
  server = null;
});

async function setup(incompleteFrameTimeoutMs?: number) {
  const cert = createDevCertificate();
  server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'] });
  const conns: WebTransportConnection[] = [];
  server.onSession = (s) => conns.push(new WebTransportConnection(s, undefined, undefined, incompleteFrameTimeoutMs));
  const { port } = await server.listen();
  const wt = new NodeWebTransport(`https://127.0.0.1:${port}/wt`, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.sha256 }] });
  clients.push(wt);
  await wt.ready;
  const deadline = Date.now() + 5000;
  while (conns.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return { conn: conns[0]!, wt };
}

async function until(pred: () => boolean, what: string) {
  const deadline = Date.now() + 5000;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('WebTransportConnection (quiche server, Node client)', () => {
  it('reliable = first client bidi stream with varint framing; unreliable = datagrams; extra streams refused', async () => {
    const { conn, wt } = await setup();
    const reliable: number[][] = [];
    const unreliable: number[][] = [];
    conn.onReliable = (b) => reliable.push([...b]);
    conn.onUnreliable = (b) => unreliable.push([...b]);
    const bidi = await wt.createBidirectionalStream();
    const writer = bidi.writable.getWriter();
    // Two frames split across writes at awkward places.
    const f1 = encodeFrame(new Uint8Array([1, 2, 3]));
    const f2 = encodeFrame(new Uint8Array(300).fill(7));
    const all = new Uint8Array([...f1, ...f2]);
    await writer.write(all.subarray(0, 2));
    await writer.write(all.subarray(2, 100));
    await writer.write(all.subarray(100));
    await until(() => reliable.length === 2, 'two frames');
    expect(reliable[0]).toEqual([1, 2, 3]);
    expect(reliable[1]!.length).toBe(300);

    // Server -> client reliable, framed.
    expect(conn.sendReliable(new Uint8Array([6, 9, 9]))).toBe(true);
    const reader = bidi.readable.getReader();
    const dec = new FrameDecoder();
    const frames: Uint8Array[] = [];
    while (frames.length === 0) {
      const { value, done } = await reader.read();
      if (done) break;
      const r = dec.push(value);
      frames.push(...r.frames);
    }
    expect([...frames[0]!]).toEqual([6, 9, 9]);

    // Datagrams both ways.
    const dw = wt.datagrams.writable.getWriter();
    await dw.write(new Uint8Array([32, 1]));
    await until(() => unreliable.length === 1, 'datagram in');
    expect(conn.sendUnreliable(new Uint8Array([35, 1, 2]), { replaceKey: 'snapshot' })).toBe(true);
    const dr = wt.datagrams.readable.getReader();
    expect([...(await dr.read()).value!]).toEqual([35, 1, 2]);
    expect(conn.stats().messagesSentUnreliable).toBe(1);
    expect(conn.maxUnreliableSize).toBeGreaterThan(1000);

    // A second bidi stream is not the game's: refused, the session goes on.
    const extra = await wt.createBidirectionalStream();
    const er = extra.readable.getReader();
    await expect(er.read()).rejects.toBeDefined();
    expect(conn.closed).toBe(false);
  });

  it('an oversized frame closes the session with MESSAGE_TOO_LARGE', async () => {
    const { conn, wt } = await setup();
    let closed: number | null = null;
    conn.onClose = (i) => { closed = i.code; };
    const bidi = await wt.createBidirectionalStream();
    const w = bidi.writable.getWriter();
    // Just the length prefix of a frame over the limit: refused before any body is buffered.
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, (MAX_RELIABLE_MESSAGE_BYTES + 1) | 0x80000000);
    await w.write(header);
    await until(() => closed !== null, 'close');
    expect(closed).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    const info = await wt.closed;
    expect(info.closeCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
  });

  it('reports the peer address without a port', async () => {
    const { conn } = await setup();
    expect(conn.remoteAddress).toBe('127.0.0.1');
  });

  describe('framing errors are reported to the session layer, which decides; the transport does not close on its own', () => {
    const cases: [string, (w: WritableStreamDefaultWriter<Uint8Array>) => Promise<void>, number, string][] = [
      ['a zero-length frame', (w) => w.write(Uint8Array.of(0)), ErrorCode.BAD_MESSAGE, 'empty_frame'],
      ['a frame longer than any client message', async (w) => {
        const header = new Uint8Array(2);
        writeVarint(header, 0, WT_MAX_CLIENT_FRAME_BYTES + 1);
        await w.write(header);
      }, ErrorCode.MESSAGE_TOO_LARGE, 'frame_too_large'],
      ['a frame left incomplete past the time limit', (w) => w.write(Uint8Array.of(0x40, 100, 1, 2, 3)), ErrorCode.BAD_MESSAGE, 'frame_timeout'],
    ];
    for (const [what, act, code, kind] of cases) {
      it(what, async () => {
        const { conn, wt } = await setup(300);
        const errors: ProtocolError[] = [];
        conn.onProtocolError = (e) => errors.push(e);
        const delivered: Uint8Array[] = [];
        conn.onReliable = (b) => delivered.push(b);
        const bidi = await wt.createBidirectionalStream();
        const w = bidi.writable.getWriter();
        await w.write(encodeFrame(Uint8Array.of(5, 1)));
        await act(w);
        await until(() => errors.length > 0, 'protocol error');
        expect(errors).toEqual([expect.objectContaining({ code, kind })]);
        expect(delivered).toHaveLength(1);
        // Still open: the session layer sends `error` on it, then closes.
        expect(conn.closed).toBe(false);
        expect(conn.sendReliable(Uint8Array.of(8, 1))).toBe(true);
        // Nothing is delivered after the error, and it is reported once.
        await w.write(encodeFrame(Uint8Array.of(5, 2))).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 400));
        expect(delivered).toHaveLength(1);
        expect(errors).toHaveLength(1);
      });
    }

    it('a frame that trickles in is not cut while it completes within the limit', async () => {
      const { conn, wt } = await setup(1_000);
      const errors: ProtocolError[] = [];
      conn.onProtocolError = (e) => errors.push(e);
      const delivered: Uint8Array[] = [];
      conn.onReliable = (b) => delivered.push(b);
      const w = (await wt.createBidirectionalStream()).writable.getWriter();
      const frame = encodeFrame(new Uint8Array(40).fill(5));
      for (let i = 0; i < frame.length; i += 10) {
        await w.write(frame.subarray(i, i + 10));
        await new Promise((r) => setTimeout(r, 50));
      }
      await until(() => delivered.length === 1, 'frame');
      await new Promise((r) => setTimeout(r, 1_200));
      expect(errors).toEqual([]);
    });

    it('a steady stream of frames whose chunks always end mid-frame is not cut: the clock is per frame', async () => {
      const { conn, wt } = await setup(400);
      const errors: ProtocolError[] = [];
      conn.onProtocolError = (e) => errors.push(e);
      let delivered = 0;
      conn.onReliable = () => { delivered++; };
      const w = (await wt.createBidirectionalStream()).writable.getWriter();
      const frame = encodeFrame(new Uint8Array(20).fill(5));
      // Each write: the rest of one frame and the first half of the next, for 1.2 s (3 limits).
      await w.write(frame.subarray(0, 10));
      for (let i = 0; i < 24; i++) {
        await w.write(Uint8Array.from([...frame.subarray(10), ...frame.subarray(0, 10)]));
        await new Promise((r) => setTimeout(r, 50));
      }
      await until(() => delivered >= 24, 'frames');
      expect(errors).toEqual([]);
    });
  });

  it('a client close reaches the connection as a peer close with its code', async () => {
    const { conn, wt } = await setup();
    let info: { code: number; byPeer: boolean } | null = null;
    conn.onClose = (i) => { info = i; };
    await wt.createBidirectionalStream();
    wt.close({ closeCode: 4000, reason: 'bye' });
    await until(() => info !== null, 'peer close');
    expect(info).toMatchObject({ code: 4000, byPeer: true });
    expect(conn.closed).toBe(true);
  });
});
