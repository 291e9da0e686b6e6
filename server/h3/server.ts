/**
 * `WebTransportServer`: a QUIC endpoint on UDP that speaks HTTP/3 and accepts WebTransport
 * sessions (extended CONNECT, RFC 9220 / draft-ietf-webtrans-http3). See server/h3/index.ts for
 * the public API summary.
 */
import { QuicEndpoint, type PacketPath } from './quic/endpoint.js';
import { emptyQuicEndpointStats, type QuicEndpointStats } from './quic/endpoint-stats.js';
import type { QuicServerProtectionOptions } from './quic/server-intake.js';
import { buildServerConfig } from './quic/config.js';
import type { QuicConnection } from './quic/quic-connection.js';
import { H3Connection, type ConnectRequest } from './h3-connection.js';
import { newH3Counters, type H3Counters } from './h3-counters.js';
import { PeerBufferBudget } from './peer-buffers.js';
import type { WebTransportSession } from './session.js';
import { createLinkSimPath, type LinkSimOption, type LinkSimPath } from './link-sim-path.js';
import type { LinkDirectionStats, NetsimClock } from './netsim.js';

/**
 * Clock and timers (milliseconds) for the link simulator, injected so tests can step it:
 * `{ now, setTimer, clearTimer? }` (server/h3/netsim.ts `NetsimClock`).
 */
export type Clock = NetsimClock;

/**
 * Server options. The QUIC admission and protection fields (`retry`, `maxHandshakes`,
 * `maxHandshakesPerAddress`, `maxConnectionsPerAddress`, `handshakeTimeoutMs`,
 * `statelessResetKey`) are
 * QuicServerProtectionOptions, passed to the endpoint as they are.
 */
export interface WebTransportServerOptions extends QuicServerProtectionOptions {
  /** Address to bind (default '127.0.0.1'). */
  host?: string;
  /** UDP port (default 0: any free port; read it from `listen()`). */
  port?: number;
  /** Certificate chain and key, PEM. ECDSA P-256 valid < 14 days for `serverCertificateHashes`. */
  certPem: string;
  keyPem: string;
  /** Request paths that open a session (e.g. ['/wt']); any other path gets 404. */
  paths: string[];
  /** Allowed `origin` header values; null (default) allows any origin and none. */
  allowedOrigins?: string[] | null;
  /** Sessions at once across the server; beyond it a CONNECT gets 429. Default 10,000. */
  maxSessions?: number;
  /** QUIC idle timeout (RFC 9000 §10.1), default 30 s. */
  idleTimeoutMs?: number;
  /**
   * Seeded link simulator on the UDP path, both directions (client->server is `up`): a netsim
   * spec such as "loss=0.05,delay=40,jitter=10" (see parseLinkSpec) or a `LinkConfig`.
   */
  linkSim?: LinkSimOption;
  /** Seed of the link simulator (default 1). */
  linkSimSeed?: number;
  /** Clock and timers for the link simulator (default performance.now and Node timers). */
  clock?: Clock;
}

/** Server statistics for metrics and tests. */
export interface WebTransportServerStats {
  sessionsActive: number;
  connectionsActive: number;
  draining: boolean;
  endpoint: QuicEndpointStats;
  /** Link simulator counters per direction, when `linkSim` is set. */
  linkSim: Record<'up' | 'down', LinkDirectionStats> | null;
  h3: H3Counters;
  /**
   * Peer bytes the HTTP/3 layer holds for all connections (partial frames, parked requests,
   * buffered streams: peer-buffers.ts): now, the most at once, and the limit
   * (MAX_PEER_BYTES_TOTAL).
   */
  peerBytes: { held: number; peak: number; limit: number };
  datagrams: {
    sent: number;
    received: number;
    /** Dropped at send: quiche's datagram queue was full (a slow or congested peer). */
    droppedQueueFull: number;
    /** Dropped at send: larger than the connection allows. */
    droppedTooLarge: number;
  };
}

/** Stats of a server with nothing counted yet. */
export function emptyWebTransportServerStats(): WebTransportServerStats {
  return {
    sessionsActive: 0, connectionsActive: 0, draining: false, endpoint: emptyQuicEndpointStats(), linkSim: null,
    h3: newH3Counters(), peerBytes: { held: 0, peak: 0, limit: 0 }, datagrams: { sent: 0, received: 0, droppedQueueFull: 0, droppedTooLarge: 0 },
  };
}

/** Default server-wide session limit. */
export const DEFAULT_MAX_SESSIONS = 10_000;

/** Status answered to a refused CONNECT. */
const STATUS_NOT_FOUND = 404;
const STATUS_FORBIDDEN = 403;
const STATUS_TOO_MANY = 429;
const STATUS_UNAVAILABLE = 503;

/**
 * HTTP/3 WebTransport server. Create, set `onSession`, `await listen()`.
 */
