/**
 * Which web origins may open a session: the `Origin` of a WebSocket upgrade (RFC 6455 §4.2.1,
 * §10.2) and of a WebTransport CONNECT (draft-ietf-webtrans-http3 §3.2; server/h3 checks it
 * against the same list). A browser always sends the page's origin, so the list keeps other
 * sites' pages from using a visitor's browser to join; non-browser clients choose what they
 * send, and with a list in force must send an allowed one (the bots send the server's own).
 */
import { hostname, networkInterfaces } from 'node:os';

/**
 * The option: a list of origins (`https://game.example`), `'self'` for this server's own HTTP
 * origin(s) once its port is known (the demo's setting), or null for any origin, or none.
 */
export type AllowedOrigins = readonly string[] | 'self' | null;

/** `scheme://host[:port]` as a browser serialises it (lower case, default port left out). */
export function normalizeOrigin(origin: string): string | null {
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return u.origin;
  } catch {
    return null;
  }
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
const WILDCARD = new Set(['0.0.0.0', '::', '']);

/**
 * The origins a page served by this server's HTTP listener has: `http://<host>:<port>` for the
 * bound host; for a loopback host also `localhost`, `127.0.0.1` and `[::1]`; for a wildcard
 * bind (0.0.0.0, ::) every local interface address and the machine's host name as well. A DNS
 * name or a TLS proxy in front needs its origin listed explicitly.
 */
export function selfOrigins(host: string, port: number): string[] {
  const hosts = new Set<string>([host]);
  if (LOOPBACK.has(host) || WILDCARD.has(host)) for (const h of LOOPBACK) hosts.add(h);
  if (WILDCARD.has(host)) {
    hosts.add(hostname());
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) hosts.add(a.address);
  }
  const out = new Set<string>();
  for (const h of hosts) {
    if (WILDCARD.has(h)) continue;
    const origin = normalizeOrigin(`http://${h.includes(':') ? `[${h.replace(/%.*$/, '')}]` : h}:${port}`);
    if (origin) out.add(origin);
  }
  return [...out];
}

/** The allowed set for `option` (null = any), `'self'` resolved with the HTTP listener's address. */
export function resolveAllowedOrigins(option: AllowedOrigins | undefined, host: string, httpPort: number): string[] | null {
  if (option === null || option === undefined) return null;
  const list = option === 'self' ? selfOrigins(host, httpPort) : option;
  const out = new Set<string>();
  for (const o of list) {
    const n = normalizeOrigin(o);
    if (!n) throw new RangeError(`allowedOrigins: not an http(s) origin: ${o}`);
    out.add(n);
  }
  return [...out];
}

/** True when `origin` (the header, possibly absent) may open a session under `allowed`. */
export function originAllowed(allowed: ReadonlySet<string> | null, origin: string | undefined): boolean {
  if (allowed === null) return true;
  if (origin === undefined) return false;
  return allowed.has(origin) || allowed.has(normalizeOrigin(origin) ?? '');
}
