/**
 * The QUIC endpoint: one `node:dgram` socket, connection routing by destination connection id,
 * batched flushing, and the accept (server) and connect (client) paths on the same code.
 *
 * Routing (RFC 9000 §5.2): short-header packets carry our fixed-length connection id at bytes
 * 1..1+LOCAL_CID_LENGTH, read directly and looked up by a number made of its bytes (no string
 * per packet: `shortRoutes`). Long-header packets are parsed just enough to find the DCID. A client's Initial names a DCID it chose; we route that original DCID to the new
 * connection as well as our own id, because a client whose first flight spans two Initial
 * packets (Chromium with a post-quantum key share) sends the second one to the same original
 * DCID (unless a Retry came first: then both go to the id the Retry named).
 *
 * Server role: packets for no connection go to the intake (server-intake.ts: version
 * negotiation, Retry, handshake admission, stateless resets). Client role: an unroutable
 * short-header packet from a server we talk to is offered to our connections to it, since a
 * stateless reset carries a random connection id (RFC 9000 §10.3.1).
 *
 * Containment: nothing thrown below the socket's 'message' handler, the flush and the timers
 * reaches the event loop. A throw while one connection processes a packet, flushes or runs its
 * timer (a bug of ours: application callbacks are already contained by the HTTP/3 layer) closes
 * that connection with the transport error INTERNAL_ERROR (0x1, RFC 9000 §20.1), or forgets it
 * when even that fails, and is counted in `internalErrors`; other connections carry on.
 *
 * Size: about 490 lines. The socket loop, the routing tables, the batched flush with ACK
 * coalescing and the connection lifecycle all work on the same tables; what is separable lives
 * beside it (server-intake.ts, endpoint-stats.ts, packet.ts).
 */
import { readUdpDrops } from './udp-drops.js';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { quiche } from '@matrixai/quic/native/index.js';
import type { Config, Host } from '@matrixai/quic/native/index.js';
import { QUIC_INTERNAL_ERROR, QuicConnection, type QuicConnectionHost } from './quic-connection.js';
import { ConnectionTimers } from './connection-timers.js';
import { cidKey, isLongHeader, parseLongHeader } from './packet.js';
import { ServerIntake, type IntakeHost, type QuicServerProtectionOptions } from './server-intake.js';
import { emptyQuicEndpointStats, type QuicEndpointStats } from './endpoint-stats.js';
import {
  ACK_COALESCE_MS,
  LOCAL_CID_LENGTH,
  MIN_STATELESS_RESET_BYTES,
  RECV_BUFFER_BYTES,
  STATELESS_RESET_CANDIDATES_LIMIT,
  STOP_SENDING_POLL_INTERVAL_MS,
} from './limits.js';
/** Kernel socket buffer we ask for: bursts from 1000 sessions must not overflow the default. */
export const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** Key of a peer's address and port, for `byRemote`. */
function remoteKey(host: string, port: number): string {
  return `${host}|${port}`;
}

/**
 * Number key of a LOCAL_CID_LENGTH-byte connection id in a packet at `at`, for `shortRoutes`:
 * its first six bytes (48 bits, exact in a double); the last two are `ShortRoute.tail`.
 */
function cidHead(b: Uint8Array, at: number): number {
  return ((((b[at] * 256 + b[at + 1]) * 256 + b[at + 2]) * 256 + b[at + 3]) * 256 + b[at + 4]) * 256 + b[at + 5];
}

/** `cidHead` of a route key (cidKey: one latin1 character per byte). */
function keyHead(k: string): number {
  return ((((k.charCodeAt(0) * 256 + k.charCodeAt(1)) * 256 + k.charCodeAt(2)) * 256 + k.charCodeAt(3)) * 256 + k.charCodeAt(4)) * 256 + k.charCodeAt(5);
}

/** A route for short-header packets: the connection and the last two bytes of its id. */
interface ShortRoute {
  conn: QuicConnection;
  tail: number;
}

