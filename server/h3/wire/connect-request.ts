/**
 * Validation of the extended CONNECT that opens a WebTransport session (RFC 9220 §3, RFC 8441 §4,
 * draft-ietf-webtrans-http3 §3.2) on top of the HTTP/3 message rules (RFC 9114 §4.2, §4.3,
 * §4.3.1): lowercase field names, pseudo-headers first and not repeated, only request
 * pseudo-headers, no connection-specific fields. Malformed requests are H3_MESSAGE_ERROR
 * (RFC 9114 §4.1.2); well-formed requests that are simply not a WebTransport CONNECT are reported
 * separately so the server can answer them with an HTTP status instead of a stream error.
 */
import { H3_MESSAGE_ERROR, wireError, type WireError } from './errors.js';
import type { HeaderField } from './qpack/field-section.js';

/** The request header Chromium and Firefox send when speaking WebTransport draft-02. */
export const DRAFT02_REQUEST_HEADER = 'sec-webtransport-http3-draft02';
/** The response header older Chromium versions required for draft-02 (harmless otherwise). */
export const DRAFT02_RESPONSE_HEADER = 'sec-webtransport-http3-draft';

const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path', ':protocol']);
/** RFC 9114 §4.2: connection-specific fields are malformed in HTTP/3. */
const CONNECTION_SPECIFIC = new Set(['connection', 'proxy-connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

/** A validated WebTransport CONNECT request. */
export interface WebTransportConnectRequest {
  authority: string;
  /** The request target path including any query, e.g. `/game?room=a`. */
  path: string;
  /** The `origin` header, or null when absent (non-browser clients). */
  origin: string | null;
  /** `sec-webtransport-http3-draft02: 1` was present (Chromium default and Firefox). */
  draft02: boolean;
  /** The regular (non-pseudo) header fields, in order. */
  headers: HeaderField[];
}

export type ConnectRequestResult =
  | { status: 'ok'; request: WebTransportConnectRequest }
  /** Well-formed HTTP, but not a WebTransport extended CONNECT: answer with an HTTP status (e.g. 400 or 501). */
  | { status: 'not-webtransport'; method: string; protocol: string | null; detail: string }
  | WireError;

/** RFC 9110 §5.6.2 tchar, lowercase only (RFC 9114 §4.2: uppercase names are malformed). */
function isValidFieldName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok =
      (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) ||
      c === 0x21 || (c >= 0x23 && c <= 0x27) || c === 0x2a || c === 0x2b || c === 0x2d || c === 0x2e ||
      c === 0x5e || c === 0x5f || c === 0x60 || c === 0x7c || c === 0x7e;
    if (!ok) return false;
  }
  return true;
}

/** RFC 9110 §5.5: NUL, CR and LF are never valid in a field value. */
function isValidFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d) return false;
  }
  return true;
}

interface SplitHeaders {
  pseudo: Map<string, string>;
  regular: HeaderField[];
}

/** Applies the field rules common to requests and responses; `allowedPseudo` lists the legal pseudo-headers. */
function splitHeaders(fields: readonly HeaderField[], allowedPseudo: ReadonlySet<string>): SplitHeaders | WireError {
  const pseudo = new Map<string, string>();
  const regular: HeaderField[] = [];
  for (const [name, value] of fields) {
    if (!isValidFieldValue(value)) return wireError(H3_MESSAGE_ERROR, `invalid characters in the value of ${JSON.stringify(name)}`);
    if (name.startsWith(':')) {
      if (regular.length > 0) return wireError(H3_MESSAGE_ERROR, `pseudo-header ${name} after a regular field (RFC 9114 §4.3)`);
      if (!allowedPseudo.has(name)) return wireError(H3_MESSAGE_ERROR, `pseudo-header ${name} not allowed here (RFC 9114 §4.3)`);
      if (pseudo.has(name)) return wireError(H3_MESSAGE_ERROR, `duplicate pseudo-header ${name} (RFC 9114 §4.3)`);
      pseudo.set(name, value);
      continue;
    }
    if (!isValidFieldName(name)) return wireError(H3_MESSAGE_ERROR, `invalid field name ${JSON.stringify(name)} (RFC 9114 §4.2)`);
    if (CONNECTION_SPECIFIC.has(name)) return wireError(H3_MESSAGE_ERROR, `connection-specific field ${name} (RFC 9114 §4.2)`);
    if (name === 'te' && value !== 'trailers') return wireError(H3_MESSAGE_ERROR, 'te other than "trailers" (RFC 9114 §4.2)');
    regular.push([name, value]);
  }
  return { pseudo, regular };
}

/**
 * Validates a decoded request header list as a WebTransport extended CONNECT. Never throws.
 * `ok` needs: :method CONNECT, :protocol webtransport, :scheme https, a non-empty :authority
 * without userinfo, a :path starting with '/'.
 */
