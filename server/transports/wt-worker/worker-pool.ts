/**
 * `WebTransportWorkers`: the QUIC endpoint on N worker threads (worker-entry.ts), each with its
 * own UDP socket on its own port, the game on the main thread. Implements `WebTransportService`
 * (../webtransport-service.ts): the game gets a `RemoteConnection` per session and cannot tell
 * it from an in-thread one.
 *
 * - Ports: worker i binds `port + i` (or any free port when `port` is 0); the URL a client gets
 *   (`pickPort`) names the worker hosting the fewest sessions. One port per worker instead of
 *   `reusePort` on one port: Node 20 has no reusePort, and with it the kernel picks the socket
 *   by a hash of the 4-tuple, so a client whose NAT rebinds, or every client when a worker
 *   joins or leaves the group, would land on a worker that does not know its connection.
 * - Hand-off: one batch per event-loop turn and direction (handoff.ts), transferred.
 * - Crash containment: a worker that dies (uncaught exception, exit) takes its sessions with
 *   it: each is closed on this side with INTERNAL_ERROR ('webtransport worker failed') and
 *   counted; the other workers and the game carry on, and a new worker is started on the same
 *   port after WORKER_RESTART_DELAY_MS (doubling up to WORKER_RESTART_DELAY_MAX_MS while it keeps
 *   failing). It uses the same stateless reset key, so the dead worker's clients get a stateless
 *   reset (RFC 9000 §10.3) at their next packet and reconnect at once instead of after their
 *   idle timeout.
 * - Counters: each worker reports its endpoint's stats and refusals every
 *   WORKER_STATS_INTERVAL_MS; a dead worker's last refusal totals are kept, so
 *   `tickwire_refusals_total` never goes backwards.
 *
 * Size: about 460 lines, because the slots' lifecycle (start, crash, restart, close), the
 * hand-off host the RemoteConnections call and the summed counters all read and write the same
 * slot state; split apart, each part would need the others' internals.
 */
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { ErrorCode } from '../../../shared/errors.js';
import { emptyWebTransportServerStats, type WebTransportServerOptions, type WebTransportServerStats } from '../../h3/index.js';
import type { Connection } from '../connection.js';
import { WT_INCOMPLETE_FRAME_TIMEOUT_MS } from '../webtransport.js';
import type { WebTransportRefusal, WebTransportService, WebTransportServiceStats, WebTransportWorkerStats } from '../webtransport-service.js';
import {
  BatchWriter, HandoffCounters, MAX_HANDOFF_INFLIGHT_BYTES, Op, TO_MAIN, TO_WORKER,
  readBatch, readClosePayload, readOpenPayload, readProtocolErrorPayload, readU16, readU32, type Batch, type OpCode,
} from './handoff.js';
import type { MainToWorker, WorkerFault, WorkerReport, WorkerToMain } from './protocol.js';
import { RemoteConnection, type RecordKind, type RemoteConnectionHost } from './remote-connection.js';
import { sumCounters } from './sum-counters.js';

/** Most workers one pool runs: each is a thread with its own V8 heap (tens of MB) and port. */
export const MAX_WEBTRANSPORT_WORKERS = 64;
/** First wait before a crashed worker is started again. */
export const WORKER_RESTART_DELAY_MS = 100;
/** Longest wait between restarts of a worker that keeps failing. */
export const WORKER_RESTART_DELAY_MAX_MS = 5_000;
/** A worker that served this long since its start resets the restart delay. */
const WORKER_STABLE_MS = 10_000;
/** Longest wait for a worker to bind its socket. */
export const WORKER_START_TIMEOUT_MS = 30_000;
/** Longest wait for a worker to close its sessions and socket before it is terminated. */
export const WORKER_CLOSE_TIMEOUT_MS = 3_000;
/** Close reason of the sessions of a worker that died. */
export const WORKER_FAILED_REASON = 'webtransport worker failed';

export interface WebTransportWorkersOptions {
  /** Worker threads (>= 1). */
  workers: number;
  /** The endpoint's options; `port` is the first worker's (0: any free port for each). */
  server: Omit<WebTransportServerOptions, 'clock'>;
  /** WebTransportConnection's stream-open timeout. */
  streamOpenMs: number;
  /** WebTransportConnection's incomplete-frame timeout (default WT_INCOMPLETE_FRAME_TIMEOUT_MS). */
  incompleteFrameTimeoutMs?: number;
}

