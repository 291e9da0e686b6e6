/**
 * The read-only view of a `WebTransportServer` that the embedding API hands out
 * (`GameServer.webTransport`): its address, counters and kernel drops. The server itself
 * (`onSession`, `drain`, `close`) belongs to its owner, which wires sessions into the game and
 * shuts it down; an embedder replacing `onSession` would detach every new player.
 */
import type { WebTransportServer, WebTransportServerStats } from './server.js';

/** What an embedder may read of the WebTransport server. */
export interface WebTransportServerView {
  /** The bound UDP address. */
  address(): { host: string; port: number } | null;
  /** Sessions open now. */
  readonly sessionCount: number;
  /** True once the server drains (GameServer.drain). */
  readonly isDraining: boolean;
  /** Counters of the endpoint, the HTTP/3 layer and the datagrams (a fresh copy each call). */
  stats(): WebTransportServerStats;
  /** Kernel drops at the UDP socket; null when unknown. */
  udpSocketDrops(): number | null;
  /** Monotonic refusal totals by layer and reason (WebTransportServer.refusals). */
  refusals(): ReturnType<WebTransportServer['refusals']>;
}

/** The view of `wt`: it follows the live server, and offers nothing that changes it. */
export function webTransportServerView(wt: WebTransportServer): WebTransportServerView {
  return Object.freeze({
    address: () => wt.address(),
    get sessionCount() { return wt.sessionCount; },
    get isDraining() { return wt.isDraining; },
    stats: () => wt.stats(),
    udpSocketDrops: () => wt.udpSocketDrops(),
    refusals: () => wt.refusals(),
  });
}
