/**
 * HTTP/3 SETTINGS (RFC 9114 §7.2.4): a sequence of `Setting { Identifier (i), Value (i) }`.
 */
import { ByteReader, ByteWriter } from './bytes.js';
import { encodeFrame, FRAME_SETTINGS } from './frames.js';
import { H3_FRAME_ERROR, H3_SETTINGS_ERROR, wireError, type WireError } from './errors.js';
import { VARINT_MAX_SAFE } from './varint.js';

/** RFC 9204 §5: QPACK dynamic table capacity the sender's decoder allows. */
export const SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0x01;
/** RFC 9114 §7.2.4.1: largest field section the sender will accept. */
export const SETTINGS_MAX_FIELD_SECTION_SIZE = 0x06;
/** RFC 9204 §5: streams that may be blocked on the dynamic table. */
export const SETTINGS_QPACK_BLOCKED_STREAMS = 0x07;
/** RFC 9220 §3: extended CONNECT (`:protocol`). */
export const SETTINGS_ENABLE_CONNECT_PROTOCOL = 0x08;
/** RFC 9297 §2.1.1: HTTP Datagrams. */
export const SETTINGS_H3_DATAGRAM = 0x33;
/** draft-ietf-masque-h3-datagram-04 id that browsers still send alongside 0x33. */
export const SETTINGS_H3_DATAGRAM_DRAFT04 = 0xffd277;
/** draft-ietf-webtrans-http3-02: ENABLE_WEBTRANSPORT (Chromium and Firefox require it). */
export const SETTINGS_ENABLE_WEBTRANSPORT_DRAFT02 = 0x2b603742;
/** draft-ietf-webtrans-http3-07: WEBTRANSPORT_MAX_SESSIONS (Chromium's draft-07 mode). */
export const SETTINGS_WEBTRANSPORT_MAX_SESSIONS_DRAFT07 = 0xc671706a;
/** Newer drafts' WT_MAX_SESSIONS id (not used by Chromium 156 or Firefox ESR 153). */
export const SETTINGS_WT_MAX_SESSIONS = 0x14e9cd29;

/**
 * Setting ids that exist only in HTTP/2; receiving one is H3_SETTINGS_ERROR (RFC 9114 §7.2.4.1,
 * §11.2.2).
 */
export const HTTP2_ONLY_SETTING_IDS: ReadonlySet<number> = new Set([0x02, 0x03, 0x04, 0x05]);

/** Settings whose value must be 0 or 1 (RFC 9297 §2.1.1; RFC 8441 §3 via RFC 9220 §3). */
const BOOLEAN_SETTINGS: ReadonlySet<number> = new Set([SETTINGS_H3_DATAGRAM, SETTINGS_ENABLE_CONNECT_PROTOCOL]);

/** Most settings one SETTINGS frame may carry; browsers send fewer than 10. */
export const MAX_SETTINGS_ENTRIES = 64;

/**
 * The exact SETTINGS our server sends (checked against Chromium 156 and Firefox ESR 153, see
 * shared/notes/webtransport-h3.md): no QPACK dynamic table, extended CONNECT, HTTP datagrams,
 * WebTransport draft-02 and draft-07. Order is the order on the wire.
 */
export const SERVER_SETTINGS: ReadonlyArray<readonly [number, number]> = Object.freeze([
  [SETTINGS_QPACK_MAX_TABLE_CAPACITY, 0],
  [SETTINGS_QPACK_BLOCKED_STREAMS, 0],
  [SETTINGS_ENABLE_CONNECT_PROTOCOL, 1],
  [SETTINGS_H3_DATAGRAM, 1],
  [SETTINGS_ENABLE_WEBTRANSPORT_DRAFT02, 1],
  [SETTINGS_WEBTRANSPORT_MAX_SESSIONS_DRAFT07, 16],
] as const);

/**
 * The SETTINGS our Node client sends: the very list the server sends (the same WebTransport
 * capabilities as a browser, draft-02 and draft-07, no dynamic table). One list, so the two
 * cannot drift; give the client its own only when it must differ.
 */
export const CLIENT_SETTINGS: ReadonlyArray<readonly [number, number]> = SERVER_SETTINGS;

/** Decoded SETTINGS. */
export interface DecodedSettings {
  status: 'ok';
  /**
   * Every setting whose id is an exact JS number, id -> value. Values above 2^53-1 are saturated
   * to Number.MAX_SAFE_INTEGER (they only ever mean "no practical limit").
   */
  values: Map<number, number>;
  /** Settings dropped because their id is beyond 2^53 (GREASE ids, RFC 9114 §7.2.4.1). */
  ignored: number;
}

