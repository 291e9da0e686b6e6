/**
 * `NodeWebTransport`: the subset of the W3C `WebTransport` interface that client/net uses, for
 * Node (tests, bots, load generators), on our own QUIC endpoint and HTTP/3 layer in the client
 * role. https://www.w3.org/TR/webtransport/
 *
 * Server authentication: `serverCertificateHashes` (W3C WebTransport §6.4: SHA-256 of the leaf
 * certificate's DER, which must be valid for at most 14 days and currently valid), or a CA
 * (`caPem`). Accepting any certificate needs the explicit `allowAnyCertificate: true`.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { QuicEndpoint } from '../quic/endpoint.js';
import { buildClientConfig } from '../quic/config.js';
import { H3Connection } from '../h3-connection.js';
import { newH3Counters, type H3Counters } from '../h3-counters.js';
import type { QuicCloseInfo } from '../quic/quic-connection.js';
import { CONNECT_TIMEOUT_MS } from '../h3-limits.js';
import { errorCodeName } from '../wire/errors.js';
import type { WebTransportSession, WebTransportStream } from '../session.js';
import { WebTransportError, toReadable, toWritable } from './streams.js';
import { createLinkSimPath, type LinkSimOption } from '../link-sim-path.js';
import { pinnedSha256, verifyPinned, type NodeWebTransportHash } from './cert-pinning.js';

export { WebTransportError } from './streams.js';
export type { NodeWebTransportHash } from './cert-pinning.js';

/** Datagrams received and not yet read; more are dropped (W3C: incoming queue, oldest kept). */
export const DATAGRAM_READ_QUEUE_LIMIT = 256;
/** Incoming streams not yet taken from `incoming*Streams`; more are refused (STOP_SENDING). */
export const INCOMING_STREAM_QUEUE_LIMIT = 64;

export interface NodeWebTransportOptions {
  /** W3C: accept the server only if its leaf certificate's SHA-256 is one of these. */
  serverCertificateHashes?: NodeWebTransportHash[];
  /** Verify against this CA (PEM) instead of pinning. */
  caPem?: string;
  /** Accept any server certificate. Only for tests and tools; never the default. */
  allowAnyCertificate?: boolean;
  /** `origin` header to send (browsers always send one); default none. */
  origin?: string | null;
  /** QUIC idle timeout, default 30 s. */
  idleTimeoutMs?: number;
  /** Share one UDP socket between many clients (load generators). Not closed by this client. */
  endpoint?: QuicEndpoint;
  /** Time allowed for handshake + CONNECT response, default CONNECT_TIMEOUT_MS. */
  connectTimeoutMs?: number;
  /**
   * Close the QUIC connection shortly after the session ends (default true). false behaves like
   * Chromium, which leaves it to the server (tests use it to check the server does so).
   */
  closeConnectionWhenDone?: boolean;
  /**
   * Seeded link simulator on this client's own UDP socket (not with a shared `endpoint`): a
   * netsim spec ("loss=0.05,delay=40") or a LinkConfig; client->server is `up`.
   */
  linkSim?: LinkSimOption;
  linkSimSeed?: number;
}

export interface NodeWebTransportCloseInfo {
  closeCode: number;
  reason: string;
}

export interface NodeWebTransportBidirectionalStream {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/** W3C `WebTransportDatagramDuplexStream` subset. */
export interface NodeWebTransportDatagrams {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  createWritable(): WritableStream<Uint8Array>;
  readonly maxDatagramSize: number;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A WebTransport session from Node. Same surface as the browser's `WebTransport` for: `ready`,
 * `closed`, `draining`, `datagrams`, `createBidirectionalStream`, `createUnidirectionalStream`,
 * `incomingBidirectionalStreams`, `incomingUnidirectionalStreams`, `close`. Extra: `session`
 * (the underlying `WebTransportSession`, once ready) and `maxDatagramSize`.
 */
export class NodeWebTransport {
  readonly ready: Promise<void>;
  readonly closed: Promise<NodeWebTransportCloseInfo>;
  readonly draining: Promise<void>;
  readonly datagrams: NodeWebTransportDatagrams;
  readonly incomingBidirectionalStreams: ReadableStream<NodeWebTransportBidirectionalStream>;
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Uint8Array>>;
  /** Datagrams dropped because the reader did not keep up. */
  datagramsDroppedIncoming = 0;

