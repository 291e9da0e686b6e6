import { CONNECT_INFO_PATH, WEBSOCKET_PATH, type ConnectInfo } from '../../shared/connect-info.js';
import type { CertificateHash, FetchLike } from './transport-types.js';

export type { ConnectInfo };

/** Time allowed for the connect-info request. */
export const CONNECT_INFO_TIMEOUT_MS = 5_000;

/** Fetches and validates connect-info; throws an Error with a plain message on any problem. */
export async function fetchConnectInfo(fetchImpl: FetchLike, baseUrl: string, timeoutMs = CONNECT_INFO_TIMEOUT_MS): Promise<ConnectInfo> {
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  const timer = controller ? setTimeout(() => controller.abort(), timeoutMs) : null;
  try {
    const res = await fetchImpl(new URL(CONNECT_INFO_PATH, baseUrl).toString(), { signal: controller?.signal });
    if (!res.ok) throw new Error(`connect-info: HTTP ${res.status}`);
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
  return { protocolVersion, webTransportUrl, certificateHashes: hashes, webSocketPath };
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