export class WebTransportServer {
  /** Called for every accepted session (after the 200 response was queued). */
  onSession: ((session: WebTransportSession) => void) | null = null;

  private endpoint: QuicEndpoint | null = null;
  /** Open connections: the QUIC connection (for its datagram counters) and its HTTP/3 layer. */
  private readonly connections = new Map<QuicConnection, H3Connection>();
  private readonly sessions = new Set<WebTransportSession>();
  private readonly counters = newH3Counters();
  /** Peer bytes held by the HTTP/3 layer of every connection (MAX_PEER_BYTES_TOTAL). */
  private readonly budget = new PeerBufferBudget();
  private readonly closedTotals = { sent: 0, received: 0, droppedQueueFull: 0, droppedTooLarge: 0 };
  private draining = false;
  private linkSim: LinkSimPath | null = null;
  private readonly paths: Set<string>;
  private readonly origins: Set<string> | null;
  private readonly maxSessions: number;

  constructor(private readonly options: WebTransportServerOptions) {
    this.paths = new Set(options.paths);
    this.origins = options.allowedOrigins ? new Set(options.allowedOrigins) : null;
    this.maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  }

  /** Binds the UDP socket. Resolves with the bound address (the real port when `port` was 0). */
  async listen(): Promise<{ host: string; port: number }> {
    if (this.endpoint) return this.endpoint.address();
    const config = buildServerConfig({
      alpn: ['h3'],
      certPem: this.options.certPem,
      keyPem: this.options.keyPem,
      idleTimeoutMs: this.options.idleTimeoutMs,
    });
    if (this.options.linkSim !== undefined) {
      this.linkSim = createLinkSimPath(this.options.linkSim, 'server', this.options.clock, this.options.linkSimSeed);
    }
    const path: PacketPath | undefined = this.linkSim ?? undefined;
    this.endpoint = await QuicEndpoint.bind({
      host: this.options.host ?? '127.0.0.1',
      port: this.options.port ?? 0,
      serverConfig: config,
      onConnection: (quic) => this.accept(quic),
      path,
      retry: this.options.retry,
      maxHandshakes: this.options.maxHandshakes,
      maxHandshakesPerAddress: this.options.maxHandshakesPerAddress,
      maxConnectionsPerAddress: this.options.maxConnectionsPerAddress,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs,
      statelessResetKey: this.options.statelessResetKey,
    });
    return this.endpoint.address();
  }

  /** The bound address (after `listen`). */
  address(): { host: string; port: number } | null {
    return this.endpoint?.address() ?? null;
  }

  /** True after `drain()`. */
  get isDraining(): boolean {
    return this.draining;
  }

