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
import { LongType, cidKey, isLongHeader, parseLongHeader } from './packet.js';
import {
  ACK_COALESCE_MS,
  LOCAL_CID_LENGTH,
  MAX_CONNECTIONS,
  MAX_HANDSHAKING_CONNECTIONS,
  MAX_UDP_PAYLOAD,
  RECV_BUFFER_BYTES,
} from './limits.js';

/** QUIC version 1 (RFC 9000 §15). */
const QUIC_V1 = 0x00000001;
/** A client's first Initial must be padded to at least 1200 bytes (RFC 9000 §14.1). */
const MIN_INITIAL_SIZE = 1200;
/** Kernel socket buffer we ask for: bursts from 1000 sessions must not overflow the default. */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

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

export interface QuicEndpointOptions {
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
  /** Packets whose header could not be parsed. */
  packetsDroppedMalformed: number;
  /** Initials dropped because MAX_CONNECTIONS or MAX_HANDSHAKING_CONNECTIONS was reached. */
  initialsDroppedLimit: number;
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
  private readonly counters: QuicEndpointStats = {
    packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, packetsDroppedUnknown: 0,
    packetsDroppedMalformed: 0, initialsDroppedLimit: 0, versionNegotiationsSent: 0,
    connectionsAccepted: 0, connectionsConnected: 0, connectionsActive: 0, connectionsHandshaking: 0,
    internalErrors: 0,
  };
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
    handshakeDone: (c) => this.handshaking.delete(c),
    internalError: (c, error) => this.connectionFailed(c, error),
  };

  private constructor(private readonly options: QuicEndpointOptions) {
    const host = options.host ?? '127.0.0.1';
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
    const conn = this.createConnection(native, 'client', remote);
    this.addRoute(conn, cidKey(scid));
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
    this.routes.clear();
    this.dirty.clear();
    this.ackOwed.clear();
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.socketClosed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private createConnection(native: ReturnType<typeof quiche.Connection.accept>, role: 'client' | 'server', remote: Host): QuicConnection {
    const conn = new QuicConnection({ native, role, remote, local: this.local, scratch: this.scratch, host: this.connectionHost });
    this.connections.add(conn);
    this.handshaking.add(conn);
    return conn;
  }

  private addRoute(conn: QuicConnection, key: string): void {
    this.routes.set(key, conn);
    conn.routeKeys.push(key);
  }

  private finalize(conn: QuicConnection): void {
    for (const k of conn.routeKeys) if (this.routes.get(k) === conn) this.routes.delete(k);
    this.connections.delete(conn);
    this.handshaking.delete(conn);
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
        // RFC 9000 §10.3 stateless reset is optional; a stray short packet is just dropped.
        c.packetsDroppedUnknown++;
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
    this.acceptOrReject(msg, from, hdr.version, hdr.type, hdr.dcid, hdr.scid);
  }

  private acceptOrReject(msg: Uint8Array, from: Host, version: number, type: LongType, dcid: Uint8Array, scid: Uint8Array): void {
    const c = this.counters;
    const config = this.options.serverConfig;
    if (!config || this.closed) {
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
    if (this.connections.size >= MAX_CONNECTIONS || this.handshakingCount() >= MAX_HANDSHAKING_CONNECTIONS) {
      c.initialsDroppedLimit++;
      return;
    }
    const newScid = randomBytes(LOCAL_CID_LENGTH);
    let native;
    try {
      native = quiche.Connection.accept(newScid, null, this.local, from, config);
    } catch {
      c.packetsDroppedMalformed++;
      return;
    }
    const conn = this.createConnection(native, 'server', from);
    this.addRoute(conn, cidKey(newScid));
    this.addRoute(conn, cidKey(dcid));
    try {
      this.options.onConnection?.(conn);
      conn.receive(msg, from);
    } catch (e) {
      this.connectionFailed(conn, e);
      return;
    }
    // An Initial quiche could not authenticate (garbage, or a forged flood) must not hold a
    // handshake slot until the idle timeout: forget the connection at once, silently.
    if (native.stats().recv === 0) {
      c.packetsDroppedMalformed++;
      conn.dispose();
      this.finalize(conn);
      return;
    }
    c.connectionsAccepted++;
  }
}
