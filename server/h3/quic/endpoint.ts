/**
 * The QUIC endpoint: one `node:dgram` socket, connection routing by destination connection id,
 * batched flushing, and the accept (server) and connect (client) paths on the same code.
 *
 * Routing (RFC 9000 §5.2): short-header packets carry our fixed-length connection id at bytes
 * 1..1+LOCAL_CID_LENGTH, read directly. Long-header packets are parsed just enough to find the
 * DCID. A client's Initial names a DCID it chose; we route that original DCID to the new
 * connection as well as our own id, because a client whose first flight spans two Initial
 * packets (Chromium with a post-quantum key share) sends the second one to the same original
 * DCID. No Retry is sent (it would cost a round trip and we have no address-validation need
 * behind a game server's own rate limits).
 *
 * Containment: nothing thrown below the socket's 'message' handler, the flush and the timers
 * reaches the event loop. A throw while one connection processes a packet, flushes or runs its
 * timer (a bug of ours: application callbacks are already contained by the HTTP/3 layer) closes
 * that connection with the transport error INTERNAL_ERROR (0x1, RFC 9000 §20.1), or forgets it
 * when even that fails, and is counted in `internalErrors`; other connections carry on.
 */
import { readUdpDrops } from './udp-drops.js';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { quiche } from '@matrixai/quic/native/index.js';
import type { Config, Host } from '@matrixai/quic/native/index.js';
import { QUIC_INTERNAL_ERROR, QuicConnection, type QuicConnectionHost } from './quic-connection.js';
import { LongType, QUIC_V1, cidKey, isLongHeader, parseLongHeader, type LongHeaderInfo } from './packet.js';
import { HandshakeAdmission, addressKey, type RetryMode } from './admission.js';
import { RetryTokens } from './retry-token.js';
import { StatelessResets } from './stateless-reset.js';
import { parseQuicheError } from '../wire/quiche-errors.js';
import {
  ACK_COALESCE_MS,
  HANDSHAKE_TIMEOUT_MS,
  LOCAL_CID_LENGTH,
  MAX_CONNECTIONS,
  MAX_UDP_PAYLOAD,
  MIN_STATELESS_RESET_BYTES,
  RECV_BUFFER_BYTES,
  STATELESS_RESET_CANDIDATES_LIMIT,
} from './limits.js';
/** A client's first Initial must be padded to at least 1200 bytes (RFC 9000 §14.1). */
const MIN_INITIAL_SIZE = 1200;
/** Kernel socket buffer we ask for: bursts from 1000 sessions must not overflow the default. */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** Key of a peer's address and port, for `byRemote`. */
function remoteKey(h: Host): string {
  return `${h.host}|${h.port}`;
}

/** `dgram` lookup for addresses that are already IP literals: answers synchronously. */
function ipLiteralLookup(address: string, family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
  // A colon only appears in IPv6 literals (isIPv6's regex would cost more than the send).
  callback(null, address, address.includes(':') ? 6 : 4);
}

/**
 * An optional filter on the UDP path in both directions (the link simulator plugs in here).
 * `inbound` / `outbound` get each packet and call `deliver` zero or more times, now or later.
 */
export interface PacketPath {
  inbound(packet: Uint8Array, from: Host, deliver: (packet: Uint8Array, from: Host) => void): void;
  outbound(packet: Uint8Array, to: Host, deliver: (packet: Uint8Array, to: Host) => void): void;
  close?(): void;
}

/**
 * How a server endpoint admits handshakes and protects itself and others (RFC 9000 §8, §10.3);
 * every field has a default from limits.ts. docs/architecture.md "QUIC endpoint: admission".
 */
export interface QuicServerProtectionOptions {
  /** When tokenless Initials get a stateless Retry first (default 'under-load'). */
  retry?: RetryMode;
  /** Handshakes in flight at once (default MAX_HANDSHAKING_CONNECTIONS). */
  maxHandshakes?: number;
  /** Handshakes in flight at once from one IPv4 address or IPv6 /64 (default MAX_HANDSHAKES_PER_ADDRESS). */
  maxHandshakesPerAddress?: number;
  /** A connection not established this long after its first Initial is dropped (default HANDSHAKE_TIMEOUT_MS). */
  handshakeTimeoutMs?: number;
  /**
   * Static key (at least 16 bytes) from which stateless reset tokens are derived (RFC 9000
   * §10.3.2). Give the same key to the process that replaces this one (a restart on the same
   * port) and it resets this one's connections at once. Default: random per endpoint; null turns
   * stateless resets off.
   */
  statelessResetKey?: Uint8Array | null;
}

