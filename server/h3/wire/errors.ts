/**
 * Error codes of the HTTP/3 layer: HTTP/3 (RFC 9114 §8.1), HTTP Datagrams (RFC 9297 §5.2), QPACK
 * (RFC 9204 §6) and WebTransport over HTTP/3 (draft-ietf-webtrans-http3, IANA considerations),
 * plus the mapping of 32-bit WebTransport application error codes into the HTTP/3 error space
 * (draft-ietf-webtrans-http3 §4.3 "Resetting Data Streams"). This module imports nothing of the
 * game; game close codes live in shared/errors.ts.
 */

/** HTTP/3 error codes, RFC 9114 §8.1. */
export const H3_NO_ERROR = 0x100;
export const H3_GENERAL_PROTOCOL_ERROR = 0x101;
export const H3_INTERNAL_ERROR = 0x102;
export const H3_STREAM_CREATION_ERROR = 0x103;
export const H3_CLOSED_CRITICAL_STREAM = 0x104;
export const H3_FRAME_UNEXPECTED = 0x105;
export const H3_FRAME_ERROR = 0x106;
export const H3_EXCESSIVE_LOAD = 0x107;
export const H3_ID_ERROR = 0x108;
export const H3_SETTINGS_ERROR = 0x109;
export const H3_MISSING_SETTINGS = 0x10a;
export const H3_REQUEST_REJECTED = 0x10b;
export const H3_REQUEST_CANCELLED = 0x10c;
export const H3_REQUEST_INCOMPLETE = 0x10d;
export const H3_MESSAGE_ERROR = 0x10e;
export const H3_CONNECT_ERROR = 0x10f;
export const H3_VERSION_FALLBACK = 0x110;
/** RFC 9297 §5.2: malformed HTTP datagram (e.g. a Quarter Stream ID >= 2^60). */
export const H3_DATAGRAM_ERROR = 0x33;

/** QPACK error codes, RFC 9204 §6. */
export const QPACK_DECOMPRESSION_FAILED = 0x200;
export const QPACK_ENCODER_STREAM_ERROR = 0x201;
export const QPACK_DECODER_STREAM_ERROR = 0x202;

/** WebTransport over HTTP/3 error codes (draft-ietf-webtrans-http3, "HTTP/3 Error Code Registration"). */
/** A stream named a session that does not exist (yet) and could not be buffered. */
export const WT_BUFFERED_STREAM_REJECTED = 0x3994bd84;
/** A stream of a session that has ended; also "no longer reading the CONNECT stream". */
export const WT_SESSION_GONE = 0x170d7b68;
/** A session closed because an invalid capsule arrived on it. */
export const WT_INVALID_CAPSULE = 0x0d189ed4;

/** First and last HTTP/3 code of the WT_APPLICATION_ERROR range (draft-ietf-webtrans-http3 §4.3). */
export const WT_APPLICATION_ERROR_FIRST = 0x52e4a40fa8db;
export const WT_APPLICATION_ERROR_LAST = 0x52e5ac983162;
/** Largest WebTransport application error code (32 bits). */
export const WT_APPLICATION_CODE_MAX = 0xffffffff;

const NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [H3_NO_ERROR, 'H3_NO_ERROR'],
  [H3_GENERAL_PROTOCOL_ERROR, 'H3_GENERAL_PROTOCOL_ERROR'],
  [H3_INTERNAL_ERROR, 'H3_INTERNAL_ERROR'],
  [H3_STREAM_CREATION_ERROR, 'H3_STREAM_CREATION_ERROR'],
  [H3_CLOSED_CRITICAL_STREAM, 'H3_CLOSED_CRITICAL_STREAM'],
  [H3_FRAME_UNEXPECTED, 'H3_FRAME_UNEXPECTED'],
  [H3_FRAME_ERROR, 'H3_FRAME_ERROR'],
  [H3_EXCESSIVE_LOAD, 'H3_EXCESSIVE_LOAD'],
  [H3_ID_ERROR, 'H3_ID_ERROR'],
  [H3_SETTINGS_ERROR, 'H3_SETTINGS_ERROR'],
  [H3_MISSING_SETTINGS, 'H3_MISSING_SETTINGS'],
  [H3_REQUEST_REJECTED, 'H3_REQUEST_REJECTED'],
  [H3_REQUEST_CANCELLED, 'H3_REQUEST_CANCELLED'],
  [H3_REQUEST_INCOMPLETE, 'H3_REQUEST_INCOMPLETE'],
  [H3_MESSAGE_ERROR, 'H3_MESSAGE_ERROR'],
  [H3_CONNECT_ERROR, 'H3_CONNECT_ERROR'],
  [H3_VERSION_FALLBACK, 'H3_VERSION_FALLBACK'],
  [H3_DATAGRAM_ERROR, 'H3_DATAGRAM_ERROR'],
  [QPACK_DECOMPRESSION_FAILED, 'QPACK_DECOMPRESSION_FAILED'],
  [QPACK_ENCODER_STREAM_ERROR, 'QPACK_ENCODER_STREAM_ERROR'],
  [QPACK_DECODER_STREAM_ERROR, 'QPACK_DECODER_STREAM_ERROR'],
  [WT_BUFFERED_STREAM_REJECTED, 'WT_BUFFERED_STREAM_REJECTED'],
  [WT_SESSION_GONE, 'WT_SESSION_GONE'],
  [WT_INVALID_CAPSULE, 'WT_INVALID_CAPSULE'],
]);

/**
 * A decoder's verdict that the peer sent something invalid. `code` is the HTTP/3, QPACK or
 * WebTransport code the caller should close the stream/connection/session with.
 */
export interface WireError {
  status: 'error';
  code: number;
  /** Human-readable detail for logs; never sent verbatim to the peer as a contract. */
  detail: string;
}

/** Builds a `WireError`. */
export function wireError(code: number, detail: string): WireError {
  return { status: 'error', code, detail };
}

/**
 * Reserved "GREASE" HTTP/3 error codes, 0x1f * N + 0x21 (RFC 9114 §8.1): they carry no meaning and
 * must be treated like H3_NO_ERROR's unknown cousins (i.e. as an unknown code).
 */
export function isReservedH3ErrorCode(code: number | bigint): boolean {
  const c = BigInt(code);
  return c >= 0x21n && (c - 0x21n) % 0x1fn === 0n;
}

/** The registered name of an error code, or `UNKNOWN(0x...)`; WT application codes are named `WT_APPLICATION_ERROR(e)`. */
export function errorCodeName(code: number): string {
  const name = NAMES.get(code);
  if (name !== undefined) return name;
  const wt = http3CodeToWebTransport(code);
  if (wt !== null) return `WT_APPLICATION_ERROR(${wt})`;
  return `UNKNOWN(0x${code.toString(16)})`;
}

/**
 * Maps a WebTransport application error code (0..2^32-1) to the HTTP/3 code carried in
 * RESET_STREAM / STOP_SENDING: first + e + floor(e / 0x1e), which skips the reserved codepoints
 * (draft-ietf-webtrans-http3 §4.3). Throws RangeError for a code outside 32 bits (a caller bug).
 */
export function webTransportCodeToHttp3(e: number): number {
  if (!Number.isInteger(e) || e < 0 || e > WT_APPLICATION_CODE_MAX) {
    throw new RangeError(`WebTransport error code must be a 32-bit unsigned integer, got ${e}`);
  }
  return WT_APPLICATION_ERROR_FIRST + e + Math.floor(e / 0x1e);
}

/**
 * The inverse of `webTransportCodeToHttp3`: the WebTransport application code carried by HTTP/3
 * code `h`, or null when `h` is outside the WT_APPLICATION_ERROR range or is one of its reserved
 * codepoints 0x1f * N + 0x21 (which no conforming peer sends). Never throws.
 */
export function http3CodeToWebTransport(h: number | bigint): number | null {
  if (typeof h === 'bigint') {
    if (h < BigInt(WT_APPLICATION_ERROR_FIRST) || h > BigInt(WT_APPLICATION_ERROR_LAST)) return null;
    h = Number(h);
  }
  if (!Number.isInteger(h) || h < WT_APPLICATION_ERROR_FIRST || h > WT_APPLICATION_ERROR_LAST) return null;
  if ((h - 0x21) % 0x1f === 0) return null;
  const shifted = h - WT_APPLICATION_ERROR_FIRST;
  return shifted - Math.floor(shifted / 0x1f);
}
