/**
 * The WebTransport side of a game server as the game sees it: a source of `Connection`s plus
 * the endpoint's controls (listen, drain, close) and counters (stats, refusals, kernel drops),
 * the same whether the QUIC endpoint runs on the main thread (`InThreadWebTransport`, here) or
 * on worker threads (`WebTransportWorkers`, wt-worker/worker-pool.ts). docs/architecture.md
 * "WebTransport on worker threads" says which to use and why.
 */
import { WebTransportServer, type WebTransportServerOptions, type WebTransportServerStats } from '../h3/index.js';
import type { Connection } from './connection.js';
import { WT_INCOMPLETE_FRAME_TIMEOUT_MS, WebTransportConnection } from './webtransport.js';

/** One refusal total, by layer and stable reason (for `tickwire_refusals_total`). */
export interface WebTransportRefusal {
  layer: 'quic' | 'http3' | 'webtransport';
  reason: string;
  count: number;
}

/** Worker mode only: the pool's own state. */
export interface WebTransportWorkerStats {
  /** Workers configured. */
  workers: number;
  /** Workers serving now. */
  running: number;
  /** Workers that died (an uncaught exception or an exit nobody asked for). */
  crashes: number;
  /** Workers started again after a crash. */
  restarts: number;
  /** Sessions that were open on a worker when it died (each closed with INTERNAL_ERROR). */
  sessionsLostToCrashes: number;
  /** Batches posted to the workers and received from them. */
  batchesToWorkers: number;
  batchesFromWorkers: number;
  /** Messages the game sent that were dropped because a worker lagged (MAX_HANDOFF_INFLIGHT_BYTES). */
  outboundDropped: number;
  /** Messages from peers dropped in the workers because the game thread lagged. */
  inboundDropped: number;
  /** Connections closed because a thread lagged even for reliable messages. */
  overflowCloses: number;
  /** Game callbacks that threw while a worker's batch was delivered (the connection was closed). */
  callbackErrors: number;
}

/** `WebTransportServerStats` (summed over workers in worker mode) plus the pool's own state. */
export interface WebTransportServiceStats extends WebTransportServerStats {
  /** null in-thread. */
  workers: WebTransportWorkerStats | null;
}

export interface WebTransportService {
  /** Gets every new session as a `Connection` (the game server sets it; tests may wrap it). */
  onConnection: ((conn: Connection) => void) | null;
  /** Binds the UDP socket(s); resolves with the first one's address. */
  listen(): Promise<{ host: string; port: number }>;
  /** UDP port for the next client's URL (with workers: the one hosting the fewest sessions). */
  pickPort(): number | null;
  /** Every bound UDP port (one per worker; one in-thread). */
  ports(): number[];
  /** No new sessions (503), GOAWAY and DRAIN capsules everywhere. */
  drain(): void;
  /** Closes every session with `code` and the socket(s). */
  close(code: number, reason: string): Promise<void>;
  stats(): WebTransportServiceStats;
  /** Monotonic refusal totals, each counted once (WebTransportServer.refusals() and the game's). */
  refusals(): WebTransportRefusal[];
  /** Kernel drops at the UDP socket(s) (null when unknown). */
  udpSocketDrops(): number | null;
  readonly sessionCount: number;
  readonly isDraining: boolean;
}

/**
 * What an embedder may read of the WebTransport side (`GameServer.webTransport`): ports,
 * sessions, draining, counters, kernel drops and refusals. The service itself (`onConnection`,
 * `drain`, `close`) belongs to `createGameServer`, which wires sessions into the game and shuts it
 * down; an embedder replacing `onConnection` would detach every new player.
 */
export interface WebTransportServiceView {
  /** Every bound UDP port (one per worker; one in-thread). */
  ports(): number[];
  readonly sessionCount: number;
  readonly isDraining: boolean;
  /** Counters of the endpoint(s), the HTTP/3 layer and the datagrams (a fresh object each call). */
  stats(): WebTransportServiceStats;
  /** Kernel drops at the UDP socket(s); null when unknown. */
  udpSocketDrops(): number | null;
  /** Monotonic refusal totals by layer and reason. */
  refusals(): WebTransportRefusal[];
}

/** The frozen view of `service`: it follows the live service and offers nothing that changes it. */
export function webTransportServiceView(service: WebTransportService): WebTransportServiceView {
  return Object.freeze({
    ports: () => service.ports(),
    get sessionCount() { return service.sessionCount; },
    get isDraining() { return service.isDraining; },
    stats: () => service.stats(),
    udpSocketDrops: () => service.udpSocketDrops(),
    refusals: () => service.refusals(),
  });
}

/**
 * The QUIC endpoint on the main thread: `WebTransportServer` with each session adapted by
 * `WebTransportConnection`. `server` is there for tests that need the sessions themselves.
 */
export class InThreadWebTransport implements WebTransportService {
  onConnection: ((conn: Connection) => void) | null = null;
  readonly server: WebTransportServer;
  /** Streams the connections refused (extra_bidi_stream, uni_stream). */
  private readonly refused = new Map<string, number>();

  /** `streamOpenMs`, `incompleteFrameTimeoutMs`: WebTransportConnection's timeouts. */
  constructor(options: WebTransportServerOptions, streamOpenMs: number, incompleteFrameTimeoutMs = WT_INCOMPLETE_FRAME_TIMEOUT_MS) {
    this.server = new WebTransportServer(options);
    const refused = (reason: string) => this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
    this.server.onSession = (session) => {
      const conn = new WebTransportConnection(session, streamOpenMs, refused, incompleteFrameTimeoutMs);
      if (this.onConnection) this.onConnection(conn);
      else conn.close(0, 'no game to take the session');
    };
  }

  listen(): Promise<{ host: string; port: number }> {
    return this.server.listen();
  }

  pickPort(): number | null {
    return this.server.address()?.port ?? null;
  }

  ports(): number[] {
    const a = this.server.address();
    return a ? [a.port] : [];
  }

  drain(): void {
    this.server.drain();
  }

  close(code: number, reason: string): Promise<void> {
    return this.server.close(code, reason);
  }

  stats(): WebTransportServiceStats {
    return { ...this.server.stats(), workers: null };
  }

  refusals(): WebTransportRefusal[] {
    const out = this.server.refusals();
    for (const [reason, count] of this.refused) out.push({ layer: 'webtransport', reason, count });
    return out;
  }

  udpSocketDrops(): number | null {
    return this.server.udpSocketDrops();
  }

  get sessionCount(): number {
    return this.server.sessionCount;
  }

  get isDraining(): boolean {
    return this.server.isDraining;
  }
}
