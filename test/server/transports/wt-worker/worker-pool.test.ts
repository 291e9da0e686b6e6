/**
 * The QUIC endpoint on worker threads (server/transports/wt-worker/): what crosses the thread
 * boundary and what happens when a worker lags or dies. Real workers, real quiche, real UDP on
 * loopback, Node WebTransport clients.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { NodeWebTransport } from '../../../../server/h3/index.js';
import type { Connection } from '../../../../server/transports/connection.js';
import { WT_STREAM_OPEN_TIMEOUT_MS } from '../../../../server/transports/webtransport.js';
import { MAX_HANDOFF_INFLIGHT_BYTES } from '../../../../server/transports/wt-worker/handoff.js';
import { WORKER_FAILED_REASON, WebTransportWorkers } from '../../../../server/transports/wt-worker/worker-pool.js';
import { ErrorCode } from '../../../../shared/errors.js';
import { FrameDecoder, encodeFrame } from '../../../../shared/framing.js';
import { testCert } from '../../h3/helpers/cert.js';
import { waitFor } from '../../h3/helpers/util.js';

const cert = testCert();
let pool: WebTransportWorkers | null = null;
const clients: NodeWebTransport[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) {
    try {
      c.close();
    } catch {
      // already closed
    }
  }
  await pool?.close(0, 'test over');
  pool = null;
});

/** A pool of `workers` whose connections are collected in `conns` (in the order they opened). */
async function startPool(workers: number): Promise<{ pool: WebTransportWorkers; conns: Connection[] }> {
  const p = new WebTransportWorkers({ workers, server: { certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'] }, streamOpenMs: WT_STREAM_OPEN_TIMEOUT_MS });
  pool = p;
  const conns: Connection[] = [];
  p.onConnection = (c) => {
    conns.push(c);
    // The client's first reliable message says its stream is open (serverSide waits for it).
    c.onReliable = () => heard.add(c);
  };
  await p.listen();
  return { pool: p, conns };
}

/** Connections whose client's first reliable message arrived. */
const heard = new WeakSet<Connection>();

/** A client session with its reliable stream open; `frames` collects what the server sends on it. */
async function client(port: number, path = '/wt') {
  const wt = new NodeWebTransport(`https://127.0.0.1:${port}${path}`, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.hash }] });
  clients.push(wt);
  await wt.ready;
  const bidi = await wt.createBidirectionalStream();
  const writer = bidi.writable.getWriter();
  const frames: Uint8Array[] = [];
  let ended = false;
  void (async () => {
    const reader = bidi.readable.getReader();
    const dec = new FrameDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        frames.push(...dec.push(value).frames);
      }
    } catch {
      // reset with the session
    }
    ended = true;
  })();
  const datagrams: Uint8Array[] = [];
  void (async () => {
    const reader = wt.datagrams.readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        datagrams.push(value);
      }
    } catch {
      // closed
    }
  })();
  // The server's Connection gets its reliable stream with the first bytes on it.
  await writer.write(encodeFrame(Uint8Array.of(0xee)));
  const dgramWriter = wt.datagrams.writable.getWriter();
  return { wt, writer, frames, datagrams, dgramWriter, ended: () => ended };
}

