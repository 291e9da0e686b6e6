/**
 * The books of peer bytes (server/h3/peer-buffers.ts): what each stream's reader holds, the
 * per-stream, per-connection and server-wide caps, and the time limits; then a flood over real
 * UDP: ten connections that park CONNECTs (no SETTINGS) and pour DATA behind them (issue 10:
 * this took a server from about 200 MB to over 1 GB) must leave memory bounded.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../../server/clock.js';
import { PeerBufferBudget, StreamTable, type PeerBufferLimit } from '../../../server/h3/peer-buffers.js';
import type { StreamReader } from '../../../server/h3/h3-context.js';
import { MAX_PARKED_REQUEST_BYTES, MAX_PEER_BYTES_PER_CONNECTION } from '../../../server/h3/h3-limits.js';
import { WebTransportServer } from '../../../server/h3/server.js';
import { encodeDataFrame } from '../../../server/h3/wire/frames.js';
import { H3_EXCESSIVE_LOAD, H3_REQUEST_REJECTED } from '../../../server/h3/wire/errors.js';
import { RawClient } from './helpers/raw-client.js';
import { testCert } from './helpers/cert.js';

/** A reader that holds what the test says, with the limits the test gives it. */
class Holder implements StreamReader {
  expired: PeerBufferLimit[] = [];
  constructor(public heldBytes: number, public holdLimitMs?: number, public holdCap?: number) {}
  data(): void {}
  reset(): void {}
  overLimit(_id: number, limit: PeerBufferLimit): void {
    this.expired.push(limit);
  }
}

function table(budget = new PeerBufferBudget(), perConnection = 1000) {
  const clock = new ManualScheduler(0);
  const expired: Array<[number, StreamReader]> = [];
  const t = new StreamTable(budget, clock, (id, r) => expired.push([id, r]), perConnection);
  return { t, clock, budget, expired };
}

describe('StreamTable: the books of peer bytes', () => {
  it('books what readers hold, in the connection and the shared budget, and releases it', () => {
    const budget = new PeerBufferBudget(10_000);
    const a = table(budget);
    const b = table(budget);
    a.t.set(1, new Holder(100));
    a.t.set(2, new Holder(50));
    b.t.set(1, new Holder(30));
    expect(a.t.heldBytes).toBe(150);
    expect(budget.held).toBe(180);
    const r = a.t.get(1) as Holder;
    r.heldBytes = 400;
    expect(a.t.account(1)).toBeNull();
    expect(budget.held).toBe(480);
    a.t.set(1, new Holder(0));
    expect(a.t.heldBytes).toBe(50);
    a.t.delete(2);
    expect(a.t.heldBytes).toBe(0);
    b.t.clear();
    expect(budget.held).toBe(0);
    expect(budget.peak).toBe(480);
  });

  it('names the limit a growing stream passed: its own cap, the connection cap, the server cap', () => {
    const budget = new PeerBufferBudget(1_800);
    const a = table(budget, 1_000);
    const b = table(budget, 1_000);
    const own = new Holder(10, undefined, 100);
    a.t.set(1, own);
    own.heldBytes = 101;
    expect(a.t.account(1)).toBe('stream_cap');
    const big = new Holder(0);
    a.t.set(2, big);
    big.heldBytes = 950;
    expect(a.t.account(2)).toBe('connection_cap');
    // Not growing: no verdict even while over.
    expect(a.t.account(2)).toBeNull();
    a.t.delete(2);
    a.t.delete(1);
    const x = new Holder(900);
    const y = new Holder(850);
    a.t.set(3, x);
    b.t.set(3, y);
    const z = new Holder(0);
    b.t.set(4, z);
    z.heldBytes = 40;
    expect(b.t.account(4)).toBeNull();
    expect(budget.held).toBe(1_790);
    // Each connection is within its 1,000 bytes; together they pass the server's 1,800.
    z.heldBytes = 60;
    expect(b.t.account(4)).toBe('server_cap');
  });

  it('reports a holder past its time limit, counted from when it started holding', () => {
    const { t, clock, expired } = table();
    const slow = new Holder(10, 1_000);
    t.set(7, slow);
    clock.advance(500);
    const later = new Holder(10, 300);
    t.set(9, later);
    clock.advance(299);
    expect(expired).toEqual([]);
    clock.advance(1);
    expect(expired.map(([id]) => id)).toEqual([9]);
    clock.advance(199);
    expect(expired.map(([id]) => id)).toEqual([9]);
    clock.advance(1);
    expect(expired.map(([id]) => id)).toEqual([9, 7]);
  });

  it('uses the time limit of the reader holding now (a request that got parked waits less)', () => {
    const { t, clock, expired } = table();
    t.set(4, new Holder(10, 10_000));
    clock.advance(100);
    t.set(4, new Holder(20, 3_000));
    clock.advance(2_899);
    expect(expired).toEqual([]);
    clock.advance(1);
    expect(expired.map(([id]) => id)).toEqual([4]);
  });

  it('forgets a holder that gave its bytes up, and its deadline', () => {
    const { t, clock, expired } = table();
    const h = new Holder(10, 100);
    t.set(1, h);
    h.heldBytes = 0;
    t.account(1);
    clock.advance(1_000);
    expect(expired).toEqual([]);
  });
});

