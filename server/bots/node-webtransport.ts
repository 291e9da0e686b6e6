/**
 * The Node WebTransport client (server/h3/client) typed as the constructor client/net expects.
 * The assignment below is the compile-time proof that NodeWebTransport offers the subset of the
 * W3C interface GameClient uses.
 */
import { NodeWebTransport, type NodeWebTransportOptions } from '../h3/client/node-webtransport.js';
import type { WebTransportConstructor } from '../../client/net/transport-types.js';

export const NodeWebTransportConstructor: WebTransportConstructor = NodeWebTransport;

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
  };
}