  /** Sessions open now. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * Stops accepting sessions (new CONNECTs get 503), sends HTTP/3 GOAWAY on every connection and
   * a DRAIN_WEBTRANSPORT_SESSION capsule to every session. Sessions stay open until they or
   * `close()` end them.
   */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    for (const c of this.connections.values()) c.drain();
  }

  /**
   * Closes every session (code `code`, default 0) and the socket. Resolves when the socket is
   * closed.
   */
  async close(code = 0, reason = 'server closing'): Promise<void> {
    for (const s of [...this.sessions]) s.close(code, reason);
    const ep = this.endpoint;
    if (!ep) return;
    // Give the CLOSE capsules one loop turn to leave before CONNECTION_CLOSE.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await ep.close(0x100, '');
  }

  /** Kernel drops of the UDP socket (QuicEndpoint.socketDrops); null when unknown or unbound. */
  udpSocketDrops(): number | null {
    return this.endpoint?.socketDrops() ?? null;
  }

  /**
   * Monotonic totals of everything this server refused or dropped because of what a peer sent,
   * by layer and reason (for `tickwire_refusals_total`); each refusal is counted once, under one
   * stable snake_case reason:
   * - CONNECTs answered with a status other than 200: `http3` `status_<code>` (404 unknown path,
   *   403 origin not allowed, 429 too many sessions, 503 draining, 400 not WebTransport);
   * - connections closed with an HTTP/3 error: `http3` `connection_error_<code name>`; request
   *   streams reset: `http3` `stream_error_<code name>`;
   * - a peer past a named limit (h3-limits.ts): `http3` `<what>_<limit>` (e.g.
   *   `parked_request_too_large`, `parked_request_timeout`), `webtransport` `capsule_<limit>`;
   * - WebTransport streams and datagrams refused: `webtransport` `stream_rejected_buffered`,
   *   `stream_rejected_session_gone`, `datagram_unknown_session`, `session_protocol_error`,
   *   and `callback_error` (our application's failure, counted so it is seen);
   * - the QUIC endpoint's drops: `quic` `unknown_connection`, `malformed_packet`,
   *   `connection_limit`, `handshake_limit`, `address_handshake_limit`,
   *   `address_connection_limit` (and the rest below).
   */
  refusals(): Array<{ layer: 'quic' | 'http3' | 'webtransport'; reason: string; count: number }> {
    const c = this.counters;
    const e = this.endpoint ? this.endpoint.stats() : emptyQuicEndpointStats();
    const out: Array<{ layer: 'quic' | 'http3' | 'webtransport'; reason: string; count: number }> = [
      { layer: 'quic', reason: 'unknown_connection', count: e.packetsDroppedUnknown },
      { layer: 'quic', reason: 'malformed_packet', count: e.packetsDroppedMalformed },
      { layer: 'quic', reason: 'connection_limit', count: e.initialsDroppedConnectionLimit },
      { layer: 'quic', reason: 'handshake_limit', count: e.initialsDroppedHandshakeLimit },
      { layer: 'quic', reason: 'address_handshake_limit', count: e.initialsDroppedAddressLimit },
      { layer: 'quic', reason: 'address_connection_limit', count: e.initialsDroppedAddressConnectionLimit },
      { layer: 'quic', reason: 'handshake_timeout', count: e.handshakesTimedOut },
      { layer: 'quic', reason: 'retry_sent', count: e.retriesSent },
      { layer: 'quic', reason: 'token_invalid', count: e.retryTokensInvalid },
      { layer: 'quic', reason: 'amplification_limited', count: e.packetsAmplificationLimited },
      { layer: 'quic', reason: 'stateless_reset_sent', count: e.statelessResetsSent },
      { layer: 'http3', reason: 'unknown_uni_stream', count: c.unknownUniStreams },
      { layer: 'webtransport', reason: 'session_protocol_error', count: c.sessionProtocolErrors },
      { layer: 'webtransport', reason: 'datagram_unknown_session', count: c.datagramsDroppedUnknownSession },
      { layer: 'webtransport', reason: 'stream_rejected_buffered', count: c.streamsRejectedBuffered },
      { layer: 'webtransport', reason: 'stream_rejected_session_gone', count: c.streamsRejectedSessionGone },
      { layer: 'webtransport', reason: 'callback_error', count: c.callbackErrors },
    ];
    for (const [status, count] of Object.entries(c.responses)) {
      if (status !== '200') out.push({ layer: 'http3', reason: `status_${status}`, count });
    }
    for (const [name, count] of Object.entries(c.connectionErrors)) out.push({ layer: 'http3', reason: `connection_error_${name.toLowerCase()}`, count });
    for (const [name, count] of Object.entries(c.streamErrors)) out.push({ layer: 'http3', reason: `stream_error_${name.toLowerCase()}`, count });
    for (const [limit, count] of Object.entries(c.limits)) out.push({ layer: limit.startsWith('capsule_') ? 'webtransport' : 'http3', reason: limit, count });
    return out;
  }

  stats(): WebTransportServerStats {
    const d = { ...this.closedTotals };
    for (const quic of this.connections.keys()) addDatagramCounters(d, quic);
    return {
      sessionsActive: this.sessions.size,
      connectionsActive: this.connections.size,
      draining: this.draining,
      endpoint: this.endpoint ? this.endpoint.stats() : emptyQuicEndpointStats(),
      linkSim: this.linkSim ? this.linkSim.stats() : null,
      h3: structuredClone(this.counters),
      peerBytes: { held: this.budget.held, peak: this.budget.peak, limit: this.budget.limit },
      datagrams: d,
    };
  }

  private accept(quic: QuicConnection): void {
    const conn = new H3Connection(quic, {
      role: 'server',
      counters: this.counters,
      budget: this.budget,
      policy: {
        decide: (req) => this.decide(req),
        onSession: (s) => this.sessionOpened(s),
        onSessionClosed: (s) => this.sessions.delete(s),
      },
      onClosed: () => {
        this.connections.delete(quic);
        addDatagramCounters(this.closedTotals, quic);
      },
    });
    this.connections.set(quic, conn);
  }

  private decide(req: ConnectRequest): number {
    if (!this.paths.has(req.path)) return STATUS_NOT_FOUND;
    if (this.origins && !this.origins.has(req.origin)) return STATUS_FORBIDDEN;
    if (this.draining) return STATUS_UNAVAILABLE;
    if (this.sessions.size >= this.maxSessions) return STATUS_TOO_MANY;
    return 200;
  }

  private sessionOpened(session: WebTransportSession): void {
    this.sessions.add(session);
    if (this.draining) session.drain();
    this.onSession?.(session);
  }
}

function addDatagramCounters(d: WebTransportServerStats['datagrams'], quic: QuicConnection): void {
  const c = quic.counters;
  d.sent += c.datagramsSent;
  d.received += c.datagramsReceived;
  d.droppedQueueFull += c.datagramsDroppedQueueFull;
  d.droppedTooLarge += c.datagramsDroppedTooLarge;
}
