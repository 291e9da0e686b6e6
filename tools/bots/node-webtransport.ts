/**
 * The Node WebTransport client (server/h3/client, beside the server role by design: DESIGN.md)
 * typed as the constructor client/net expects. The assignment below is the compile-time proof
 * that NodeWebTransport offers the subset of the W3C interface GameClient uses.
 */
import { NodeWebTransport, QuicEndpoint, type NodeWebTransportOptions } from '../../server/h3/index.js';
import type { WebTransportConstructor } from '../../client/net/transport-types.js';

export const NodeWebTransportConstructor: WebTransportConstructor = NodeWebTransport;

/**
 * A constructor whose sessions all share one UDP socket (one QuicEndpoint, routing by connection
 * id), for a process that runs hundreds of clients: hundreds of sockets, each with its own
 * receive handler and per-turn flush, cost a load generator about as much CPU as the server it
 * is meant to load.
 */
export async function sharedEndpointWebTransport(host = '127.0.0.1'): Promise<WebTransportConstructor> {
  const endpoint = await QuicEndpoint.bind({ host, port: 0 });
  return class SharedEndpointWebTransport extends NodeWebTransport {
    constructor(url: string, init?: NodeWebTransportOptions) {
      super(url, { ...init, endpoint });
    }
  } as unknown as WebTransportConstructor;
}

/**
 * The same client sending `origin` on its CONNECT, as a browser on that page would: a server
 * that allows only certain origins (`allowedOrigins`, the demo's 'self') refuses a CONNECT
 * naming none.
 */
export function nodeWebTransportWithOrigin(origin: string): WebTransportConstructor {
  return class OriginWebTransport extends NodeWebTransport {
    constructor(url: string, options: NodeWebTransportOptions = {}) {
      super(url, { ...options, origin });
    }
  } as unknown as WebTransportConstructor;
}
