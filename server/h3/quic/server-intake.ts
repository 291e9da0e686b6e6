/**
 * The server role's intake: what a server endpoint does with packets that belong to no
 * connection, and the handshakes it lets in.
 *
 * - A long-header packet for no connection may start one (RFC 9000 §7, §17.2.2): unknown
 *   versions get Version Negotiation (§6.1); a client Initial is checked for a Retry token
 *   (§8.1.2-8.1.4, retry-token.ts) and admitted, answered with a stateless Retry, or dropped
 *   and counted by the handshake caps (admission.ts).
 * - A short-header packet for no connection gets a stateless reset (§10.3, stateless-reset.ts).
 * - Every admitted handshake holds its slots (global and per address) until it completes, its
 *   connection ends, or `handshakeTimeoutMs` passes, when it is dropped silently.
 * - Every admitted connection holds a slot of its address's connection share
 *   (`maxConnectionsPerAddress`) from its first Initial until it is gone, whatever ends it
 *   (a close by either side, the idle timeout, the handshake timeout, an error).
 *
 * Anti-amplification (§8.1) is each connection's own business (quic-connection.ts); this
 * module tells it whether the address was validated by a Retry token.
 * docs/architecture.md "QUIC endpoint: admission" explains the choices and the defaults.
 */
import { randomBytes } from 'node:crypto';
import { quiche } from '@matrixai/quic/native/index.js';
import type { Config, Connection as NativeConnection, Host } from '@matrixai/quic/native/index.js';
import type { QuicCloseInfo, QuicConnection } from './quic-connection.js';
import type { QuicEndpointStats } from './endpoint-stats.js';
import { LongType, QUIC_V1, cidKey, type LongHeaderInfo } from './packet.js';
import { HandshakeAdmission, type RetryMode } from './admission.js';
import { addressKey } from '../../address.js';
import { RetryTokens } from './retry-token.js';
import { StatelessResets } from './stateless-reset.js';
import { parseQuicheError } from '../wire/quiche-errors.js';
import { HANDSHAKE_TIMEOUT_MS, LOCAL_CID_LENGTH, MAX_CONNECTIONS, MAX_UDP_PAYLOAD } from './limits.js';

/** A client's first Initial must be padded to at least 1200 bytes (RFC 9000 §14.1). */
const MIN_INITIAL_SIZE = 1200;
/** A client's first destination connection id has at least 8 bytes (RFC 9000 §7.2). */
const MIN_ORIGINAL_DCID = 8;

/**
 * How a server endpoint admits handshakes and protects itself and others (RFC 9000 §8, §10.3);
 * every field has a default from limits.ts.
 */
export interface QuicServerProtectionOptions {
  /** When tokenless Initials get a stateless Retry first (default 'under-load'). */
  retry?: RetryMode;
  /** Handshakes in flight at once (default MAX_HANDSHAKING_CONNECTIONS). */
  maxHandshakes?: number;
  /** Handshakes in flight at once from one IPv4 address or IPv6 /64 (default MAX_HANDSHAKES_PER_ADDRESS). */
  maxHandshakesPerAddress?: number;
  /**
   * Connections alive at once (handshaking or established) from one IPv4 address or IPv6 /64
   * (default MAX_CONNECTIONS_PER_ADDRESS); Initials beyond it are dropped and counted.
   */
  maxConnectionsPerAddress?: number;
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

/** What the intake needs from its endpoint. */
export interface IntakeHost {
  /** The endpoint's counters, updated in place. */
  readonly counters: QuicEndpointStats;
  /** The endpoint's bound address. */
  local(): Host;
  /** True once the endpoint is closing: no new connections. */
  isClosed(): boolean;
  /** Connections alive on the endpoint. */
  connectionCount(): number;
  /** Sends one UDP payload. */
  send(packet: Uint8Array, length: number, to: Host): void;
  /** Registers a new server connection under the routing keys given. */
  create(native: NativeConnection, from: Host, addressValidated: boolean, routeKeys: string[]): QuicConnection;
  /** Hands a new connection to the layer above and feeds it its first packet; false when that failed (the endpoint closed it). */
  start(conn: QuicConnection, packet: Uint8Array, from: Host): boolean;
  /** Forgets a connection without sending anything, telling the layer above `info` if given. */
  drop(conn: QuicConnection, info?: QuicCloseInfo): void;
}

export class ServerIntake {
  private readonly admission: HandshakeAdmission;
  private readonly retryTokens = new RetryTokens();
  private readonly resets: StatelessResets | null;
  private readonly handshakeTimeoutMs: number;
  /**
   * Server connections in the handshake: their address key and deadline (performance.now).
   * The timeout is the same for all, so insertion order is deadline order.
   */
  private readonly handshakes = new Map<QuicConnection, { key: string; deadline: number }>();
  /** Every server connection alive with the address key its connection slot is held under. */
  private readonly live = new Map<QuicConnection, string>();
  private handshakeTimer: NodeJS.Timeout | null = null;
  private readonly expireBound = () => this.expireHandshakes();
  private readonly scratch = Buffer.allocUnsafe(MAX_UDP_PAYLOAD);