  private readonly counters = newH3Counters();
  private quicClosed = false;
  private readonly readyD = deferred<void>();
  private readonly closedD = deferred<NodeWebTransportCloseInfo>();
  private readonly drainingD = deferred<void>();
  private sessionRef: WebTransportSession | null = null;
  private h3: H3Connection | null = null;
  private ownedEndpoint: QuicEndpoint | null = null;
  private datagramController: ReadableStreamDefaultController<Uint8Array> | null = null;
  private bidiController: ReadableStreamDefaultController<NodeWebTransportBidirectionalStream> | null = null;
  private uniController: ReadableStreamDefaultController<ReadableStream<Uint8Array>> | null = null;
  private finished = false;
  private pendingClose: NodeWebTransportCloseInfo | null = null;
  /** HTTP status of a refused CONNECT (404, 403, 429, 503, ...); null otherwise. */
  responseStatus: number | null = null;
  /** How the QUIC connection ended (null while it is up). */
  connectionCloseInfo: QuicCloseInfo | null = null;

  constructor(readonly url: string, private readonly options: NodeWebTransportOptions = {}) {
    this.ready = this.readyD.promise;
    this.closed = this.closedD.promise;
    this.draining = this.drainingD.promise;
    // Unobserved rejections must not crash the process (W3C promises are often ignored).
    this.ready.catch(() => undefined);
    this.closed.catch(() => undefined);
    this.datagrams = this.makeDatagrams();
    this.incomingBidirectionalStreams = new ReadableStream<NodeWebTransportBidirectionalStream>({
      start: (c) => {
        this.bidiController = c;
      },
    }, new CountQueuingStrategy({ highWaterMark: INCOMING_STREAM_QUEUE_LIMIT }));
    this.incomingUnidirectionalStreams = new ReadableStream<ReadableStream<Uint8Array>>({
      start: (c) => {
        this.uniController = c;
      },
    }, new CountQueuingStrategy({ highWaterMark: INCOMING_STREAM_QUEUE_LIMIT }));
    void this.start().catch((e: unknown) => this.fail(e instanceof Error ? e : new Error(String(e))));
  }

  /** The underlying session once `ready` resolved (server/h3 API), else null. */
  get session(): WebTransportSession | null {
    return this.sessionRef;
  }

  /** HTTP/3 counters of this client's connection (GOAWAY/DRAIN received, errors, ...). */
  stats(): H3Counters & { connectionClosed: boolean } {
    return { ...structuredClone(this.counters), connectionClosed: this.quicClosed };
  }

  /** Largest datagram payload we may send now (0 before ready). */
  get maxDatagramSize(): number {
    return this.sessionRef?.maxDatagramSize ?? 0;
  }

  /** Opens a bidirectional stream (waits for `ready`). */
  async createBidirectionalStream(): Promise<NodeWebTransportBidirectionalStream> {
    await this.ready;
    const s = this.sessionRef?.openBidiStream();
    if (!s) throw new WebTransportError('cannot open a stream', 'session');
    return bidiPair(s);
  }

  /** Opens a unidirectional (send-only) stream (waits for `ready`). */
  async createUnidirectionalStream(): Promise<WritableStream<Uint8Array>> {
    await this.ready;
    const s = this.sessionRef?.openUniStream();
    if (!s) throw new WebTransportError('cannot open a stream', 'session');
    return toWritable(s);
  }