/** The server side of the next session, once its first reliable message arrived. */
async function serverSide(conns: Connection[], index: number): Promise<Connection> {
  const c = await waitFor(() => conns[index]);
  await waitFor(() => heard.has(c));
  return c;
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('WebTransport on worker threads', () => {
  it('hands a turn of sends to every session over as one batch; reliable messages and the close keep their order', async () => {
    const { pool: p, conns } = await startPool(1);
    const port = p.pickPort()!;
    const cs: Awaited<ReturnType<typeof client>>[] = [];
    for (let i = 0; i < 5; i++) {
      cs.push(await client(port));
      await serverSide(conns, i);
    }
    await turn();
    const before = p.stats().workers!.batchesToWorkers;
    // One turn: 5 sessions x (one datagram + 300 reliable messages of 1 KiB = 1.5 MB in all,
    // more than one batch buffer), then a close of the first.
    for (let i = 0; i < 5; i++) {
      expect(conns[i].sendUnreliable(Uint8Array.of(0x30, i))).toBe(true);
      for (let k = 0; k < 300; k++) {
        const m = new Uint8Array(1024).fill(i);
        new DataView(m.buffer).setUint16(0, k);
        expect(conns[i].sendReliable(m)).toBe(true);
      }
    }
    conns[0].close(4000, 'done');
    await turn();
    const batches = p.stats().workers!.batchesToWorkers - before;
    // 1.5 MB in 512 KiB buffers: four batches for the turn, not one per message.
    expect(batches).toBe(Math.ceil((5 * 300 * (1024 + 12)) / (512 * 1024)));
    const seq = (f: Uint8Array) => new DataView(f.buffer, f.byteOffset).getUint16(0);
    for (let i = 1; i < 5; i++) {
      await waitFor(() => cs[i].frames.length === 300 && cs[i].datagrams.length === 1, 10_000);
      expect(cs[i].frames.map(seq)).toEqual([...Array(300).keys()]);
      expect(cs[i].frames.every((f) => f[2] === i)).toBe(true);
      expect([...cs[i].datagrams[0]]).toEqual([0x30, i]);
    }
    // The close came after its session's messages: what arrived of them came in order, then the
    // close code (a session close resets its streams once the CLOSE capsule is out, so quiche
    // may not have sent all 300 KiB by then: draft-ietf-webtrans-http3 §6).
    const info = await cs[0].wt.closed;
    expect(info.closeCode).toBe(4000);
    expect(cs[0].frames.map(seq)).toEqual([...Array(cs[0].frames.length).keys()]);
    expect(conns[1].closed).toBe(false);
  });

  it('latest wins inside a batch; datagrams quiche drops in the worker are counted on the Connection', async () => {
    const { pool: p, conns } = await startPool(1);
    const c = await client(p.pickPort()!);
    const conn = await serverSide(conns, 0);
    // Ten snapshots in one turn: only the newest leaves the main thread.
    for (let k = 0; k < 10; k++) expect(conn.sendUnreliable(Uint8Array.of(0x40, k), { replaceKey: 'snapshot' })).toBe(true);
    await waitFor(() => c.datagrams.length === 1);
    expect([...c.datagrams[0]]).toEqual([0x40, 9]);
    expect(conn.stats().unreliableReplaced).toBe(9);
    // 300 datagrams in one turn: quiche queues DATAGRAM_SEND_QUEUE_LEN (64) before the worker's
    // next flush and drops the rest; the worker reports the drops.
    for (let k = 0; k < 300; k++) expect(conn.sendUnreliable(Uint8Array.of(0x41, k & 0xff))).toBe(true);
    await waitFor(() => conn.stats().unreliableDropped > 0);
    const dropped = conn.stats().unreliableDropped;
    expect(dropped).toBe(300 - 64);
    await waitFor(() => p.stats().datagrams.droppedQueueFull === dropped);
    await waitFor(() => c.datagrams.length === 1 + 64);
    expect(conn.stats().messagesSentUnreliable).toBe(310);
  });

  it('past MAX_HANDOFF_INFLIGHT_BYTES to a stalled worker, datagrams are dropped and counted, and a reliable send past twice that closes its session', async () => {
    const { pool: p, conns } = await startPool(1);
    const c = await client(p.pickPort()!);
    const conn = await serverSide(conns, 0);
    let closed: { code: number; reason: string } | null = null;
    conn.onClose = (i) => {
      closed = i;
    };
    p.injectFault(0, { kind: 'stall', ms: 1500 });
    await new Promise((r) => setTimeout(r, 200));
    const payload = new Uint8Array(1000);
    let accepted = 0;
    for (let k = 0; k < 20_000 && conn.sendUnreliable(payload); k++) accepted++;
    // Whole batches of 512 KiB count once posted: the refusal comes within a batch of the limit.
    expect(accepted * 1012).toBeGreaterThan(MAX_HANDOFF_INFLIGHT_BYTES - 512 * 1024);
    expect(accepted * 1012).toBeLessThanOrEqual(MAX_HANDOFF_INFLIGHT_BYTES + 512 * 1024);
    expect(p.stats().workers!.outboundDropped).toBe(1);
    expect(conn.stats().unreliableDropped).toBe(1);
    const big = new Uint8Array(200 * 1024);
    let reliable = 0;
    for (let k = 0; k < 200 && conn.sendReliable(big); k++) reliable++;
    expect(reliable).toBeLessThan(200);
    expect(closed).toMatchObject({ code: ErrorCode.INTERNAL_ERROR });
    expect(p.stats().workers!.overflowCloses).toBe(1);
    // Once the worker is back it works through the backlog: the reliable messages overflow the
    // stream's own queue (SLOW_CONSUMER) or the close arrives; either way the client is closed,
    // and the pool serves on.
    const info = await c.wt.closed;
    expect([ErrorCode.SLOW_CONSUMER, ErrorCode.INTERNAL_ERROR]).toContain(info.closeCode);
    const d = await client(p.pickPort()!);
    const conn2 = await serverSide(conns, 1);
    conn2.sendUnreliable(Uint8Array.of(1));
    await waitFor(() => d.datagrams.length === 1);
  }, 30_000);

  it('a worker that dies takes only its own sessions (closed with INTERNAL_ERROR, counted); a new worker serves its port and the dead one\'s clients get a stateless reset', async () => {
    const { pool: p, conns } = await startPool(2);
    const [port0, port1] = p.ports();
    expect(port0).not.toBe(port1);
    // Least loaded first: one client lands on each worker.
    expect(p.pickPort()).toBe(port0);
    const a = await client(p.pickPort()!);
    const connA = await serverSide(conns, 0);
    expect(p.pickPort()).toBe(port1);
    const b = await client(p.pickPort()!);
    const connB = await serverSide(conns, 1);
    // A refusal on worker 0 before it dies (a CONNECT to an unknown path: 404).
    const lost = new NodeWebTransport(`https://127.0.0.1:${port0}/nowhere`, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.hash }] });
    clients.push(lost);
    await expect(lost.ready).rejects.toBeDefined();
    const status404 = () => p.refusals().find((r) => r.layer === 'http3' && r.reason === 'status_404')?.count ?? 0;
    await waitFor(() => status404() === 1);

    let infoA: { code: number; reason: string; byPeer: boolean } | null = null;
    connA.onClose = (i) => {
      infoA = i;
    };
    connB.onUnreliable = (bytes) => connB.sendUnreliable(bytes);
    p.injectFault(0, { kind: 'throw', message: 'test: worker 0 fails' });
    await waitFor(() => infoA !== null);
    expect(infoA).toEqual({ code: ErrorCode.INTERNAL_ERROR, reason: WORKER_FAILED_REASON, byPeer: false });
    expect(p.stats().workers).toMatchObject({ crashes: 1, sessionsLostToCrashes: 1 });
    // The other worker's session is untouched.
    await b.dgramWriter.write(Uint8Array.of(7, 7));
    await waitFor(() => b.datagrams.length === 1);
    expect(connB.closed).toBe(false);
    // A new worker on the same port, the refusal totals still there.
    await waitFor(() => p.stats().workers!.running === 2 && p.stats().workers!.restarts === 1);
    expect(p.ports()).toEqual([port0, port1]);
    expect(status404()).toBe(1);
    // The dead worker's client learns at its next packet (stateless reset, same key), long
    // before its 30 s idle timeout.
    const t0 = performance.now();
    await a.dgramWriter.write(Uint8Array.of(1)).catch(() => undefined);
    const end = await a.wt.closed.then(() => 'closed', (e: Error) => e.message);
    expect(end).toMatch(/stateless reset/);
    expect(performance.now() - t0).toBeLessThan(5_000);
    // And the restarted worker takes new sessions.
    const a2 = await client(port0);
    const connA2 = await serverSide(conns, 2);
    connA2.sendUnreliable(Uint8Array.of(9));
    await waitFor(() => a2.datagrams.length === 1);
    // The reset, as the new worker counted it (its report comes every WORKER_STATS_INTERVAL_MS).
    await waitFor(() => p.stats().endpoint.statelessResetsSent >= 1, 2_000);
  }, 30_000);

  it('drain and close cross the thread boundary: DRAIN to the session, 503 to a new one (counted), then the close code', async () => {
    const { pool: p, conns } = await startPool(1);
    const c = await client(p.pickPort()!);
    await serverSide(conns, 0);
    p.drain();
    expect(p.isDraining).toBe(true);
    await c.wt.draining;
    const late = new NodeWebTransport(`https://127.0.0.1:${p.pickPort()}/wt`, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.hash }] });
    clients.push(late);
    await expect(late.ready).rejects.toBeDefined();
    expect(late.responseStatus).toBe(503);
    await waitFor(() => p.refusals().some((r) => r.reason === 'status_503' && r.count === 1));
    await p.close(ErrorCode.SERVER_DRAINING, 'bye');
    const info = await c.wt.closed;
    expect(info.closeCode).toBe(ErrorCode.SERVER_DRAINING);
    expect(p.sessionCount).toBe(0);
  });
});