export function validateConnectRequest(fields: readonly HeaderField[]): ConnectRequestResult {
  const split = splitHeaders(fields, REQUEST_PSEUDO);
  if ('status' in split) return split;
  const { pseudo, regular } = split;
  const method = pseudo.get(':method');
  const protocol = pseudo.get(':protocol') ?? null;
  const scheme = pseudo.get(':scheme');
  const authority = pseudo.get(':authority');
  const path = pseudo.get(':path');
  if (method === undefined || method === '') return wireError(H3_MESSAGE_ERROR, 'missing :method (RFC 9114 §4.3.1)');
  if (authority !== undefined && authority.includes('@')) return wireError(H3_MESSAGE_ERROR, ':authority with userinfo (RFC 9114 §4.3.1)');
  const host = regular.find(([n]) => n === 'host');
  if (host && authority !== undefined && host[1] !== authority) return wireError(H3_MESSAGE_ERROR, 'host differs from :authority (RFC 9114 §4.3.1)');

  if (protocol !== null) {
    // Extended CONNECT (RFC 8441 §4 via RFC 9220 §3): :protocol only with CONNECT, and then
    // :scheme, :path and :authority are all required.
    if (method !== 'CONNECT') return wireError(H3_MESSAGE_ERROR, ':protocol on a non-CONNECT request (RFC 9220 §3)');
    if (!scheme) return wireError(H3_MESSAGE_ERROR, 'extended CONNECT without :scheme (RFC 9220 §3)');
    if (!path) return wireError(H3_MESSAGE_ERROR, 'extended CONNECT without :path (RFC 9220 §3)');
    if (!authority) return wireError(H3_MESSAGE_ERROR, 'extended CONNECT without :authority (RFC 9114 §4.4)');
  } else if (method === 'CONNECT') {
    // Classic CONNECT (RFC 9114 §4.4): only :method and :authority.
    if (scheme !== undefined || path !== undefined) return wireError(H3_MESSAGE_ERROR, 'CONNECT with :scheme or :path but no :protocol (RFC 9114 §4.4)');
    if (!authority) return wireError(H3_MESSAGE_ERROR, 'CONNECT without :authority (RFC 9114 §4.4)');
    return { status: 'not-webtransport', method, protocol, detail: 'classic CONNECT' };
  } else {
    // Ordinary request (RFC 9114 §4.3.1): :scheme and a non-empty :path are required.
    if (!scheme || !path) return wireError(H3_MESSAGE_ERROR, 'request without :scheme or :path (RFC 9114 §4.3.1)');
    return { status: 'not-webtransport', method, protocol, detail: `${method} request` };
  }

  if (protocol !== 'webtransport') return { status: 'not-webtransport', method, protocol, detail: `:protocol ${protocol}` };
  if (scheme !== 'https') return { status: 'not-webtransport', method, protocol, detail: `:scheme ${scheme}` };
  if (!path.startsWith('/')) return wireError(H3_MESSAGE_ERROR, ':path must be an absolute path (RFC 9114 §4.3.1)');

  const origins = regular.filter(([n]) => n === 'origin');
  if (origins.length > 1) return wireError(H3_MESSAGE_ERROR, 'more than one origin header');
  const draft02 = regular.some(([n, v]) => n === DRAFT02_REQUEST_HEADER && v === '1');
  return {
    status: 'ok',
    request: { authority, path, origin: origins.length === 1 ? origins[0][1] : null, draft02, headers: regular },
  };
}

/** Options for the Node client's CONNECT request. */
export interface ConnectRequestOptions {
  authority: string;
  path: string;
  origin?: string;
  /** Send `sec-webtransport-http3-draft02: 1` (default true, as browsers do). */
  draft02?: boolean;
}

/** The header list of a WebTransport CONNECT request, in the order browsers send it. */
export function buildConnectRequestHeaders(o: ConnectRequestOptions): HeaderField[] {
  const h: HeaderField[] = [
    [':method', 'CONNECT'],
    [':protocol', 'webtransport'],
    [':scheme', 'https'],
    [':authority', o.authority],
    [':path', o.path],
  ];
  if (o.draft02 ?? true) h.push([DRAFT02_REQUEST_HEADER, '1']);
  if (o.origin !== undefined) h.push(['origin', o.origin]);
  return h;
}

/** The header list of a CONNECT response; for 2xx with draft-02 it adds `sec-webtransport-http3-draft: draft02`. */
export function buildConnectResponseHeaders(status: number, options: { draft02?: boolean } = {}): HeaderField[] {
  if (!Number.isInteger(status) || status < 100 || status > 599) throw new RangeError(`invalid HTTP status ${status}`);
  const h: HeaderField[] = [[':status', String(status)]];
  if (options.draft02 && status >= 200 && status < 300) h.push([DRAFT02_RESPONSE_HEADER, 'draft02']);
  return h;
}

export type ConnectResponseResult =
  | { status: 'ok'; statusCode: number; headers: HeaderField[] }
  | WireError;

/**
 * Validates a response header list (client role): exactly one :status of three digits, first,
 * and no other pseudo-header (RFC 9114 §4.3.2). The caller treats 1xx as interim and 2xx as
 * session established. Never throws.
 */
export function validateConnectResponse(fields: readonly HeaderField[]): ConnectResponseResult {
  const split = splitHeaders(fields, new Set([':status']));
  if ('status' in split) return split;
  const s = split.pseudo.get(':status');
  if (s === undefined || !/^[1-5][0-9][0-9]$/.test(s)) return wireError(H3_MESSAGE_ERROR, `missing or invalid :status ${JSON.stringify(s)} (RFC 9114 §4.3.2)`);
  return { status: 'ok', statusCode: Number(s), headers: split.regular };
}
