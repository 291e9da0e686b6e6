/**
 * The control messages between the main thread (worker-pool.ts) and a WebTransport worker
 * (worker-entry.ts), besides the per-turn batches (handoff.ts). Structured-clone data only.
 */
import type { WebTransportServerOptions, WebTransportServerStats } from '../../h3/index.js';

/** One refusal count, as `WebTransportServer.refusals()` gives them. */
export interface WorkerRefusal {
  layer: 'quic' | 'http3' | 'webtransport';
  reason: string;
  count: number;
}

/** What the worker needs to start: the server's options (no functions: no `clock`). */
export interface WorkerStart {
  t: 'start';
  /** This worker's index in the pool (names its ids and logs). */
  index: number;
  server: Omit<WebTransportServerOptions, 'clock'>;
  /** WebTransportConnection's stream-open timeout (server/index.ts passes the hello timeout). */
  streamOpenMs: number;
  /** WebTransportConnection's incomplete-frame timeout. */
  incompleteFrameTimeoutMs: number;
  /** HandoffCounters' shared memory. */
  counters: SharedArrayBuffer;
}

export type MainToWorker =
  | WorkerStart
  | { t: 'batch'; buffer: ArrayBuffer; length: number }
  | { t: 'drain' }
  | { t: 'close'; code: number; reason: string }
  | { t: 'fault'; fault: WorkerFault };

/**
 * Fault injection (tests, chaos drills): `throw` makes the worker throw `message` from a task of
 * its own, an uncaught exception like any bug's, and die of it; `stall` keeps its event loop busy
 * for `ms` (a saturated worker: it reads nothing meanwhile).
 */
export type WorkerFault = { kind: 'throw'; message: string } | { kind: 'stall'; ms: number };

/** Endpoint state a worker reports every WORKER_STATS_INTERVAL_MS (and when it closes). */
export interface WorkerReport {
  stats: WebTransportServerStats;
  refusals: WorkerRefusal[];
  udpSocketDrops: number | null;
  /** Hand-off counters of this worker (both directions). */
  handoff: HandoffStats;
}

/** Hand-off counters of one worker. */
export interface HandoffStats {
  /** Batches the worker posted to the main thread. */
  batchesOut: number;
  /** Messages from peers dropped in the worker because the main thread lagged (MAX_HANDOFF_INFLIGHT_BYTES). */
  inboundDropped: number;
  /** Connections the worker closed because the main thread lagged even for reliable messages. */
  inboundOverflowCloses: number;
}

export type WorkerToMain =
  | { t: 'listening'; host: string; port: number }
  | { t: 'failed'; message: string }
  | { t: 'batch'; buffer: ArrayBuffer; length: number }
  | { t: 'report'; report: WorkerReport }
  /** The worker closed its sessions and socket; its final counters (null when it never started). */
  | { t: 'closed'; report: WorkerReport | null };

/** How often a worker reports its endpoint's counters (metrics read the latest report). */
export const WORKER_STATS_INTERVAL_MS = 250;