/** `dgram` lookup for addresses that are already IP literals: answers synchronously. */
export function ipLiteralLookup(address: string, family: unknown, callback: (err: Error | null, address: string, family: number) => void): void {
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

/** A bound UDP socket hosting any number of QUIC connections. */
export class QuicEndpoint {
  private readonly routes = new Map<string, QuicConnection>();
  /**
   * The LOCAL_CID_LENGTH-byte routes again, by `cidHead`, for short-header packets. Two ids that
   * share a head (1 in 2^48 per pair) keep the first; a packet whose tail does not match asks
   * `routes`, which always decides.
   */
  private readonly shortRoutes = new Map<number, ShortRoute>();
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
  /** Connections that received packets since the last sweep (QuicConnection.sweep). */
  private readonly sweepDue = new Set<QuicConnection>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private readonly sweepBound = () => this.sweep();
  /** quiche's deadline of every connection, on one Node timer; a throw fails that connection only. */
  private readonly timers = new ConnectionTimers<QuicConnection>((c) => {
    try {
      c.onTimer();
    } catch (e) {
      this.connectionFailed(c, e);
    }
  });
  private readonly scratch = Buffer.allocUnsafe(RECV_BUFFER_BYTES);
  private local: Host = { host: '127.0.0.1', port: 0 };
  private closed = false;
  private socketClosed = false;
  private readonly counters = emptyQuicEndpointStats();
  /** Server role: packets for no connection, and the handshakes let in. */
  private readonly intake: ServerIntake | null;
  private readonly socket: dgram.Socket;
  private readonly flushBound = () => this.flushAll();
  /** Called by the packet path, possibly from its own timers: must not throw. */
  private readonly deliverIn = (packet: Uint8Array, from: Host) => this.onPacketGuarded(packet, from.host, from.port);
  private readonly deliverOut = (packet: Uint8Array, to: Host) => this.rawSend(packet, packet.byteLength, to);
  /** What every connection of this endpoint calls back into (one object, shared). */
  private readonly connectionHost: QuicConnectionHost = {
    send: (packet, length, to) => this.send(packet, length, to),
    scheduleFlush: (c) => this.scheduleFlush(c),
    scheduleAckFlush: (c) => this.scheduleAckFlush(c),
    finalized: (c) => this.finalize(c),
    handshakeDone: (c) => this.handshakeEnded(c),
    setTimer: (c, at) => this.timers.set(c, at),
    clearTimer: (c) => this.timers.clear(c),
    amplificationLimited: () => {
      this.counters.packetsAmplificationLimited++;
    },
    sweepOwed: (c) => {
      this.sweepDue.add(c);
      if (this.sweepTimer === null && !this.socketClosed) {
        this.sweepTimer = setTimeout(this.sweepBound, STOP_SENDING_POLL_INTERVAL_MS);
        this.sweepTimer.unref();
      }
    },
  };

  private constructor(private readonly options: QuicEndpointOptions) {
    const host = options.host ?? '127.0.0.1';
    this.intake = options.serverConfig ? new ServerIntake(options.serverConfig, options, this.intakeHost()) : null;
    this.socket = dgram.createSocket({
      type: isIPv6(host) ? 'udp6' : 'udp4',
      recvBufferSize: SOCKET_BUFFER_BYTES,
      sendBufferSize: SOCKET_BUFFER_BYTES,
      // We only ever send to IP literals (a packet's source address): skip dns.lookup and its
      // nextTick hop on every send.
      lookup: ipLiteralLookup,
    });
    this.socket.on('message', (msg, rinfo) => {
      if (!this.options.path) {
        this.onPacketGuarded(msg, rinfo.address, rinfo.port);
        return;
      }
      try {
        this.options.path.inbound(msg, { host: rinfo.address, port: rinfo.port }, this.deliverIn);
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
    const rk = remoteKey(remote.host, remote.port);
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
    this.intake?.close();
    this.byRemote.clear();
    this.remoteKeys.clear();
    this.routes.clear();
    this.shortRoutes.clear();
    this.sweepDue.clear();
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    this.dirty.clear();
    this.ackOwed.clear();
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.timers.clearAll();
    this.socketClosed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private createConnection(native: ReturnType<typeof quiche.Connection.accept>, role: 'client' | 'server', remote: Host, addressValidated: boolean): QuicConnection {
    const conn = new QuicConnection({ native, role, remote, local: this.local, scratch: this.scratch, host: this.connectionHost, addressValidated });
    this.connections.add(conn);
    this.handshaking.add(conn);
    return conn;
  }

  /** What the server intake may do to this endpoint. */
  private intakeHost(): IntakeHost {
    return {
      counters: this.counters,
      local: () => this.local,
      isClosed: () => this.closed,
      connectionCount: () => this.connections.size,
      send: (packet, length, to) => this.send(packet, length, to),
      create: (native, from, addressValidated, routeKeys) => {
        const conn = this.createConnection(native, 'server', from, addressValidated);
        for (const k of routeKeys) this.addRoute(conn, k);
        return conn;
      },
      start: (conn, packet, from) => {
        try {
          this.options.onConnection?.(conn);
          conn.receive(packet, from.host, from.port);
          return true;
        } catch (e) {
          this.connectionFailed(conn, e);
          return false;
        }
      },
      drop: (conn, info) => {
        try {
          conn.dispose(info);
        } catch {
          this.counters.internalErrors++;
        }
        this.finalize(conn);
      },
    };
  }

  /** The handshake of `conn` completed, or `conn` ended. */
  private handshakeEnded(conn: QuicConnection): void {
    this.handshaking.delete(conn);
    this.intake?.handshakeEnded(conn);
  }

  private addRoute(conn: QuicConnection, key: string): void {
    this.routes.set(key, conn);
    conn.routeKeys.push(key);
    if (key.length !== LOCAL_CID_LENGTH) return;
    const head = keyHead(key);
    if (!this.shortRoutes.has(head)) this.shortRoutes.set(head, { conn, tail: key.charCodeAt(6) * 256 + key.charCodeAt(7) });
  }

  private finalize(conn: QuicConnection): void {
    for (const k of conn.routeKeys) {
      if (this.routes.get(k) === conn) this.routes.delete(k);
      if (k.length === LOCAL_CID_LENGTH && this.shortRoutes.get(keyHead(k))?.conn === conn) this.shortRoutes.delete(keyHead(k));
    }
    const rk = this.remoteKeys.get(conn);
    if (rk !== undefined) {
      this.remoteKeys.delete(conn);
      const peers = this.byRemote.get(rk);
      if (peers?.delete(conn) && peers.size === 0) this.byRemote.delete(rk);
    }
    this.connections.delete(conn);
    this.handshakeEnded(conn);
    // Whatever ended it (close, idle timeout, handshake timeout, error): its address's slot is free.
    this.intake?.connectionEnded(conn);
    this.dirty.delete(conn);
    this.ackOwed.delete(conn);
    this.sweepDue.delete(conn);
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
  private onPacketGuarded(msg: Uint8Array, host: string, port: number): void {
    try {
      this.onPacket(msg, host, port);
    } catch {
      this.counters.internalErrors++;
    }
  }

  /** Feeds a packet to one connection; a throw from it fails that connection only. */
  private receiveInto(conn: QuicConnection, msg: Uint8Array, host: string, port: number): void {
    try {
      conn.receive(msg, host, port);
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

  /**
   * Periodic work of the connections that received packets since the last sweep
   * (QuicConnection.sweep: a peer's STOP_SENDING on idle streams, the close state).
   */
  private sweep(): void {
    this.sweepTimer = null;
    for (const c of this.sweepDue) {
      this.sweepDue.delete(c);
      try {
        c.sweep();
      } catch (e) {
        this.connectionFailed(c, e);
      }
    }
  }

  private onPacket(msg: Uint8Array, host: string, port: number): void {
    const c = this.counters;
    c.packetsIn++;
    c.bytesIn += msg.byteLength;
    let conn: QuicConnection | undefined;
    if (!isLongHeader(msg)) {
      if (msg.byteLength < 1 + LOCAL_CID_LENGTH) {
        c.packetsDroppedMalformed++;
        return;
      }
      const r = this.shortRoutes.get(cidHead(msg, 1));
      conn = r !== undefined && r.tail === msg[7] * 256 + msg[8] ? r.conn : this.routes.get(cidKey(msg, 1, 1 + LOCAL_CID_LENGTH));
      if (!conn) {
        const from = { host, port };
        if (this.receivedStatelessReset(msg, from)) return;
        c.packetsDroppedUnknown++;
        this.intake?.shortPacket(msg, from);
        return;
      }
      this.receiveInto(conn, msg, host, port);
      return;
    }
    const hdr = parseLongHeader(msg);
    if (!hdr) {
      c.packetsDroppedMalformed++;
      return;
    }
    conn = this.routes.get(cidKey(hdr.dcid));
    if (conn) {
      this.receiveInto(conn, msg, host, port);
      return;
    }
    if (this.intake) this.intake.longPacket(msg, { host, port }, hdr);
    else c.packetsDroppedUnknown++;
  }

  /**
   * Client role: an unroutable short-header packet may be a stateless reset from a server we
   * talk to (RFC 9000 §10.3.1: its connection id is random). Offered to at most
   * STATELESS_RESET_CANDIDATES_LIMIT of our connections to that address; true when one of them
   * recognised its token and closed.
   */
  private receivedStatelessReset(msg: Uint8Array, from: Host): boolean {
    if (msg.byteLength < MIN_STATELESS_RESET_BYTES) return false;
    const peers = this.byRemote.get(remoteKey(from.host, from.port));
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


}
