/**
 * What the orchestrator (run.ts) and its child processes (server, observer, load) tell each
 * other, over the tools' JSON-line protocol (tools/lib/child.ts). Every wait on an event is
 * bounded by a timeout in the orchestrator.
 *
 *   orchestrator -> child: start (begin the window), stop (end it and report); SIGTERM ends it
 *   child -> orchestrator: ready (server: ports), joined (clients: all connected), started,
 *                          stopped (with the report), fatal (a child gave up; it exits right after)
 */
import type { Distribution } from '../../tools/lib/stats.js';
import type { BenchTransport, RunMetrics } from './report.js';

/**
 * What the server child measured over the window. The fields it shares with the run line are
 * RunMetrics' own (same name, meaning and documentation).
 */
export interface ServerReport extends Pick<RunMetrics, 'tickMsMean' | 'tickMsP99' | 'inputsPerSec' | 'udpPacketsInPerSec'
  | 'udpPacketsOutPerSec' | 'udpSocketDrops' | 'snapshotEncodesPerSec' | 'snapshotShareRatio'> {
  wallS: number;
  cpuPerWallS: number;
  rssMB: number;
  /** Share of the window the event loop was busy (0..1): headroom left for more players. */
  eventLoopUtilization: number | null;
  /** Simulation steps run by the room's tick loop during the window, per second. */
  simHz: number | null;
  /** Steps dropped by the tick loop (fell too far behind) during the window. */
  skippedSteps: number | null;
  players: number;
  /** Messages the server dropped during the window, by reason (e.g. queue_full: a snapshot the transport refused). */
  drops: Record<string, number>;
}

/** What the observer measured over the window. */
export interface ObserverReport {
  wallS: number;
  transport: BenchTransport | null;
  downAppBps: number;
  upAppBps: number;
  downWireBps: number | null;
  upWireBps: number | null;
  snapshots: number;
  snapshotsPerSec: number;
  /** Distinct snapshot ticks (server times) seen; snapshots / ticks = datagrams per snapshot. */
  snapshotTicks: number;
  snapshotBytesMean: number | null;
  snapshotBytesMax: number | null;
  /** Snapshots the client could not decode (missing baseline, bad bytes). */
  snapshotsUndecodable: number;
  gapMs: Distribution;
  stalenessMs: Distribution;
  entitiesSeen: number;
  reconnects: number;
  errors: string[];
}

/** What the load process measured over the window. */
export interface LoadReport {
  wallS: number;
  clients: number;
  /** Clients connected at the end of the window. */
  connected: number;
  downAppBpsMean: number | null;
  upAppBpsMean: number | null;
  cpuPerWallS: number;
  rssMB: number;
  errors: string[];
}

export type ServerReady = {
  event: 'ready';
  httpPort: number;
  /** UDP port of the WebTransport endpoint. */
  wtPort: number | null;
  baseUrl: string;
};

export type Joined = {
  event: 'joined';
  clients: number;
  joinMs: number;
};

export type Stopped = {
  event: 'stopped';
  report: ServerReport | ObserverReport | LoadReport;
};