export interface QuicEndpointOptions extends QuicServerProtectionOptions {
  /** Address to bind; '127.0.0.1' by default. */
  host?: string;
  /** Port to bind; 0 picks a free one. */
  port?: number;
  /** Server role: accept new connections with this config. Omit for a client-only endpoint. */
  serverConfig?: Config;
  /** Called for every accepted connection before its first packet is processed. */
  onConnection?: (conn: QuicConnection) => void;
  /** Optional packet filter in both directions (link simulator). */
  path?: PacketPath;
}

/** Endpoint counters; monotonic except the two gauges. */
export interface QuicEndpointStats {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Packets for no known connection that could not start one. */
  packetsDroppedUnknown: number;
  /** Packets whose header could not be parsed, or Initials quiche could not read. */
  packetsDroppedMalformed: number;
  /** Initials dropped because MAX_CONNECTIONS connections are alive. */
  initialsDroppedConnectionLimit: number;
  /** Initials dropped because `maxHandshakes` handshakes were in flight. */
  initialsDroppedHandshakeLimit: number;
  /** Initials dropped because their address had `maxHandshakesPerAddress` handshakes in flight. */
  initialsDroppedAddressLimit: number;
  /** Stateless Retry packets sent (RFC 9000 §17.2.5) instead of accepting a connection. */
  retriesSent: number;
  /** Initials dropped for a Retry token that was forged, expired, or for another address or id. */
  retryTokensInvalid: number;
  /** Packets not sent because they would pass 3x the bytes an unvalidated client sent (RFC 9000 §8.1). */
  packetsAmplificationLimited: number;
  /** Stateless resets sent for short-header packets to unknown connection ids (RFC 9000 §10.3). */
  statelessResetsSent: number;
  /** Client role: connections a server ended with a stateless reset. */
  statelessResetsReceived: number;
  /** Server connections dropped because their handshake did not complete in `handshakeTimeoutMs`. */
  handshakesTimedOut: number;
  versionNegotiationsSent: number;
  connectionsAccepted: number;
  connectionsConnected: number;
  /** Gauge: connections alive now. */
  connectionsActive: number;
  /** Gauge: connections still in the handshake. */
  connectionsHandshaking: number;
  /**
   * Throws caught inside the endpoint (a bug of ours, never expected): per-connection ones
   * closed that connection with INTERNAL_ERROR (0x1); others dropped the packet at hand.
   */
  internalErrors: number;
}

/** A bound UDP socket hosting any number of QUIC connections. */
export class QuicEndpoint {
  private readonly routes = new Map<string, QuicConnection>();
  /** Client role: connections by the server address they talk to (host|port), for stateless resets. */
  private readonly byRemote = new Map<string, Set<QuicConnection>>();
  /** Client role: each connection's key in `byRemote` (the address it connected to). */
  private readonly remoteKeys = new Map<QuicConnection, string>();
  private readonly connections = new Set<QuicConnection>();
  private readonly handshaking = new Set<QuicConnection>();
  private readonly dirty = new Set<QuicConnection>();
  private flushScheduled = false;
  /** Connections owing only an ACK, with the time (performance.now) it must leave by. */
  private readonly ackOwed = new Map<QuicConnection, number>();
  private ackTimer: NodeJS.Timeout | null = null;
  private readonly ackFlushBound = () => this.flushAcks();
  private readonly scratch = Buffer.allocUnsafe(RECV_BUFFER_BYTES);
  private readonly sendScratch = Buffer.allocUnsafe(MAX_UDP_PAYLOAD);
  private local: Host = { host: '127.0.0.1', port: 0 };
  private closed = false;
  private socketClosed = false;
  private readonly counters = emptyQuicEndpointStats();
  /** Server role: who may start a handshake, and when a Retry comes first. */
  private readonly admission: HandshakeAdmission | null;
  private readonly retryTokens = new RetryTokens();
  private readonly resets: StatelessResets | null;
  private readonly handshakeTimeoutMs: number;
  /**
   * Server connections in the handshake: their address key and deadline (performance.now).
   * The timeout is the same for all, so insertion order is deadline order.
   */
  private readonly handshakes = new Map<QuicConnection, { key: string; deadline: number }>();
  private handshakeTimer: NodeJS.Timeout | null = null;
  private readonly expireHandshakesBound = () => this.expireHandshakes();
  private readonly socket: dgram.Socket;
  private readonly flushBound = () => this.flushAll();
  /** Called by the packet path, possibly from its own timers: must not throw. */
  private readonly deliverIn = (packet: Uint8Array, from: Host) => this.onPacketGuarded(packet, from);
  private readonly deliverOut = (packet: Uint8Array, to: Host) => this.rawSend(packet, packet.byteLength, to);
  /** What every connection of this endpoint calls back into (one object, shared). */
  private readonly connectionHost: QuicConnectionHost = {
    send: (packet, length, to) => this.send(packet, length, to),
    scheduleFlush: (c) => this.scheduleFlush(c),
    scheduleAckFlush: (c) => this.scheduleAckFlush(c),
    finalized: (c) => this.finalize(c),
    handshakeDone: (c) => this.handshakeEnded(c),
    internalError: (c, error) => this.connectionFailed(c, error),
    amplificationLimited: () => {
      this.counters.packetsAmplificationLimited++;
    },
  };

