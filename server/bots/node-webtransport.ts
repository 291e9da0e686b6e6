/**
 * The Node WebTransport client (server/h3/client) typed as the constructor client/net expects.
 * The assignment below is the compile-time proof that NodeWebTransport offers the subset of the
 * W3C interface GameClient uses.
 */
import { NodeWebTransport } from '../h3/client/node-webtransport.js';
import type { WebTransportConstructor } from '../../client/net/transport-types.js';

export const NodeWebTransportConstructor: WebTransportConstructor = NodeWebTransport;

