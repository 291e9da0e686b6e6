/**
 * Where `/metrics` is served, and to whom. The Prometheus text shows runtime details (sessions,
 * refusals, process figures) that a public game port need not hand to anyone: by default it is
 * on the public port only for dev servers (the demo), and otherwise on a listener of its own or
 * behind a bearer token, as configured.
 */
import { createServer, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { GameMetrics } from '../metrics.js';

export interface MetricsEndpointOptions {
  /**
   * Serve `/metrics` on a listener of its own at this port (0 = any free port) instead of the
   * public HTTP port: scrapers reach it on an internal interface, players never do.
   */
  port?: number;
  /** Interface of that listener (default 127.0.0.1). */
  host?: string;
  /** Require `Authorization: Bearer <token>` wherever `/metrics` is served. */
  token?: string;
  /**
   * Serve `/metrics` on the public HTTP port (default: only with `devTickets`, i.e. the demo).
   * Implied by `token` when no `port` is given.
   */
  public?: boolean;
}

/** Where `/metrics` ends up for the given options. */
export type MetricsPlacement =
  | { where: 'public'; token: string | null }
  | { where: 'own'; port: number; host: string; token: string | null }
  | { where: 'off' };

/** Resolves the options: a port means its own listener; else a token or `public` means the public port. */
export function placeMetrics(options: MetricsEndpointOptions | undefined, devServer: boolean): MetricsPlacement {
  const token = options?.token ?? null;
  if (token !== null && token.length < 16) throw new RangeError('metrics token must be at least 16 characters');
  if (options?.port !== undefined) return { where: 'own', port: options.port, host: options.host ?? '127.0.0.1', token };
  if (token !== null || (options?.public ?? devServer)) return { where: 'public', token };
  return { where: 'off' };
}

/** True when the request's Authorization header carries `token` (constant-time compare); no token = open. */
export function metricsAuthorized(authorization: string | undefined, token: string | null): boolean {
  if (token === null) return true;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1], 'utf8');
  const want = Buffer.from(token, 'utf8');
  return given.length === want.length && timingSafeEqual(given, want);
}

/** The small listener of `{ where: 'own' }`: GET /metrics and nothing else. */
export async function startMetricsListener(metrics: GameMetrics, o: { port: number; host: string; token: string | null }): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    if (!metricsAuthorized(req.headers.authorization, o.token)) {
      metrics.refuse('http', 'metrics_unauthorized');
      res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
      return;
    }
    metrics.text().then((text) => {
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
    }, () => res.writeHead(500).end());
  });
  // A scraper keeps one connection; nothing else should hold sockets open here.
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