  private constructor(private readonly options: QuicEndpointOptions) {
    const host = options.host ?? '127.0.0.1';
    this.admission = options.serverConfig ? new HandshakeAdmission(options) : null;
    this.resets = options.serverConfig && options.statelessResetKey !== null
      ? new StatelessResets({ key: options.statelessResetKey ?? undefined })
      : null;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    if (!(this.handshakeTimeoutMs > 0)) throw new RangeError('handshakeTimeoutMs must be positive');
    this.socket = dgram.createSocket({
      type: isIPv6(host) ? 'udp6' : 'udp4',
      recvBufferSize: SOCKET_BUFFER_BYTES,
      sendBufferSize: SOCKET_BUFFER_BYTES,
      // We only ever send to IP literals (a packet's source address): skip dns.lookup and its
      // nextTick hop on every send.
      lookup: ipLiteralLookup,
    });
    this.socket.on('message', (msg, rinfo) => {
      const from = { host: rinfo.address, port: rinfo.port };
      if (!this.options.path) {
        this.onPacketGuarded(msg, from);
        return;
      }
      try {
        this.options.path.inbound(msg, from, this.deliverIn);
      } catch {
        // The packet filter failed on this packet: drop it, count it, keep the socket loop alive.
        this.counters.internalErrors++;
      }
    });
    // A UDP socket error (e.g. ICMP unreachable surfaced on send) must not crash the process.
    this.socket.on('error', () => undefined);
  }