/** One worker slot: the thread (or none while it restarts), its port, batch and sessions. */
interface Slot {
  index: number;
  worker: Worker | null;
  /** Bound port (0 until the first bind). */
  port: number;
  host: string;
  writer: BatchWriter;
  /** Bytes posted to the worker (mod 2^32). */
  produced: number;
  counters: HandoffCounters;
  conns: Map<number, RemoteConnection>;
  report: WorkerReport | null;
  startedAt: number;
  restartDelayMs: number;
  restartTimer: NodeJS.Timeout | null;
  /** Resolves when the worker reported 'closed' (set by close()). */
  closed: (() => void) | null;
}

export class WebTransportWorkers implements WebTransportService, RemoteConnectionHost {
  onConnection: ((conn: Connection) => void) | null = null;
  private readonly slots: Slot[] = [];
  private flushScheduled = false;
  private readonly flushBound = () => this.flushAll();
  private draining = false;
  private closing = false;
  /** Refusal totals of workers that died, by `layer|reason`. */
  private readonly deadRefusals = new Map<string, WebTransportRefusal>();
  private deadUdpDrops = 0;
  private readonly pool: WebTransportWorkerStats;
  private readonly serverOptions: Omit<WebTransportServerOptions, 'clock'>;

  constructor(private readonly options: WebTransportWorkersOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1 || options.workers > MAX_WEBTRANSPORT_WORKERS) {
      throw new RangeError(`workers must be an integer from 1 to ${MAX_WEBTRANSPORT_WORKERS}`);
    }
    // One stateless reset key for every worker and every restart: a restarted worker's resets
    // are recognised by the clients of the one that died (null keeps resets off).
    const key = options.server.statelessResetKey === undefined ? randomBytes(32) : options.server.statelessResetKey;
    this.serverOptions = { ...options.server, statelessResetKey: key };
    this.pool = {
      workers: options.workers, running: 0, crashes: 0, restarts: 0, sessionsLostToCrashes: 0,
      batchesToWorkers: 0, batchesFromWorkers: 0, outboundDropped: 0, inboundDropped: 0, overflowCloses: 0, callbackErrors: 0,
    };
  }

  async listen(): Promise<{ host: string; port: number }> {
    if (this.slots.length > 0) return { host: this.slots[0].host, port: this.slots[0].port };
    const base = this.options.server.port ?? 0;
    for (let i = 0; i < this.options.workers; i++) {
      const slot: Slot = {
        index: i, worker: null, port: base === 0 ? 0 : base + i, host: this.options.server.host ?? '127.0.0.1',
        writer: null as unknown as BatchWriter, produced: 0, counters: new HandoffCounters(), conns: new Map(),
        report: null, startedAt: 0, restartDelayMs: WORKER_RESTART_DELAY_MS, restartTimer: null, closed: null,
      };
      slot.writer = new BatchWriter((b) => this.post(slot, b));
      this.slots.push(slot);
    }
    try {
      await Promise.all(this.slots.map((s) => this.start(s)));
    } catch (e) {
      await this.close(0, 'listen failed');
      throw e;
    }
    return { host: this.slots[0].host, port: this.slots[0].port };
  }

  pickPort(): number | null {
    let best: Slot | null = null;
    for (const s of this.slots) if (s.worker && s.port && (!best || s.conns.size < best.conns.size)) best = s;
    return best?.port ?? this.slots[0]?.port ?? null;
  }

  ports(): number[] {
    return this.slots.map((s) => s.port);
  }

  drain(): void {
    if (this.draining) return;
    this.draining = true;
    this.flushAll();
    for (const s of this.slots) this.control(s, { t: 'drain' });
  }

  async close(code: number, reason: string): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // Records the game wrote this turn (its sessions' closes) go before the worker's close.
    this.flushAll();
    await Promise.all(this.slots.map(async (s) => {
      if (s.restartTimer) clearTimeout(s.restartTimer);
      s.restartTimer = null;
      const w = s.worker;
      if (!w) return;
      const done = new Promise<void>((resolve) => {
        s.closed = resolve;
      });
      this.control(s, { t: 'close', code, reason });
      const timer = setTimeout(() => s.closed?.(), WORKER_CLOSE_TIMEOUT_MS);
      await done;
      clearTimeout(timer);
      s.worker = null;
      await w.terminate();
    }));
    for (const s of this.slots) this.lose(s, { code, reason, byPeer: false });
    this.pool.running = 0;
  }

  stats(): WebTransportServiceStats {
    const live = this.slots.map((s) => s.report?.stats).filter((x): x is WebTransportServerStats => !!x);
    const sum = live.length > 0 ? sumCounters(live) : null;
    return {
      ...(sum ?? emptyWebTransportServerStats()),
      sessionsActive: this.sessionCount,
      draining: this.draining,
      linkSim: sum?.linkSim ?? null,
      workers: { ...this.pool },
    };
  }

  refusals(): WebTransportRefusal[] {
    const sum = new Map<string, WebTransportRefusal>();
    const add = (r: WebTransportRefusal) => {
      const k = `${r.layer}|${r.reason}`;
      const e = sum.get(k);
      if (e) e.count += r.count;
      else sum.set(k, { ...r });
    };
    for (const r of this.deadRefusals.values()) add(r);
    for (const s of this.slots) for (const r of s.report?.refusals ?? []) add(r);
    return [...sum.values()];
  }

  udpSocketDrops(): number | null {
    let any = this.deadUdpDrops > 0;
    let total = this.deadUdpDrops;
    for (const s of this.slots) {
      const d = s.report?.udpSocketDrops;
      if (d !== null && d !== undefined) {
        any = true;
        total += d;
      }
    }
    return any ? total : null;
  }

  get sessionCount(): number {
    let n = 0;
    for (const s of this.slots) n += s.conns.size;
    return n;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Fault injection (tests, chaos drills) into worker `index`: see `WorkerFault`. */
  injectFault(index: number, fault: WorkerFault): void {
    const s = this.slots[index];
    if (s) this.control(s, { t: 'fault', fault });
  }

  // --- RemoteConnectionHost --------------------------------------------------------------------

  put(worker: number, op: OpCode, flags: number, conn: number, payload: Uint8Array, kind: RecordKind): number {
    const s = this.slots[worker];
    if (!s.worker) return -1;
    if (kind !== 'control') {
      const inFlight = s.counters.inFlight(TO_WORKER, s.produced + s.writer.pending);
      if (inFlight > (kind === 'reliable' ? 2 * MAX_HANDOFF_INFLIGHT_BYTES : MAX_HANDOFF_INFLIGHT_BYTES)) {
        if (kind === 'reliable') this.pool.overflowCloses++;
        else this.pool.outboundDropped++;
        return -1;
      }
    }
    const at = s.writer.put(op, flags, conn, payload);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushBound);
    }
    return at;
  }

  skip(worker: number, gen: number, offset: number): boolean {
    const w = this.slots[worker].writer;
    if (w.generation !== gen) return false;
    w.skip(offset);
    return true;
  }

  generation(worker: number): number {
    return this.slots[worker].writer.generation;
  }

  forget(worker: number, conn: number): void {
    this.slots[worker]?.conns.delete(conn);
  }

  // --- internals -----------------------------------------------------------------------------

  private flushAll(): void {
    this.flushScheduled = false;
    for (const s of this.slots) {
      const b = s.writer.take();
      if (b) this.post(s, b);
    }
  }

  private post(s: Slot, b: Batch): void {
    if (!s.worker) return;
    s.produced = (s.produced + b.length) | 0;
    this.pool.batchesToWorkers++;
    s.worker.postMessage({ t: 'batch', buffer: b.buffer, length: b.length } satisfies MainToWorker, [b.buffer]);
  }

  private control(s: Slot, m: MainToWorker): void {
    s.worker?.postMessage(m);
  }

  /** Starts the slot's worker; resolves once its socket is bound. */
  private start(s: Slot): Promise<void> {
    const w = spawnWorker();
    s.worker = w;
    s.counters = new HandoffCounters();
    s.produced = 0;
    s.report = null;
    s.startedAt = performance.now();
    let listening = false;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`webtransport worker ${s.index} did not bind within ${WORKER_START_TIMEOUT_MS} ms`)), WORKER_START_TIMEOUT_MS);
      const fail = (e: Error) => {
        clearTimeout(timer);
        if (!listening) reject(e);
      };
      w.on('message', (m: WorkerToMain) => {
        if (s.worker !== w) return;
        switch (m.t) {
          case 'batch':
            this.onBatch(s, m.buffer, m.length);
            return;
          case 'listening':
            listening = true;
            clearTimeout(timer);
            s.port = m.port;
            s.host = m.host;
            this.pool.running++;
            resolve();
            return;
          case 'failed':
            fail(new Error(`webtransport worker ${s.index}: ${m.message}`));
            return;
          case 'report':
            s.report = m.report;
            return;
          case 'closed':
            s.report = m.report ?? s.report;
            s.closed?.();
            return;
        }
      });
      // An uncaught exception in the worker: 'error', then 'exit'. Handled once, at 'exit'.
      w.on('error', () => undefined);
      w.on('exit', () => {
        clearTimeout(timer);
        if (s.worker !== w) return;
        if (!listening) {
          fail(new Error(`webtransport worker ${s.index} exited before binding`));
          return;
        }
        this.crashed(s);
      });
      w.postMessage({
        t: 'start', index: s.index, server: { ...this.serverOptions, port: s.port }, streamOpenMs: this.options.streamOpenMs,
        incompleteFrameTimeoutMs: this.options.incompleteFrameTimeoutMs ?? WT_INCOMPLETE_FRAME_TIMEOUT_MS, counters: s.counters.shared,
      } satisfies MainToWorker);
    });
  }

  /** The slot's worker died on its own: close its sessions, keep its counts, start another. */
  private crashed(s: Slot): void {
    s.worker = null;
    this.pool.running--;
    this.pool.crashes++;
    this.pool.sessionsLostToCrashes += s.conns.size;
    for (const r of s.report?.refusals ?? []) {
      const k = `${r.layer}|${r.reason}`;
      const e = this.deadRefusals.get(k);
      if (e) e.count += r.count;
      else this.deadRefusals.set(k, { ...r });
    }
    this.deadUdpDrops += s.report?.udpSocketDrops ?? 0;
    s.report = null;
    s.writer.take(); // records for the dead worker go nowhere
    this.lose(s, { code: ErrorCode.INTERNAL_ERROR, reason: WORKER_FAILED_REASON, byPeer: false });
    if (performance.now() - s.startedAt > WORKER_STABLE_MS) s.restartDelayMs = WORKER_RESTART_DELAY_MS;
    this.scheduleRestart(s);
  }

  /** Starts the slot's worker again after its restart delay (doubling while it keeps failing). */
  private scheduleRestart(s: Slot): void {
    if (this.closing) return;
    const delay = s.restartDelayMs;
    s.restartDelayMs = Math.min(WORKER_RESTART_DELAY_MAX_MS, delay * 2);
    s.restartTimer = setTimeout(() => {
      s.restartTimer = null;
      if (this.closing) return;
      this.pool.restarts++;
      this.start(s).then(() => {
        if (this.draining) this.control(s, { t: 'drain' });
      }, () => {
        // It died before binding (or did not bind in time): try again later.
        const w = s.worker;
        s.worker = null;
        void w?.terminate();
        this.scheduleRestart(s);
      });
    }, delay);
    s.restartTimer.unref();
  }

  /** Every session of the slot ends with `info` (the worker is gone or closing). */
  private lose(s: Slot, info: { code: number; reason: string; byPeer: boolean }): void {
    for (const c of [...s.conns.values()]) c.finish(info);
    s.conns.clear();
  }

  /** One batch from a worker. */
  private onBatch(s: Slot, buffer: ArrayBuffer, length: number): void {
    this.pool.batchesFromWorkers++;
    readBatch(buffer, length, (op, _flags, id, payload) => {
      if (op === Op.OPEN) {
        this.opened(s, id, payload);
        return;
      }
      const c = s.conns.get(id);
      if (!c) return; // closed on this side; the worker learns it from our CLOSE
      try {
        switch (op) {
          case Op.UNRELIABLE_IN:
            c.deliverUnreliable(payload);
            return;
          case Op.RELIABLE_IN:
            c.deliverReliable(payload);
            return;
          case Op.CLOSED: {
            const info = readClosePayload(payload, true);
            c.finish(info);
            return;
          }
          case Op.BUDGET:
            c.setBudget(readU16(payload));
            return;
          case Op.DROPS:
            c.setWorkerDrops(readU32(payload, 0), readU32(payload, 4));
            return;
          case Op.PROTOCOL_ERROR:
            c.deliverProtocolError(readProtocolErrorPayload(payload));
            return;
        }
      } catch {
        // The game's handler threw (a bug of ours): that session ends, the batch goes on.
        this.pool.callbackErrors++;
        c.close(ErrorCode.INTERNAL_ERROR, 'server error');
      }
    });
    s.counters.consumed(TO_MAIN, length);
  }

  private opened(s: Slot, id: number, payload: Uint8Array): void {
    const o = readOpenPayload(payload);
    const c = new RemoteConnection(this, s.index, id, o.remoteAddress, o.maxUnreliable);
    s.conns.set(id, c);
    try {
      if (this.onConnection) this.onConnection(c);
      else c.close(0, 'no game to take the session');
    } catch {
      this.pool.callbackErrors++;
      c.close(ErrorCode.INTERNAL_ERROR, 'server error');
    }
  }
}

/**
 * A worker running worker-entry.ts. Run through tsx (a .ts file), the worker registers tsx's
 * loader before importing it: Node 20 does not pass `--import` hooks on to worker threads.
 */
function spawnWorker(): Worker {
  const entry = new URL(import.meta.url.endsWith('.ts') ? './worker-entry.ts' : './worker-entry.js', import.meta.url);
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry);
  const api = import.meta.resolve('tsx/esm/api');
  const src = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(entry.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(src)}`));
}