/** A full garbage collection, so that memory figures are what is retained, not what awaits GC. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * Memory after two full collections 50 ms apart: V8 frees the backing stores of dead
 * ArrayBuffers on background threads after a collection, and `arrayBuffers` counts them until
 * then (on a loaded box, for a while).
 */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  collectGarbage();
  await new Promise((r) => setTimeout(r, 50));
  collectGarbage();
  return process.memoryUsage();
}

const cert = testCert();
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('a flood of parked CONNECTs over real UDP (issue 10)', () => {
  it('keeps memory bounded while ten connections pour DATA behind CONNECTs sent before SETTINGS', async () => {
    const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'] });
    const { port } = await server.listen();
    cleanup.push(() => server.close());
    const CONNECTIONS = 10;
    const STREAMS = 8;
    /** What the flood must deliver for the test to mean anything, and its time bound. */
    const DELIVER_BYTES = 40e6;
    const DEADLINE_MS = 40_000;
    const clients: RawClient[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const c = await RawClient.connect(port);
      cleanup.push(() => c.close());
      clients.push(c);
    }
    const m0 = await settledMemory();
    const chunk = encodeDataFrame(new Uint8Array(16 * 1024).fill(0x61));
    const active = clients.map(() => new Set<number>());
    const deadline = Date.now() + DEADLINE_MS;
    let refusedStreams = 0;
    const resetCodes = new Set<number>();
    while (Date.now() < deadline && server.stats().endpoint.bytesIn < DELIVER_BYTES) {
      clients.forEach((c, i) => {
        if (!c.alive) return;
        for (const id of [...active[i]]) {
          const r = c.streams.get(id);
          if (r && (r.reset !== null || r.stopped !== null)) {
            if (r.reset !== null) resetCodes.add(r.reset);
            active[i].delete(id);
            c.streams.delete(id);
            refusedStreams++;
          }
        }
        // Never the control stream: every CONNECT stays parked until refused.
        while (active[i].size < STREAMS) active[i].add(c.connectRequest(port));
        for (const id of active[i]) while (c.quic.queuedBytes(id) < 64 * 1024) c.quic.write(id, chunk);
      });
      await new Promise((r) => setTimeout(r, 2));
    }
    const m1 = await settledMemory();
    const delivered = server.stats().endpoint.bytesIn;
    const growth = (m1.heapUsed + m1.arrayBuffers) - (m0.heapUsed + m0.arrayBuffers);
    const stats = server.stats();
    console.log(JSON.stringify({
      deliveredMB: +(delivered / 1e6).toFixed(1), heapAndBuffersGrowthMB: +(growth / 1e6).toFixed(1),
      rssGrowthMB: +((m1.rss - m0.rss) / 1e6).toFixed(1), peerBytesPeak: stats.peerBytes.peak, refusedStreams, limits: stats.h3.limits,
    }));
    expect(delivered).toBeGreaterThan(DELIVER_BYTES);
    // Retained memory grows with what the layer may hold, not with what was delivered (before
    // the caps, all of it was retained).
    expect(growth).toBeLessThan(16e6);
    // The layer's own books: each connection within its cap, give or take one received chunk.
    expect(stats.peerBytes.peak).toBeLessThan(CONNECTIONS * (MAX_PEER_BYTES_PER_CONNECTION + 64 * 1024));
    expect(stats.peerBytes.held).toBeLessThan(CONNECTIONS * STREAMS * (MAX_PARKED_REQUEST_BYTES + 64 * 1024));
    // Every refusal was counted, with the stream error the spec names.
    const counted = Object.entries(stats.h3.limits).filter(([k]) => k.startsWith('parked_request_')).reduce((n, [, v]) => n + v, 0);
    expect(counted).toBeGreaterThanOrEqual(refusedStreams);
    // Too many bytes behind a parked request: H3_EXCESSIVE_LOAD; parked too long:
    // H3_REQUEST_REJECTED (RFC 9114 §8.1, §4.1.1).
    expect(resetCodes.has(H3_EXCESSIVE_LOAD)).toBe(true);
    expect([...resetCodes].every((c) => c === H3_EXCESSIVE_LOAD || c === H3_REQUEST_REJECTED)).toBe(true);
    expect(clients.every((c) => c.alive)).toBe(true);
  }, 90_000);
});
