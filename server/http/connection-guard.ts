/**
 * Limits on the TCP connections of the public HTTP port (WebSockets included), against a
 * slowloris: one address holding hundreds of connections that never finish a request, or never
 * send a byte, takes file descriptors and socket buffers from everyone (found by the soak's
 * idle-tcp attack, bench/soak/attacks/idle-tcp.ts).
 *
 * - A share per address (server/address.ts: IPv4 address, IPv6 /64): connections over it are
 *   destroyed as they arrive, before any byte is read, and counted (`http connections_per_address`).
 * - Time limits on a request in progress: node's `headersTimeout` and `requestTimeout` also cover
 *   a connection that sent nothing yet, and answer 408 (checked every
 *   `connectionsCheckingInterval`, 30 s by default). An upgraded WebSocket leaves node's HTTP
 *   tracking, so these never cut a game session.
 */
import type { Server, Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { addressKey } from '../address.js';

/**
 * TCP connections one address may hold open at once on the HTTP port. A browser opens a handful
 * (page, assets, connect-info, one WebSocket); many players behind one NAT each add one
 * WebSocket; a flood of idle connections from one address stops here.
 */
export const MAX_HTTP_CONNECTIONS_PER_ADDRESS = 128;
/** A request's headers must be complete within this (node's default is 60 s). */
export const HTTP_HEADERS_TIMEOUT_MS = 15_000;
/** A whole request (headers and body; bodies are at most 4 KiB) within this (node's default is 300 s). */
export const HTTP_REQUEST_TIMEOUT_MS = 20_000;

/** Applies the limits to `server`; `onRefused` counts a connection refused for its address. */
export function guardHttpConnections(server: HttpServer, onRefused: () => void, maxPerAddress = MAX_HTTP_CONNECTIONS_PER_ADDRESS): void {
  server.headersTimeout = HTTP_HEADERS_TIMEOUT_MS;
  server.requestTimeout = HTTP_REQUEST_TIMEOUT_MS;
  /**
   * Open connections per address key; an entry goes when its last connection closes, so it holds
   * at most one entry per open socket (bounded by the process's file descriptors).
   */
  const open = new Map<string, number>();
  (server as Server).on('connection', (socket: Socket) => {
    const key = addressKey(socket.remoteAddress ?? '');
    const mine = open.get(key) ?? 0;
    if (mine >= maxPerAddress) {
      onRefused();
      socket.destroy();
      return;
    }
    open.set(key, mine + 1);
    socket.once('close', () => {
      const n = (open.get(key) ?? 1) - 1;
      if (n <= 0) open.delete(key);
      else open.set(key, n);
    });
  });
}