  /** Closes the session with CLOSE_WEBTRANSPORT_SESSION (code, reason). Idempotent. */
  close(info: { closeCode?: number; reason?: string } = {}): void {
    const closeInfo = { closeCode: (info.closeCode ?? 0) >>> 0, reason: info.reason ?? '' };
    if (this.finished) return;
    if (!this.sessionRef) {
      // W3C: close() before ready aborts the connection attempt.
      this.pendingClose = closeInfo;
      this.fail(new WebTransportError('closed before ready', 'session'));
      return;
    }
    this.sessionRef.close(closeInfo.closeCode, closeInfo.reason);
  }

  private async start(): Promise<void> {
    const u = new URL(this.url);
    if (u.protocol !== 'https:') throw new TypeError(`WebTransport URL must be https: ${this.url}`);
    const hostname = u.hostname.replace(/^\[|\]$/g, '');
    const port = u.port ? Number(u.port) : 443;
    const address = isIP(hostname) ? hostname : hostname === 'localhost' ? '127.0.0.1' : (await lookup(hostname)).address;
    const family = isIP(address);
    const pins = pinnedSha256(this.options.serverCertificateHashes);
    if (!pins && !this.options.caPem && !this.options.allowAnyCertificate) {
      throw new TypeError('NodeWebTransport needs serverCertificateHashes, caPem, or an explicit allowAnyCertificate');
    }
    let endpoint = this.options.endpoint;
    if (!endpoint) {
      const loopback = address.startsWith('127.') || address === '::1';
      const path = this.options.linkSim !== undefined ? createLinkSimPath(this.options.linkSim, 'client', undefined, this.options.linkSimSeed) : undefined;
      endpoint = await QuicEndpoint.bind({ host: loopback ? address.startsWith('127.') ? '127.0.0.1' : '::1' : family === 6 ? '::' : '0.0.0.0', port: 0, path });
      this.ownedEndpoint = endpoint;
    }
    if (this.finished) {
      await this.ownedEndpoint?.close();
      return;
    }
    const config = buildClientConfig({
      alpn: ['h3'],
      idleTimeoutMs: this.options.idleTimeoutMs,
      skipCaVerification: pins !== null || this.options.allowAnyCertificate === true,
      caPem: this.options.caPem,
    });
    const quic = endpoint.connect({ host: address, port }, config, isIP(hostname) ? undefined : hostname);
    const authority = u.port ? `${u.hostname}:${u.port}` : u.hostname;
    const timeout = setTimeout(() => {
      this.fail(new WebTransportError('WebTransport connection timed out', 'session'));
      h3.close();
    }, this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    timeout.unref();
    let connectSent = false;
    const h3: H3Connection = new H3Connection(quic, {
      role: 'client',
      counters: this.counters,
      verifyPeer: () => (pins ? verifyPinned(quic.peerCertChain(), pins) : null),
      closeWhenIdle: this.options.closeConnectionWhenDone ?? true,
      onPeerSettings: (support) => {
        if (connectSent) return;
        connectSent = true;
        if (!(support.draft02 || support.draft07) || !support.datagrams || !support.extendedConnect) {
          this.fail(new WebTransportError('server does not support WebTransport', 'session'));
          h3.close();
          return;
        }
        h3.connect(authority, u.pathname + u.search, this.options.origin ?? null).then(
          (session) => {
            clearTimeout(timeout);
            this.opened(session);
          },
          (err: { status?: number; message: string }) => {
            clearTimeout(timeout);
            this.responseStatus = err.status ?? null;
            this.fail(new WebTransportError(`WebTransport CONNECT failed: ${err.message}`, 'session'));
          },
        ).then(undefined, (e: unknown) => {
          // A throw in the handlers above must not become an unhandled rejection.
          this.fail(new WebTransportError(`WebTransport setup failed: ${String(e)}`, 'session'));
          h3.close();
        });
      },
      onGoaway: () => this.drainingD.resolve(),
      onClosed: (info) => {
        this.quicClosed = true;
        this.connectionCloseInfo = info;
        clearTimeout(timeout);
        const detail = info.reason || `code 0x${info.code.toString(16)}`;
        this.fail(new WebTransportError(`connection closed (${info.byPeer ? 'by peer' : 'locally'}: ${detail})`, 'session'));
        this.ownedEndpoint?.close().catch(() => undefined);
      },
    });
    this.h3 = h3;
  }

  private opened(session: WebTransportSession): void {
    if (this.finished) {
      session.close(this.pendingClose?.closeCode ?? 0, this.pendingClose?.reason ?? '');
      return;
    }
    this.sessionRef = session;
    session.onDatagram = (d) => {
      const c = this.datagramController;
      if (!c) return;
      if ((c.desiredSize ?? 0) <= 0) {
        this.datagramsDroppedIncoming++;
        return;
      }
      c.enqueue(d);
    };
    session.onBidiStream = (s) => {
      const c = this.bidiController;
      if (!c || (c.desiredSize ?? 0) <= 0) {
        s.stopSending(0);
        s.reset(0);
        return;
      }
      c.enqueue(bidiPair(s));
    };
    session.onUniStream = (s) => {
      const c = this.uniController;
      if (!c || (c.desiredSize ?? 0) <= 0) {
        s.stopSending(0);
        return;
      }
      c.enqueue(toReadable(s));
    };
    session.onDrain = () => this.drainingD.resolve();
    session.onClose = (info) => {
      // W3C: `closed` resolves for a session closed by either side (capsule or FIN) and rejects
      // when the connection under it was lost (idle timeout, CONNECTION_CLOSE, ...).
      if (!info.byPeer && info.http3Code !== undefined) {
        // W3C: an aborted session rejects `closed`. We reset the CONNECT stream with an HTTP/3
        // code: H3_INTERNAL_ERROR when a callback on the underlying session threw,
        // H3_MESSAGE_ERROR when the server sent a malformed capsule.
        this.fail(new WebTransportError(`session aborted with ${errorCodeName(info.http3Code)}: ${info.reason}`, 'session'));
      } else if (this.h3?.isClosed) {
        const ci = this.h3.closeInfo;
        const detail = ci ? (ci.timedOut ? 'idle timeout' : ci.reason || `code 0x${ci.code.toString(16)}`) : info.reason;
        this.fail(new WebTransportError(`connection closed (${detail})`, 'session'));
      } else {
        this.sessionClosed({ closeCode: info.code, reason: info.reason });
      }
    };
    if (session.drainReceived) this.drainingD.resolve();
    this.readyD.resolve();
  }

  private sessionClosed(info: NodeWebTransportCloseInfo): void {
    if (this.finished) return;
    this.finished = true;
    this.closeReadables(null);
    this.closedD.resolve(info);
  }

  private fail(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.readyD.reject(error);
    this.closeReadables(error);
    this.closedD.reject(error);
    if (!this.sessionRef) this.h3?.close();
  }

  private closeReadables(error: Error | null): void {
    for (const c of [this.datagramController, this.bidiController, this.uniController]) {
      if (!c) continue;
      try {
        if (error) c.error(error);
        else c.close();
      } catch {
        // already closed or errored
      }
    }
  }

  private makeDatagrams(): NodeWebTransportDatagrams {
    const readable = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.datagramController = c;
      },
    }, new CountQueuingStrategy({ highWaterMark: DATAGRAM_READ_QUEUE_LIMIT }));
    const createWritable = (): WritableStream<Uint8Array> => new WritableStream<Uint8Array>({
      write: async (chunk) => {
        await this.ready;
        // W3C: a datagram that cannot be queued is dropped, not an error.
        this.sessionRef?.sendDatagram(chunk);
      },
    });
    const writable = createWritable();
    const self = this;
    return {
      readable,
      writable,
      createWritable,
      get maxDatagramSize() {
        return self.maxDatagramSize;
      },
    };
  }
}

function bidiPair(s: WebTransportStream): NodeWebTransportBidirectionalStream {
  const readable = toReadable(s);
  const writable = toWritable(s);
  return { readable, writable };
}
