/**
 * Clients that send from one local address of the soak's choosing. The server keeps its limits
 * per address (server/address.ts: pending hellos, dev-ticket minting, the shared chat limit; the
 * QUIC endpoint's handshake caps), so the soak gives every honest bot an address of its own, as
 * players on the internet have, and every attack the addresses it is allowed to burn: the
 * limits then work as they would in production instead of being lifted for a load generator.
 *
 * On loopback any 127.0.0.0/8 address is local on Linux; inside the soak's network namespace the
 * addresses are the bot end's own (network.ts adds them).
 */
import dgram from 'node:dgram';
import { request } from 'node:http';
import WebSocket from 'ws';
import type { FetchLike, WebSocketConstructor, WebTransportConstructor } from '../../client/net/transport-types.js';
import { NodeWebTransport, QuicEndpoint, type NodeWebTransportOptions } from '../../server/h3/index.js';

/** Longest an HTTP request of a bot may take (dev ticket, connect-info) before it fails. */
export const BOUND_FETCH_TIMEOUT_MS = 10_000;
/** Largest response body a bound fetch reads (the dev ticket and connect-info are < 1 KiB). */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** A bound fetch's answer: what FetchLike needs, and the headers (Retry-After, say). */
export interface BoundResponse extends Awaited<ReturnType<FetchLike>> {
  headers: { get(name: string): string | null };
}

/** `fetch` (the subset client/net uses) over node:http from `localAddress`, no keep-alive. */
export function boundFetch(localAddress: string): (...args: Parameters<FetchLike>) => Promise<BoundResponse> {
  return (url, init = {}) => new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port,
      path: `${u.pathname}${u.search}`,
      method: init.method ?? 'GET',
      headers: { ...init.headers, connection: 'close' },
      localAddress,
      timeout: BOUND_FETCH_TIMEOUT_MS,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) req.destroy(new Error('response too large'));
        else chunks.push(c);
      });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        const header = (name: string) => {
          const v = res.headers[name.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
        };
        resolve({ ok: status >= 200 && status < 300, status, headers: { get: header }, json: async () => JSON.parse(text) as unknown });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`HTTP request timed out after ${BOUND_FETCH_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    init.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')));
    if (init.body !== undefined) req.end(init.body);
    else req.end();
  });
}

/** The `ws` WebSocket sending from `localAddress` with `origin` (a browser on that page). */
export function boundWebSocket(localAddress: string, origin: string, onCreate?: (ws: WebSocket) => void): WebSocketConstructor {
  return class BoundWebSocket extends WebSocket {
    constructor(url: string) {
      super(url, { localAddress, origin });
      onCreate?.(this);
    }
  } as unknown as WebSocketConstructor;
}

/**
 * NodeWebTransport over `endpoint` (a QuicEndpoint bound to the bot's address, shared by its
 * reconnects and closed by the caller), sending `origin` on its CONNECT.
 */
export function boundWebTransport(endpoint: QuicEndpoint, origin: string, onCreate?: (wt: NodeWebTransport) => void): WebTransportConstructor {
  return class BoundWebTransport extends NodeWebTransport {
    constructor(url: string, options: NodeWebTransportOptions = {}) {
      super(url, { ...options, endpoint, origin });
      onCreate?.(this);
    }
  } as unknown as WebTransportConstructor;
}

/** A QUIC endpoint (one UDP socket) bound to `localAddress`. */
export function bindEndpoint(localAddress: string): Promise<QuicEndpoint> {
  return QuicEndpoint.bind({ host: localAddress, port: 0 });
}

/** QUIC endpoints bound per local address on first use (bindEndpoint), closed together. */
export class EndpointsByAddress {
  private readonly bound = new Map<string, Promise<QuicEndpoint>>();

  /** The endpoint of `localAddress`, bound now if it is the first use. */
  get(localAddress: string): Promise<QuicEndpoint> {
    let e = this.bound.get(localAddress);
    if (!e) {
      e = bindEndpoint(localAddress);
      this.bound.set(localAddress, e);
    }
    return e;
  }

  /** Closes every endpoint bound so far (an error closing one is passed over). */
  async closeAll(): Promise<void> {
    for (const e of this.bound.values()) await (await e).close().catch(() => undefined);
    this.bound.clear();
  }
}

/** A plain UDP socket bound to `localAddress` on a free port (udp6 for an IPv6 address). */
export function bindUdpSocket(localAddress: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type: localAddress.includes(':') ? 'udp6' : 'udp4' });
    s.once('error', reject);
    s.bind(0, localAddress, () => resolve(s));
  });
}