  /** Throws (at startup) on invalid options. */
  constructor(private readonly config: Config, options: QuicServerProtectionOptions, private readonly host: IntakeHost) {
    this.admission = new HandshakeAdmission(options);
    this.resets = options.statelessResetKey === null ? null : new StatelessResets({ key: options.statelessResetKey });
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    if (!(this.handshakeTimeoutMs > 0)) throw new RangeError('handshakeTimeoutMs must be positive');
  }

  /** A long-header packet for no connection: maybe a client's first Initial. */
  longPacket(msg: Uint8Array, from: Host, hdr: LongHeaderInfo): void {
    const c = this.host.counters;
    const { version, type, dcid, scid } = hdr;
    if (this.host.isClosed()) {
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
        const n = quiche.negotiateVersion(scid, dcid, this.scratch);
        c.versionNegotiationsSent++;
        this.host.send(Buffer.from(this.scratch.subarray(0, n)), n, from);
      } catch {
        c.packetsDroppedMalformed++;
      }
      return;
    }
    if (version !== QUIC_V1 || type !== LongType.Initial || msg.byteLength < MIN_INITIAL_SIZE || dcid.byteLength < MIN_ORIGINAL_DCID) {
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
    if (this.host.connectionCount() >= MAX_CONNECTIONS) {
      c.initialsDroppedConnectionLimit++;
      return;
    }
    const key = addressKey(from.host);
    switch (this.admission.decide(key, odcid !== null)) {
      case 'retry':
        this.sendRetry(from, hdr);
        return;
      case 'handshake_limit':
        c.initialsDroppedHandshakeLimit++;
        return;
      case 'address_handshake_limit':
        c.initialsDroppedAddressLimit++;
        return;
      case 'address_connection_limit':
        // Dropped, not refused with a CONNECTION_CLOSE, although RFC 9000 §5.2.2 says a server
        // that refuses a connection SHOULD send one (CONNECTION_REFUSED in an Initial packet).
        // Such a packet would fit §8.1's budget for an unvalidated address (far under 3x the
        // 1200-byte Initial), but quiche has no stateless close: it can only send one from a
        // connection that processed the client's Initial, that is after the TLS work and the
        // state this cap exists to spare (and the Initial's source may be a spoofed victim's).
        // Silence costs nothing and amplifies nothing, like the handshake caps above; a browser
        // or client/net whose Initials go unanswered falls back to WebSocket within a second.
        c.initialsDroppedAddressConnectionLimit++;
        return;
      case 'accept':
        break;
    }
    this.accept(msg, from, dcid, odcid, key);
  }

  /** A short-header packet for no connection: answer with a stateless reset (RFC 9000 §10.3). */
  shortPacket(msg: Uint8Array, from: Host): void {
    if (!this.resets || this.host.isClosed()) return;
    // Our connection ids are the ones quiche announced a token for; the packet's id is ours or junk.
    const reset = this.resets.answer(msg, msg.subarray(1, 1 + LOCAL_CID_LENGTH));
    if (typeof reset === 'string') return;
    this.host.counters.statelessResetsSent++;
    this.host.send(reset, reset.byteLength, from);
  }

  /** The handshake of `conn` completed, or `conn` ended: release its slots (once). */
  handshakeEnded(conn: QuicConnection): void {
    const h = this.handshakes.get(conn);
    if (!h) return;
    this.handshakes.delete(conn);
    this.admission.released(h.key);
  }

  /** `conn` is gone (endpoint finalize), however it ended: release its connection slot (once). */
  connectionEnded(conn: QuicConnection): void {
    this.handshakeEnded(conn);
    const key = this.live.get(conn);
    if (key === undefined) return;
    this.live.delete(conn);
    this.admission.connectionClosed(key);
  }

  /** The endpoint closed: stop the timer and forget every handshake and connection. */
  close(): void {
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    for (const conn of [...this.live.keys()]) this.connectionEnded(conn);
    for (const conn of [...this.handshakes.keys()]) this.handshakeEnded(conn);
  }