  /** Binds a socket and returns the endpoint once it listens. */
  static async bind(options: QuicEndpointOptions = {}): Promise<QuicEndpoint> {
    const ep = new QuicEndpoint(options);
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      ep.socket.once('error', reject);
      ep.socket.bind(options.port ?? 0, host, () => {
        ep.socket.off('error', reject);
        resolve();
      });
    });
    const addr = ep.socket.address();
    ep.local = { host: addr.address, port: addr.port };
    return ep;
  }

  /** The bound local address. */
  address(): Host {
    return { ...this.local };
  }

  /** Connections alive on this endpoint. */
  get connectionCount(): number {
    return this.connections.size;
  }

  stats(): QuicEndpointStats {
    return { ...this.counters, connectionsActive: this.connections.size, connectionsHandshaking: this.handshakingCount() };
  }

  /**
   * Datagrams the kernel dropped for this endpoint's socket (its receive buffer was full), or
   * null where that is not known (not Linux). Reads /proc: for metrics and reports, not per packet.
   */
  socketDrops(): number | null {
    return this.socketClosed ? null : readUdpDrops(this.local.port);
  }

  /** Connections not yet established: counted on accept, released on establishment or end. */
  private handshakingCount(): number {
    return this.handshaking.size;
  }

  /**
   * Client role: starts a connection to `remote`. `serverName` is sent as SNI (omit for an IP
   * literal). Set `conn.handler` before the event loop turns.
   */
  connect(remote: Host, config: Config, serverName?: string): QuicConnection {
    if (this.closed) throw new Error('endpoint closed');
    const scid = randomBytes(LOCAL_CID_LENGTH);
    const native = quiche.Connection.connect(serverName ?? null, scid, this.local, remote, config);
    const conn = this.createConnection(native, 'client', remote, true);
    this.addRoute(conn, cidKey(scid));
    const rk = remoteKey(remote);
    let peers = this.byRemote.get(rk);
    if (!peers) this.byRemote.set(rk, (peers = new Set()));
    peers.add(conn);
    this.remoteKeys.set(conn, rk);
    this.counters.connectionsConnected++;
    this.scheduleFlush(conn);
    return conn;
  }

  /**
   * Closes every connection (application code `code`), sends the CONNECTION_CLOSE packets and
   * then the socket. Connections are not waited for through their draining period.
   */
  async close(code = 0, reason = ''): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.connections) {
      try {
        c.close(true, code, reason);
        c.flush();
      } catch {
        this.counters.internalErrors++;
      }
    }
    // Let the CONNECTION_CLOSE packets leave the socket before it closes.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.options.path?.close?.();
    // Connections would otherwise run their closing-period timers against a closed socket.
    for (const c of [...this.connections]) {
      try {
        c.dispose();
      } catch {
        this.counters.internalErrors++;
      }
    }
    this.connections.clear();
    this.handshaking.clear();
    this.handshakes.clear();
    this.byRemote.clear();
    this.remoteKeys.clear();
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.routes.clear();
    this.dirty.clear();
    this.ackOwed.clear();
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.socketClosed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private createConnection(native: ReturnType<typeof quiche.Connection.accept>, role: 'client' | 'server', remote: Host, addressValidated: boolean): QuicConnection {
    const conn = new QuicConnection({ native, role, remote, local: this.local, scratch: this.scratch, host: this.connectionHost, addressValidated });
    this.connections.add(conn);
    this.handshaking.add(conn);
    return conn;
  }

  private addRoute(conn: QuicConnection, key: string): void {
    this.routes.set(key, conn);
    conn.routeKeys.push(key);
  }

  /** A server connection from address `key` starts its handshake: it holds a slot until it ends. */
  private handshakeStarted(conn: QuicConnection, key: string): void {
    this.admission?.opened(key);
    this.handshakes.set(conn, { key, deadline: performance.now() + this.handshakeTimeoutMs });
    if (this.handshakeTimer === null) this.armHandshakeTimer();
  }

  /** The handshake completed, or the connection ended: release its slots (once). */
  private handshakeEnded(conn: QuicConnection): void {
    this.handshaking.delete(conn);
    const h = this.handshakes.get(conn);
    if (!h) return;
    this.handshakes.delete(conn);
    this.admission?.released(h.key);
  }

  private armHandshakeTimer(): void {
    const first = this.handshakes.values().next();
    if (first.done || this.socketClosed) return;
    this.handshakeTimer = setTimeout(this.expireHandshakesBound, Math.max(1, first.value.deadline - performance.now()));
    // The socket keeps a live endpoint's process running; this timer need not.
    this.handshakeTimer.unref();
  }

  /**
   * Drops the server connections whose handshake outlived `handshakeTimeoutMs`, silently: the
   * peer may never have asked for them (a spoofed or abandoned Initial), and a CONNECTION_CLOSE
   * would be one more packet to an unvalidated address. A real client that is merely slow gives
   * up by its own handshake deadline.
   */
  private expireHandshakes(): void {
    this.handshakeTimer = null;
    const now = performance.now();
    for (const [conn, h] of this.handshakes) {
      if (h.deadline > now) break;
      this.counters.handshakesTimedOut++;
      try {
        conn.dispose({ byPeer: false, isApp: false, code: 0, reason: 'handshake timeout', timedOut: true });
      } catch {
        this.counters.internalErrors++;
      }
      this.finalize(conn);
    }
    this.armHandshakeTimer();
  }

  private finalize(conn: QuicConnection): void {
    for (const k of conn.routeKeys) if (this.routes.get(k) === conn) this.routes.delete(k);
    const rk = this.remoteKeys.get(conn);
    if (rk !== undefined) {
      this.remoteKeys.delete(conn);
      const peers = this.byRemote.get(rk);
      if (peers?.delete(conn) && peers.size === 0) this.byRemote.delete(rk);
    }
    this.connections.delete(conn);
    this.handshakeEnded(conn);
    this.dirty.delete(conn);
    this.ackOwed.delete(conn);
  }

  private scheduleFlush(conn: QuicConnection): void {
    if (this.socketClosed) return;
    this.dirty.add(conn);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // setImmediate runs after the poll phase: every packet read in this loop turn is fed to
      // quiche first, so ACKs and responses coalesce into fewer packets.
      setImmediate(this.flushBound);
    }
  }

  /**
   * A connection owes an ACK only: it goes with the connection's next flush, or at the latest
   * ACK_COALESCE_MS from now. `ackOwed` maps each such connection to that deadline; a Map keeps
   * insertion order, so (deadlines only grow) the first entry is always the earliest.
   */
  private scheduleAckFlush(conn: QuicConnection): void {
    if (this.socketClosed || this.dirty.has(conn) || this.ackOwed.has(conn)) return;
    this.ackOwed.set(conn, performance.now() + ACK_COALESCE_MS);
    if (this.ackTimer === null) this.ackTimer = setTimeout(this.ackFlushBound, ACK_COALESCE_MS);
  }

  /** Flushes the connections whose ACK deadline passed; re-arms for the next one. */
  private flushAcks(): void {
    this.ackTimer = null;
    const now = performance.now();
    let next = -1;
    for (const [c, due] of this.ackOwed) {
      if (due > now + 1) {
        next = due;
        break;
      }
      this.ackOwed.delete(c);
      this.dirty.add(c);
    }
    if (next >= 0) this.ackTimer = setTimeout(this.ackFlushBound, Math.max(1, next - now));
    this.flushAll();
  }

  private flushAll(): void {
    this.flushScheduled = false;
    for (const c of this.dirty) {
      this.dirty.delete(c);
      this.ackOwed.delete(c);
      try {
        c.flush();
      } catch (e) {
        this.connectionFailed(c, e);
      }
    }
  }

  /**
   * A throw escaped one connection's processing (a bug of ours): close that connection with
   * INTERNAL_ERROR (RFC 9000 §20.1) and count it. If even closing fails, forget the connection
   * without a CONNECTION_CLOSE (the peer's idle timeout ends it on its side).
   */
  private connectionFailed(conn: QuicConnection, _error: unknown): void {
    this.counters.internalErrors++;
    try {
      conn.close(false, QUIC_INTERNAL_ERROR, 'internal error');
      conn.flush();
    } catch {
      try {
        conn.dispose();
      } catch {
        // The layer above failed again while hearing about the close: nothing more to tell it.
      }
      this.finalize(conn);
    }
  }

  /** One received packet; a throw outside any connection drops that packet and is counted. */
  private onPacketGuarded(msg: Uint8Array, from: Host): void {
    try {
      this.onPacket(msg, from);
    } catch {
      this.counters.internalErrors++;
    }
  }

  /** Feeds a packet to one connection; a throw from it fails that connection only. */
  private receiveInto(conn: QuicConnection, msg: Uint8Array, from: Host): void {
    try {
      conn.receive(msg, from);
    } catch (e) {
      this.connectionFailed(conn, e);
    }
  }

  private send(packet: Uint8Array, length: number, to: Host): void {
    if (this.options.path) {
      this.options.path.outbound(packet.subarray(0, length), to, this.deliverOut);
      return;
    }
    this.rawSend(packet, length, to);
  }

  private rawSend(packet: Uint8Array, length: number, to: Host): void {
    if (this.socketClosed) return;
    this.counters.packetsOut++;
    this.counters.bytesOut += length;
    try {
      this.socket.send(packet, 0, length, to.port, to.host);
    } catch {
      // A synchronous refusal (bad address or port): this packet is lost, like on the wire;
      // asynchronous send errors go to the socket's 'error' handler.
      this.counters.internalErrors++;
    }
  }

  private onPacket(msg: Uint8Array, from: Host): void {
    const c = this.counters;
    c.packetsIn++;
    c.bytesIn += msg.byteLength;
    let conn: QuicConnection | undefined;
    if (!isLongHeader(msg)) {
      if (msg.byteLength < 1 + LOCAL_CID_LENGTH) {
        c.packetsDroppedMalformed++;
        return;
      }
      conn = this.routes.get(cidKey(msg, 1, 1 + LOCAL_CID_LENGTH));
      if (!conn) {
        if (this.receivedStatelessReset(msg, from)) return;
        c.packetsDroppedUnknown++;
        this.statelessReset(msg, from);
        return;
      }
      this.receiveInto(conn, msg, from);
      return;
    }
    const hdr = parseLongHeader(msg);
    if (!hdr) {
      c.packetsDroppedMalformed++;
      return;
    }
    conn = this.routes.get(cidKey(hdr.dcid));
    if (conn) {
      this.receiveInto(conn, msg, from);
      return;
    }
    this.acceptOrReject(msg, from, hdr);
  }

  /**
   * Client role: an unroutable short-header packet may be a stateless reset from a server we
   * talk to (RFC 9000 §10.3.1: its connection id is random). Offered to at most
   * STATELESS_RESET_CANDIDATES_LIMIT of our connections to that address; true when one of them
   * recognised its token and closed.
   */
  private receivedStatelessReset(msg: Uint8Array, from: Host): boolean {
    if (msg.byteLength < MIN_STATELESS_RESET_BYTES) return false;
    const peers = this.byRemote.get(remoteKey(from));
    if (!peers) return false;
    let offered = 0;
    for (const conn of peers) {
      if (offered++ >= STATELESS_RESET_CANDIDATES_LIMIT) break;
      let reset = false;
      try {
        reset = conn.offerStatelessReset(msg, from);
      } catch (e) {
        this.connectionFailed(conn, e);
      }
      if (reset) {
        this.counters.statelessResetsReceived++;
        return true;
      }
    }
    return false;
  }

  /**
   * Answers a short-header packet for an unknown connection id with a stateless reset
   * (RFC 9000 §10.3), server role only: our connection ids are the ones quiche announced a token
   * for. Counted when sent; size and rate limits are StatelessResets'.
   */
  private statelessReset(msg: Uint8Array, from: Host): void {
    if (!this.resets || this.closed) return;
    const reset = this.resets.answer(msg, msg.subarray(1, 1 + LOCAL_CID_LENGTH));
    if (typeof reset === 'string') return;
    this.counters.statelessResetsSent++;
    this.send(reset, reset.byteLength, from);
  }

  /**
   * Answers a tokenless Initial with a stateless Retry (RFC 9000 §8.1.2, §17.2.5): a new
   * connection id for the client to use and a token bound to it, to the original DCID and to the
   * client's IP (retry-token.ts). No state is kept; the Retry is smaller than the Initial
   * (at least 1200 bytes), so it amplifies nothing.
   */
  private sendRetry(from: Host, hdr: LongHeaderInfo): void {
    const newScid = randomBytes(LOCAL_CID_LENGTH);
    const token = this.retryTokens.mint(hdr.dcid, newScid, from.host);
    let n: number;
    try {
      n = quiche.retry(hdr.scid, hdr.dcid, newScid, token, hdr.version, this.sendScratch);
    } catch {
      this.counters.packetsDroppedMalformed++;
      return;
    }
    this.counters.retriesSent++;
    this.send(Buffer.from(this.sendScratch.subarray(0, n)), n, from);
  }

  /**
   * quiche's server connection, with the stateless reset token of its connection id. quiche
   * copies the config's transport parameters into the connection, so the token set just before
   * is this connection's own (RFC 9000 §10.3.2: one token per connection id).
   */
  private acceptNative(config: Config, scid: Uint8Array, odcid: Uint8Array | null, from: Host): ReturnType<typeof quiche.Connection.accept> {
    if (this.resets) {
      config.setStatelessResetToken(this.resets.tokenValue(scid));
      try {
        return quiche.Connection.accept(scid, odcid, this.local, from, config);
      } catch (e) {
        // quiche 0.18 writes transport parameters into 128 bytes (limits.ts LOCAL_CID_LENGTH).
        // Should they ever not fit, a connection without a reset token beats no connection.
        if (parseQuicheError(e).kind !== 'BufferTooShort') throw e;
        config.setStatelessResetToken(null);
      }
    }
    return quiche.Connection.accept(scid, odcid, this.local, from, config);
  }

  private acceptOrReject(msg: Uint8Array, from: Host, hdr: LongHeaderInfo): void {
    const c = this.counters;
    const config = this.options.serverConfig;
    const admission = this.admission;
    const { version, type, dcid, scid } = hdr;
    if (!config || !admission || this.closed) {
      c.packetsDroppedUnknown++;
      return;
    }
    if (version !== QUIC_V1 && version !== 0) {
      // RFC 9000 §6.1: answer an unknown version with Version Negotiation, but only for packets
      // big enough to be a client's first flight (anti-amplification).
      if (msg.byteLength < MIN_INITIAL_SIZE) {
        c.packetsDroppedUnknown++;
        return;
      }
      try {
        const n = quiche.negotiateVersion(scid, dcid, this.sendScratch);
        c.versionNegotiationsSent++;
        this.send(Buffer.from(this.sendScratch.subarray(0, n)), n, from);
      } catch {
        c.packetsDroppedMalformed++;
      }
      return;
    }
    if (version !== QUIC_V1 || type !== LongType.Initial || msg.byteLength < MIN_INITIAL_SIZE || dcid.byteLength < 8) {
      // RFC 9000 §7.2: a client's first DCID is at least 8 bytes; anything else is stray.
      c.packetsDroppedUnknown++;
      return;
    }
    if (hdr.token === null) {
      c.packetsDroppedMalformed++;
      return;
    }
    // RFC 9000 §8.1.3: a token we minted is checked strictly (a bad one drops the Initial); one
    // we cannot have minted is as good as none.
    let odcid: Uint8Array | null = null;
    if (hdr.token.length > 0) {
      const check = this.retryTokens.check(hdr.token, dcid, from.host);
      if (check.kind === 'invalid') {
        c.retryTokensInvalid++;
        return;
      }
      if (check.kind === 'valid') odcid = check.odcid;
    }
    if (this.connections.size >= MAX_CONNECTIONS) {
      c.initialsDroppedConnectionLimit++;
      return;
    }
    const key = addressKey(from.host);
    switch (admission.decide(key, odcid !== null)) {
      case 'retry':
        this.sendRetry(from, hdr);
        return;
      case 'handshake_limit':
        c.initialsDroppedHandshakeLimit++;
        return;
      case 'address_handshake_limit':
        c.initialsDroppedAddressLimit++;
        return;
      case 'accept':
        break;
    }
    // After a Retry the client already sends to the connection id the Retry gave it (the token is
    // bound to it, so it is one of ours): keep it, so the retry_source_connection_id quiche
    // announces matches (RFC 9000 §7.3). Copied: recv decrypts `msg`, and `dcid` with it, in place.
    const newScid = odcid ? Buffer.from(dcid) : randomBytes(LOCAL_CID_LENGTH);
    let native;
    try {
      native = this.acceptNative(config, newScid, odcid, from);
    } catch {
      c.packetsDroppedMalformed++;
      return;
    }
    const conn = this.createConnection(native, 'server', from, odcid !== null);
    this.addRoute(conn, cidKey(newScid));
    // Without a Retry, a first flight of two Initials (Chromium) sends both to the original DCID.
    if (!odcid) this.addRoute(conn, cidKey(dcid));
    this.handshakeStarted(conn, key);
    try {
      this.options.onConnection?.(conn);
      conn.receive(msg, from);
    } catch (e) {
      this.connectionFailed(conn, e);
      return;
    }
    // An Initial quiche could not authenticate (garbage, or a forged flood) must not hold a
    // handshake slot until the handshake timeout: forget the connection at once, silently.
    if (native.stats().recv === 0) {
      c.packetsDroppedMalformed++;
      conn.dispose();
      this.finalize(conn);
      return;
    }
    c.connectionsAccepted++;
  }
}

/** All-zero endpoint counters (also what a server without an endpoint reports). */
export function emptyQuicEndpointStats(): QuicEndpointStats {
  return {
    packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, packetsDroppedUnknown: 0,
    packetsDroppedMalformed: 0, initialsDroppedConnectionLimit: 0, initialsDroppedHandshakeLimit: 0,
    initialsDroppedAddressLimit: 0, retriesSent: 0, retryTokensInvalid: 0, packetsAmplificationLimited: 0,
    statelessResetsSent: 0, statelessResetsReceived: 0, handshakesTimedOut: 0, versionNegotiationsSent: 0,
    connectionsAccepted: 0, connectionsConnected: 0, connectionsActive: 0, connectionsHandshaking: 0,
    internalErrors: 0,
  };
}
