/**
 * Standard-scene players for the benchmark's client processes: the real GameClient (client/net,
 * the code the browser runs) over `ws` or server/h3's NodeWebTransport, sending an input with a
 * fresh random direction at every input tick (20 Hz, DESIGN.md "The standard scene").
 */
import WebSocket from 'ws';
import { GameClient } from '../../client/net/game-client.js';
import type { FetchLike, WebSocketConstructor, WebTransportConstructor } from '../../client/net/transport-types.js';
import { mintDevTicket } from '../../server/bots/bot-fleet.js';
import { NodeWebTransportConstructor } from '../../server/bots/node-webtransport.js';
import { NodeWebTransport, QuicEndpoint, type NodeWebTransportOptions } from '../../server/h3/index.js';
import type { BenchTransport } from './report.js';

/** Epoch-based clock, the one the server stamps snapshots with (server/clock.ts). */
export const epochNow = (): number => performance.timeOrigin + performance.now();

/** Inputs per second per client (DESIGN.md). */
export const INPUT_HZ = 20;

export interface BenchClientOptions {
  baseUrl: string;
  transport: BenchTransport;
  name: string;
  /** Constructor for WebSockets (lets the observer count wire bytes). Default `ws`. */
  WebSocket?: WebSocketConstructor;
  WebTransport?: WebTransportConstructor;
}

/**
 * A GameClient that walks in a new uniformly random direction (each component uniform in
 * [-1, 1], as the Colyseus peer does) with every input it sends.
 */
export function createBenchClient(o: BenchClientOptions): GameClient {
  const fetchImpl = globalThis.fetch.bind(globalThis) as FetchLike;
  const client = new GameClient({
    baseUrl: o.baseUrl,
    ticket: () => mintDevTicket(fetchImpl, o.baseUrl, o.name),
    transport: o.transport,
    WebSocket: o.WebSocket ?? (WebSocket as unknown as WebSocketConstructor),
    WebTransport: o.WebTransport,
    fetch: fetchImpl,
    now: epochNow,
    inputHz: INPUT_HZ,
  });
  const turn = () => client.setInput(Math.random() * 2 - 1, Math.random() * 2 - 1);
  turn();
  // The 'input' event follows each sent input: pick the direction of the next one.
  client.on('input', turn);
  return client;
}

/** The WebTransport constructor for WebTransport runs (server/h3's NodeWebTransport). */
export async function webTransportFor(
  transport: BenchTransport,
  options: { shareEndpoint?: boolean } = {},
): Promise<WebTransportConstructor | undefined> {
  if (transport !== 'webtransport') return undefined;
  if (!options.shareEndpoint) return NodeWebTransportConstructor;
  // A load process puts all its clients on one UDP socket (one QuicEndpoint, routing by
  // connection id): hundreds of sockets, each with its own receive handler and per-turn flush,
  // cost the load generator about as much CPU as the server it is meant to load.
  const endpoint = await QuicEndpoint.bind({ host: '127.0.0.1', port: 0 });
  return class SharedEndpointWebTransport extends NodeWebTransport {
    constructor(url: string, init?: NodeWebTransportOptions) {
      super(url, { ...init, endpoint });
    }
  } as unknown as WebTransportConstructor;
}

/** Parses `--name value` pairs of an entry script's argv. */
export function argMap(argv: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < argv.length; i += 2) {
    if (argv[i].startsWith('--')) m.set(argv[i].slice(2), argv[i + 1]);
  }
  return m;
}

export function transportArg(raw: string | undefined): BenchTransport {
  if (raw === 'webtransport' || raw === 'websocket') return raw;
  throw new Error(`--transport must be webtransport or websocket, got ${raw}`);
}

/** Resolves `p`, or rejects after `ms` with `what` in the message. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]);
}
