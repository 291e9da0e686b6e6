import { CONNECT_INFO_PATH, WEBSOCKET_PATH, type ConnectInfo } from '../../shared/connect-info.js';
import type { CertificateHash, FetchLike } from './transport-types.js';

export type { ConnectInfo };

/** Entry points a connect-info answer may list as alternates (a bound on what we keep). */
export const MAX_ALTERNATES = 8;

/**
 * connect-info refused (HTTP 503 from a busy node or a cluster that cannot place the room now,
 * 409 full, 404 unknown room...): `status` and the wait the server asked for (Retry-After).
 */
export class ConnectInfoError extends Error {
  constructor(message: string, readonly status: number, readonly retryAfterMs: number, readonly code: number | null) {
    super(message);
  }
}

/** Time allowed for the connect-info request. */
export const CONNECT_INFO_TIMEOUT_MS = 5_000;

/** Fetches and validates connect-info; throws an Error with a plain message on any problem. */
/**
 * `ticket`: sent as a query parameter so a cluster node answers with the node that runs the
 * ticket's room (a single server ignores it).
 */
export async function fetchConnectInfo(fetchImpl: FetchLike, baseUrl: string, timeoutMs = CONNECT_INFO_TIMEOUT_MS, ticket?: string): Promise<ConnectInfo> {
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  const timer = controller ? setTimeout(() => controller.abort(), timeoutMs) : null;
  try {
    const url = new URL(CONNECT_INFO_PATH, baseUrl);
    if (ticket !== undefined) url.searchParams.set('ticket', ticket);
    const res = await fetchImpl(url.toString(), { signal: controller?.signal });
    if (!res.ok) {
      let body: Record<string, unknown> = {};
      try {
        const json = await res.json();
        if (typeof json === 'object' && json !== null) body = json as Record<string, unknown>;
      } catch {
        // not JSON: the status says enough
      }
      const ms = typeof body.retryAfterMs === 'number' && Number.isFinite(body.retryAfterMs) && body.retryAfterMs > 0 ? body.retryAfterMs : 0;
      const code = typeof body.code === 'number' ? body.code : null;
      throw new ConnectInfoError(`connect-info: HTTP ${res.status}`, res.status, ms, code);
    }
    return parseConnectInfo(await res.json());
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
}

/** Validates the JSON shape; unknown fields are ignored. */
export function parseConnectInfo(json: unknown): ConnectInfo {
  if (typeof json !== 'object' || json === null) throw new Error('connect-info: not an object');
  const o = json as Record<string, unknown>;
  const protocolVersion = o.protocolVersion;
  if (typeof protocolVersion !== 'number' || !Number.isInteger(protocolVersion)) {
    throw new Error('connect-info: protocolVersion missing');
  }
  const wt = o.webTransportUrl;
  const webTransportUrl = typeof wt === 'string' && wt.length > 0 ? wt : null;
  const hashes = Array.isArray(o.certificateHashes) ? o.certificateHashes.filter((h): h is string => typeof h === 'string') : [];
  const webSocketPath = typeof o.webSocketPath === 'string' && o.webSocketPath.startsWith('/') ? o.webSocketPath : WEBSOCKET_PATH;
  const info: ConnectInfo = { protocolVersion, webTransportUrl, certificateHashes: hashes, webSocketPath };
  if (typeof o.webSocketUrl === 'string' && /^wss?:\/\//.test(o.webSocketUrl)) info.webSocketUrl = o.webSocketUrl;
  if (typeof o.nodeId === 'string' && o.nodeId.length > 0) info.nodeId = o.nodeId;
  if (typeof o.httpUrl === 'string' && /^https?:\/\//.test(o.httpUrl)) info.httpUrl = o.httpUrl;
  if (Array.isArray(o.alternates)) {
    info.alternates = o.alternates.filter((u): u is string => typeof u === 'string' && /^https?:\/\//.test(u)).slice(0, MAX_ALTERNATES);
  }
  return info;
}

/** Base64 (standard alphabet) to bytes, without Node's Buffer (this runs in the browser). */
export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The `serverCertificateHashes` option built from connect-info (W3C WebTransport §6.2). */
export function certificateHashesFrom(info: ConnectInfo): CertificateHash[] {
  const out: CertificateHash[] = [];
  for (const h of info.certificateHashes) {
    try {
      const value = base64ToBytes(h);
      if (value.byteLength === 32) out.push({ algorithm: 'sha-256', value });
    } catch {
      // not base64: skip it; the session will fail verification and fall back
    }
  }
  return out;
}

/** `ws://host/ws` from `http://host` (and wss from https). */
export function webSocketUrl(baseUrl: string, path: string): string {
  const url = new URL(path, baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}