  private accept(msg: Uint8Array, from: Host, dcid: Uint8Array, odcid: Uint8Array | null, key: string): void {
    const c = this.host.counters;
    // After a Retry the client already sends to the connection id the Retry gave it (the token is
    // bound to it, so it is one of ours): keep it, so the retry_source_connection_id quiche
    // announces matches (RFC 9000 §7.3). Copied: recv decrypts `msg`, and `dcid` with it, in place.
    const scid = odcid ? Buffer.from(dcid) : randomBytes(LOCAL_CID_LENGTH);
    let native: NativeConnection;
    try {
      native = this.acceptNative(scid, odcid, from);
    } catch {
      c.packetsDroppedMalformed++;
      return;
    }
    // Without a Retry, a first flight of two Initials (Chromium with a post-quantum key share)
    // sends both to the original DCID: route it too.
    const conn = this.host.create(native, from, odcid !== null, odcid ? [cidKey(scid)] : [cidKey(scid), cidKey(dcid)]);
    this.handshakeStarted(conn, key);
    if (!this.host.start(conn, msg, from)) return;
    // An Initial quiche could not authenticate (garbage, or a forged flood) must not hold a
    // handshake slot until the handshake timeout: forget the connection at once, silently.
    if (native.stats().recv === 0) {
      c.packetsDroppedMalformed++;
      this.host.drop(conn);
      return;
    }
    c.connectionsAccepted++;
  }

  /**
   * quiche's server connection, with the stateless reset token of its connection id. quiche
   * copies the config's transport parameters into the connection, so the token set just before
   * is this connection's own (RFC 9000 §10.3.2: one token per connection id).
   */
  private acceptNative(scid: Uint8Array, odcid: Uint8Array | null, from: Host): NativeConnection {
    const config = this.config;
    if (this.resets) {
      config.setStatelessResetToken(this.resets.tokenValue(scid));
      try {
        return quiche.Connection.accept(scid, odcid, this.host.local(), from, config);
      } catch (e) {
        // quiche 0.18 writes transport parameters into 128 bytes (limits.ts LOCAL_CID_LENGTH).
        // Should they ever not fit, a connection without a reset token beats no connection.
        if (parseQuicheError(e).kind !== 'BufferTooShort') throw e;
        config.setStatelessResetToken(null);
      }
    }
    return quiche.Connection.accept(scid, odcid, this.host.local(), from, config);
  }

  /**
   * Answers a tokenless Initial with a stateless Retry (RFC 9000 §8.1.2, §17.2.5): a new
   * connection id for the client to use and a token bound to it, to the original DCID and to the
   * client's IP (retry-token.ts). No state is kept; the Retry is far smaller than the Initial
   * (at least 1200 bytes), so it amplifies nothing.
   */
  private sendRetry(from: Host, hdr: LongHeaderInfo): void {
    const newScid = randomBytes(LOCAL_CID_LENGTH);
    const token = this.retryTokens.mint(hdr.dcid, newScid, from.host);
    let n: number;
    try {
      n = quiche.retry(hdr.scid, hdr.dcid, newScid, token, hdr.version, this.scratch);
    } catch {
      this.host.counters.packetsDroppedMalformed++;
      return;
    }
    this.host.counters.retriesSent++;
    this.host.send(Buffer.from(this.scratch.subarray(0, n)), n, from);
  }

  /**
   * A connection from address `key` starts its handshake: it holds a handshake slot until the
   * handshake ends, and a connection slot until the connection is gone.
   */
  private handshakeStarted(conn: QuicConnection, key: string): void {
    this.admission.connectionOpened(key);
    this.live.set(conn, key);
    this.admission.opened(key);
    this.handshakes.set(conn, { key, deadline: performance.now() + this.handshakeTimeoutMs });
    if (this.handshakeTimer === null) this.armTimer();
  }

  private armTimer(): void {
    const first = this.handshakes.values().next();
    if (first.done) return;
    this.handshakeTimer = setTimeout(this.expireBound, Math.max(1, first.value.deadline - performance.now()));
    // The socket keeps a live endpoint's process running; this timer need not.
    this.handshakeTimer.unref();
  }

  /**
   * Drops the connections whose handshake outlived `handshakeTimeoutMs`, silently: the peer may
   * never have asked for them (a spoofed or abandoned Initial), and a CONNECTION_CLOSE would be
   * one more packet to an unvalidated address. A real client that is merely slow gives up by
   * its own handshake deadline.
   */
  private expireHandshakes(): void {
    this.handshakeTimer = null;
    const now = performance.now();
    for (const [conn, h] of this.handshakes) {
      if (h.deadline > now) break;
      this.host.counters.handshakesTimedOut++;
      // Ends the handshake (endpoint finalize -> handshakeEnded) and so this entry.
      this.host.drop(conn, { byPeer: false, isApp: false, code: 0, reason: 'handshake timeout', timedOut: true });
      this.handshakeEnded(conn);
    }
    this.armTimer();
  }
}