/**
 * Decodes a SETTINGS payload. Errors: a duplicate id or an HTTP/2-only id or a boolean setting
 * not 0/1 -> H3_SETTINGS_ERROR (RFC 9114 §7.2.4, §7.2.4.1; RFC 9297 §2.1.1); a truncated entry ->
 * H3_FRAME_ERROR (RFC 9114 §7.1); more than MAX_SETTINGS_ENTRIES -> H3_SETTINGS_ERROR. Never throws.
 */
export function decodeSettings(payload: Uint8Array): DecodedSettings | WireError {
  const r = new ByteReader(payload);
  const values = new Map<number, number>();
  const seenBig = new Set<bigint>();
  let ignored = 0;
  let count = 0;
  while (r.remaining > 0) {
    const id = r.varint();
    const value = id === undefined ? undefined : r.varint();
    if (id === undefined || value === undefined) return wireError(H3_FRAME_ERROR, 'SETTINGS payload ends inside a setting');
    if (++count > MAX_SETTINGS_ENTRIES) return wireError(H3_SETTINGS_ERROR, `more than ${MAX_SETTINGS_ENTRIES} settings`);
    if (seenBig.has(id.big)) return wireError(H3_SETTINGS_ERROR, `duplicate setting 0x${id.big.toString(16)}`);
    seenBig.add(id.big);
    if (!id.safe) {
      ignored++;
      continue;
    }
    if (HTTP2_ONLY_SETTING_IDS.has(id.value)) return wireError(H3_SETTINGS_ERROR, `HTTP/2-only setting 0x${id.value.toString(16)}`);
    const v = value.safe ? value.value : VARINT_MAX_SAFE;
    if (BOOLEAN_SETTINGS.has(id.value) && v > 1) return wireError(H3_SETTINGS_ERROR, `setting 0x${id.value.toString(16)} must be 0 or 1, got ${v}`);
    values.set(id.value, v);
  }
  return { status: 'ok', values, ignored };
}

/** Encodes a SETTINGS payload (no frame header). */
export function encodeSettings(entries: Iterable<readonly [number | bigint, number | bigint]>): Uint8Array {
  const w = new ByteWriter(64);
  for (const [id, value] of entries) w.varint(id).varint(value);
  return w.finish();
}

/** Encodes a whole SETTINGS frame (type 0x04). */
export function encodeSettingsFrame(entries: Iterable<readonly [number | bigint, number | bigint]>): Uint8Array {
  return encodeFrame(FRAME_SETTINGS, encodeSettings(entries));
}

/** What a peer's SETTINGS say about WebTransport support. */
export interface WebTransportSupport {
  /** ENABLE_WEBTRANSPORT (draft-02) = 1. */
  draft02: boolean;
  /** WEBTRANSPORT_MAX_SESSIONS (draft-07) > 0. */
  draft07: boolean;
  /** H3_DATAGRAM = 1 (RFC 9297). */
  datagrams: boolean;
  /** ENABLE_CONNECT_PROTOCOL = 1 (RFC 9220). */
  extendedConnect: boolean;
  /** QPACK_MAX_TABLE_CAPACITY (0 when absent). */
  qpackMaxTableCapacity: number;
  /** MAX_FIELD_SECTION_SIZE, or Infinity when absent (RFC 9114 §7.2.4.1 default: unlimited). */
  maxFieldSectionSize: number;
}

/** Summarises a peer's settings for the WebTransport handshake. */
export function webTransportSupport(values: ReadonlyMap<number, number>): WebTransportSupport {
  return {
    draft02: values.get(SETTINGS_ENABLE_WEBTRANSPORT_DRAFT02) === 1,
    draft07: (values.get(SETTINGS_WEBTRANSPORT_MAX_SESSIONS_DRAFT07) ?? 0) > 0,
    datagrams: values.get(SETTINGS_H3_DATAGRAM) === 1,
    extendedConnect: values.get(SETTINGS_ENABLE_CONNECT_PROTOCOL) === 1,
    qpackMaxTableCapacity: values.get(SETTINGS_QPACK_MAX_TABLE_CAPACITY) ?? 0,
    maxFieldSectionSize: values.get(SETTINGS_MAX_FIELD_SECTION_SIZE) ?? Infinity,
  };
}
