/**
 * IPC between the orchestrator (run.ts) and its child processes (server, observer, load).
 * The orchestrator sends commands; children answer with events. Every wait on an event is
 * bounded by a timeout in the orchestrator.
 *
 *   parent -> child: start (begin the window), stop (end it and report), exit
 *   child -> parent: ready (server: ports), joined (clients: all connected), started, stopped
 *                    (with the report), fatal (a child gave up; it exits right after)
 */
import type { Distribution } from './stats.js';
import type { BenchTransport } from './report.js';

export type Command = { cmd: 'start' } | { cmd: 'stop' } | { cmd: 'exit' };

/** What the server child measured over the window. */
export interface ServerReport {
  wallS: number;
  cpuPerWallS: number;
  /** Garbage-collection pauses, ms per wall second (V8's gc performance entries). */
  gcMsPerSec: number;
  /** Bytes allocated per second (MiB), from the sampling heap profile; null when not profiling. */
  allocatedMiBPerSec: number | null;
  rssMB: number;
  /** Share of the window the event loop was busy (0..1): headroom left for more players. */
  eventLoopUtilization: number | null;
  /** Simulation steps run by the room's tick loop during the window, per second. */
  simHz: number | null;
  /** Steps dropped by the tick loop (fell too far behind) during the window. */
  skippedSteps: number | null;
  tickMsMean: number | null;
  tickMsP99: number | null;
  players: number;
  /** Unreliable messages received per second from all clients: inputs, plus a ping/pong now and then. */
  inputsPerSec: number | null;
  /** UDP packets the WebTransport endpoint received / sent per second (null over WebSocket). */
  udpPacketsInPerSec: number | null;
  udpPacketsOutPerSec: number | null;
  /** Datagrams the kernel dropped at the WebTransport socket during the window (receive buffer full; null: unknown). */
  udpSocketDrops: number | null;
  /** Snapshot encodings the server ran per second, and the share of snapshots that reused one. */
  snapshotEncodesPerSec: number | null;
  snapshotShareRatio: number | null;
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

export interface ServerReady {
  ev: 'ready';
  httpPort: number;
  /** UDP port of the WebTransport endpoint. */
  wtPort: number | null;
  baseUrl: string;
}

export type ChildEvent =
  | ServerReady
  | { ev: 'joined'; clients: number; joinMs: number }
  | { ev: 'started' }
  | { ev: 'stopped'; report: ServerReport | ObserverReport | LoadReport }
  | { ev: 'fatal'; message: string };

/**
 * Helper for child entry scripts: a typed `process.send`, and exiting when the parent goes away
 * (the IPC channel closes), so an orchestrator crash never leaves a server or 500 clients behind.
 */
export function childIpc(onCommand: (c: Command) => void | Promise<void>): (e: ChildEvent) => void {
  if (!process.send) throw new Error('this entry script must be started by bench/standard-scene/run.ts (IPC)');
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: unknown) => {
    const c = m as Command;
    if (c && typeof c === 'object' && typeof c.cmd === 'string') {
      Promise.resolve(onCommand(c)).catch((err: unknown) => {
        send({ ev: 'fatal', message: `command ${c.cmd} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}` });
        setTimeout(() => process.exit(1), 100);
      });
    }
  });
  const send = (e: ChildEvent) => {
    try {
      process.send?.(e);
    } catch {
      // The parent is gone; 'disconnect' ends us.
    }
  };
  return send;
}
