/**
 * A WebTransport worker thread: the whole QUIC endpoint (UDP socket, quiche connections,
 * HTTP/3, WebTransport framing, the reliable stream's message framing) runs here, and every
 * session becomes a `WebTransportConnection` whose traffic is handed to the main thread in one
 * batch per event-loop turn (handoff.ts). Started by worker-pool.ts; the control messages are
 * protocol.ts.
 *
 * Containment: nothing here catches a bug of its own beyond what the endpoint already contains
 * per connection; an exception that escapes kills this thread, and the pool closes the
 * sessions it hosted and starts another worker on the same port (worker-pool.ts).
 */
import { parentPort } from 'node:worker_threads';
import { ErrorCode } from '../../../shared/errors.js';
import { WebTransportServer } from '../../h3/index.js';
import { WebTransportConnection } from '../webtransport.js';
import {
  BatchWriter, Flag, HANDOFF_COALESCE_MS, HANDOFF_EAGER_BYTES, HandoffCounters, MAX_HANDOFF_INFLIGHT_BYTES, Op, TO_MAIN, TO_WORKER,
  closePayload, openPayload, protocolErrorPayload, readBatch, readClosePayload, u16Payload, u32Payload, type Batch,
} from './handoff.js';
import { WORKER_STATS_INTERVAL_MS, type HandoffStats, type MainToWorker, type WorkerReport, type WorkerStart, type WorkerToMain } from './protocol.js';

if (!parentPort) throw new Error('worker-entry.ts runs in a worker thread');
const port = parentPort;

/** One hosted session and what was last told to the main thread about it. */
interface Hosted {
  conn: WebTransportConnection;
  budget: number;
  dropped: number;
  replaced: number;
}

let server: WebTransportServer | null = null;
let counters: HandoffCounters | null = null;
const hosted = new Map<number, Hosted>();
let nextId = 0;
/** Bytes posted to the main thread (mod 2^32), for HandoffCounters.inFlight. */
let produced = 0;
let flushScheduled = false;
let flushTimer: NodeJS.Timeout | null = null;
/** Connections the last main batch sent to: their budget and drop totals are checked after it. */
const touched = new Set<number>();
const refusedHere = new Map<string, number>();
const handoff: HandoffStats = { batchesOut: 0, inboundDropped: 0, inboundOverflowCloses: 0 };
let reportTimer: NodeJS.Timeout | null = null;

const post = (msg: WorkerToMain, transfer?: ArrayBuffer[]): void => port.postMessage(msg, transfer ?? []);

const postBatch = (b: Batch): void => {
  produced = (produced + b.length) | 0;
  handoff.batchesOut++;
  post({ t: 'batch', buffer: b.buffer, length: b.length }, [b.buffer]);
};
const writer = new BatchWriter(postBatch);

/** Posts the batch HANDOFF_COALESCE_MS after its first record, or at the end of the turn once it is large. */
function scheduleFlush(): void {
  if (writer.pending >= HANDOFF_EAGER_BYTES) {
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
    return;
  }
  if (flushTimer === null && !flushScheduled) flushTimer = setTimeout(flush, HANDOFF_COALESCE_MS);
}

function flush(): void {
  flushScheduled = false;
  if (flushTimer !== null) clearTimeout(flushTimer);
  flushTimer = null;
  const b = writer.take();
  if (b) postBatch(b);
}

/** Bytes posted to the main thread and not yet read there. */
function inFlight(): number {
  return counters ? counters.inFlight(TO_MAIN, produced + writer.pending) : 0;
}

function report(s: WebTransportServer): WorkerReport {
  const refusals = s.refusals();
  for (const [reason, count] of refusedHere) refusals.push({ layer: 'webtransport', reason, count });
  return { stats: s.stats(), refusals, udpSocketDrops: s.udpSocketDrops(), handoff: { ...handoff } };
}

function host(conn: WebTransportConnection): void {
  const id = ++nextId;
  const h: Hosted = { conn, budget: conn.maxUnreliableSize, dropped: 0, replaced: 0 };
  hosted.set(id, h);
  writer.put(Op.OPEN, 0, id, openPayload(h.budget, conn.remoteAddress));
  conn.onUnreliable = (bytes) => {
    // Stale by the time the main thread would read it: drop it while the main thread lags.
    if (inFlight() > MAX_HANDOFF_INFLIGHT_BYTES) {
      handoff.inboundDropped++;
      return;
    }
    writer.put(Op.UNRELIABLE_IN, 0, id, bytes);
    scheduleFlush();
  };
  conn.onReliable = (bytes) => {
    if (inFlight() > 2 * MAX_HANDOFF_INFLIGHT_BYTES) {
      handoff.inboundOverflowCloses++;
      conn.close(ErrorCode.INTERNAL_ERROR, 'server overloaded: the game thread lags');
      return;
    }
    writer.put(Op.RELIABLE_IN, 0, id, bytes);
    scheduleFlush();
  };
  // The session layer on the main thread decides (it sends `error`, then closes): this
  // connection stays open and delivers nothing more meanwhile.
  conn.onProtocolError = (error) => {
    writer.put(Op.PROTOCOL_ERROR, 0, id, protocolErrorPayload(error));
    scheduleFlush();
  };
  conn.onClose = (info) => {
    hosted.delete(id);
    touched.delete(id);
    writer.put(Op.CLOSED, 0, id, closePayload(info.code, info.reason, info.byPeer ? 1 : 0));
    scheduleFlush();
  };
  scheduleFlush();
}

/** One batch from the main thread. */
function onBatch(buffer: ArrayBuffer, length: number): void {
  readBatch(buffer, length, (op, flags, id, payload) => {
    const h = hosted.get(id);
    if (!h) return; // closed here meanwhile: its CLOSED record is on its way
    switch (op) {
      case Op.UNRELIABLE:
        h.conn.sendUnreliable(payload, (flags & Flag.REPLACE) !== 0 ? REPLACE : undefined);
        touched.add(id);
        return;
      case Op.RELIABLE:
        h.conn.sendReliable(payload);
        return;
      case Op.CLOSE: {
        const c = readClosePayload(payload, false);
        h.conn.close(c.code, c.reason);
        return;
      }
      case Op.DRAIN:
        h.conn.drain();
        return;
    }
  });
  counters?.consumed(TO_WORKER, length);
  // What the main thread must know after these sends: a new datagram budget, drop totals.
  for (const id of touched) {
    const h = hosted.get(id);
    if (!h) continue;
    const budget = h.conn.maxUnreliableSize;
    if (budget !== h.budget) {
      h.budget = budget;
      writer.put(Op.BUDGET, 0, id, u16Payload(budget));
    }
    const s = h.conn.stats();
    if (s.unreliableDropped !== h.dropped || s.unreliableReplaced !== h.replaced) {
      h.dropped = s.unreliableDropped;
      h.replaced = s.unreliableReplaced;
      writer.put(Op.DROPS, 0, id, u32Payload(h.dropped, h.replaced));
    }
  }
  touched.clear();
  if (writer.pending > 0) scheduleFlush();
}

/** `sendUnreliable` options of a REPLACE record: latest wins among the message's type. */
const REPLACE = { replaceKey: 'replace' };

async function start(m: WorkerStart): Promise<void> {
  counters = new HandoffCounters(m.counters);
  server = new WebTransportServer(m.server);
  const refused = (reason: string) => refusedHere.set(reason, (refusedHere.get(reason) ?? 0) + 1);
  server.onSession = (session) => host(new WebTransportConnection(session, m.streamOpenMs, refused, m.incompleteFrameTimeoutMs));
  try {
    const bound = await server.listen();
    post({ t: 'listening', host: bound.host, port: bound.port });
  } catch (e) {
    post({ t: 'failed', message: e instanceof Error ? e.message : String(e) });
    return;
  }
  const s = server;
  reportTimer = setInterval(() => post({ t: 'report', report: report(s) }), WORKER_STATS_INTERVAL_MS);
  reportTimer.unref();
}

async function close(code: number, reason: string): Promise<void> {
  if (reportTimer) clearInterval(reportTimer);
  reportTimer = null;
  flush();
  const s = server;
  if (s) await s.close(code, reason);
  flush();
  post({ t: 'closed', report: s ? report(s) : null });
  port.close();
}

port.on('message', (m: MainToWorker) => {
  switch (m.t) {
    case 'batch':
      onBatch(m.buffer, m.length);
      return;
    case 'start':
      void start(m);
      return;
    case 'drain':
      server?.drain();
      return;
    case 'close':
      void close(m.code, m.reason);
      return;
    case 'fault': {
      const f = m.fault;
      setImmediate(() => {
        if (f.kind === 'throw') throw new Error(f.message);
        const until = performance.now() + f.ms;
        while (performance.now() < until) {
          // busy: the stall is the point
        }
      });
      return;
    }
  }
});
