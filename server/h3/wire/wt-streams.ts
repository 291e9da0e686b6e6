/**
 * Stream headers: HTTP/3 unidirectional stream types (RFC 9114 §6.2) and the WebTransport stream
 * headers (draft-ietf-webtrans-http3 §4.1 and §4.2):
 *   Unidirectional  { Stream Type (i) = 0x54, Session ID (i), data.. }
 *   Bidirectional   { Signal Value (i) = 0x41, Session ID (i), data.. }
 * The session id is the stream id of the CONNECT request that opened the session.
 */
import { ByteWriter } from './bytes.js';
import { decodeVarint } from './varint.js';
import { H3_ID_ERROR, wireError, type WireError } from './errors.js';
import { FRAME_WT_STREAM } from './frames.js';
import { isClientBidiStreamId } from './stream-id.js';

/** Unidirectional stream types, RFC 9114 §6.2 and RFC 9204 §4.2. */
export const UNI_STREAM_CONTROL = 0x00;
export const UNI_STREAM_PUSH = 0x01;
export const UNI_STREAM_QPACK_ENCODER = 0x02;
export const UNI_STREAM_QPACK_DECODER = 0x03;
/** WebTransport unidirectional stream type (draft-ietf-webtrans-http3 §4.1). */
export const UNI_STREAM_WEBTRANSPORT = 0x54;
/** WebTransport bidirectional stream signal value (draft-ietf-webtrans-http3 §4.2). */
export const BIDI_STREAM_WEBTRANSPORT = FRAME_WT_STREAM;

/** The header of a WebTransport unidirectional stream: 0x54 then the session id. */
export function encodeWtUniStreamHeader(sessionId: number): Uint8Array {
  checkSessionId(sessionId);
  return new ByteWriter(9).varint(UNI_STREAM_WEBTRANSPORT).varint(sessionId).finish();
}

/** The header of a WebTransport bidirectional stream: 0x41 then the session id. */
export function encodeWtBidiStreamHeader(sessionId: number): Uint8Array {
  checkSessionId(sessionId);
  return new ByteWriter(10).varint(BIDI_STREAM_WEBTRANSPORT).varint(sessionId).finish();
}

/** The first byte(s) of one of our own HTTP/3 unidirectional streams (control, QPACK). */
export function encodeUniStreamType(type: number): Uint8Array {
  return new ByteWriter(8).varint(type).finish();
}

function checkSessionId(sessionId: number): void {
  if (!isClientBidiStreamId(sessionId)) throw new RangeError(`not a client bidirectional stream id: ${sessionId}`);
}

/** The kind of an incoming unidirectional stream, from its first bytes. */
export type UniStreamHeader =
  | { status: 'ok'; kind: 'control' | 'push' | 'qpack-encoder' | 'qpack-decoder'; headerLength: number }
  | { status: 'ok'; kind: 'webtransport'; sessionId: number; headerLength: number }
  /** Reserved/GREASE or unknown type: RFC 9114 §6.2 says abort reading it (H3_STREAM_CREATION_ERROR). */
  | { status: 'ok'; kind: 'unknown'; type: number; typeSafe: boolean; headerLength: number }
  | { status: 'need-more' }
  | WireError;

/**
 * Parses the start of an incoming unidirectional stream. A WebTransport session id that cannot
 * be a client bidirectional stream id is H3_ID_ERROR (draft-ietf-webtrans-http3 §4). Never throws.
 */
export function parseUniStreamHeader(bytes: Uint8Array): UniStreamHeader {
  const t = decodeVarint(bytes, 0);
  if (t.status !== 'ok') return { status: 'need-more' };
  if (!t.safe) return { status: 'ok', kind: 'unknown', type: t.value, typeSafe: false, headerLength: t.length };
  switch (t.value) {
    case UNI_STREAM_CONTROL:
      return { status: 'ok', kind: 'control', headerLength: t.length };
    case UNI_STREAM_PUSH:
      return { status: 'ok', kind: 'push', headerLength: t.length };
    case UNI_STREAM_QPACK_ENCODER:
      return { status: 'ok', kind: 'qpack-encoder', headerLength: t.length };
    case UNI_STREAM_QPACK_DECODER:
      return { status: 'ok', kind: 'qpack-decoder', headerLength: t.length };
    case UNI_STREAM_WEBTRANSPORT: {
      const s = decodeVarint(bytes, t.length);
      if (s.status !== 'ok') return { status: 'need-more' };
      if (!s.safe || !isClientBidiStreamId(s.value)) return wireError(H3_ID_ERROR, `invalid WebTransport session id ${s.big}`);
      return { status: 'ok', kind: 'webtransport', sessionId: s.value, headerLength: t.length + s.length };
    }
    default:
      return { status: 'ok', kind: 'unknown', type: t.value, typeSafe: true, headerLength: t.length };
  }
}

/** The start of a bidirectional stream: a WebTransport stream, or an ordinary HTTP/3 request. */
export type BidiStreamHeader =
  | { status: 'ok'; kind: 'webtransport'; sessionId: number; headerLength: number }
  /** Not 0x41: the stream is an HTTP/3 request stream; feed all its bytes to a FrameDecoder. */
  | { status: 'ok'; kind: 'http' }
  | { status: 'need-more' }
  | WireError;

/**
 * Parses the start of a bidirectional stream (client-initiated on a server, server-initiated on
 * a client). Never throws.
 */
export function parseBidiStreamHeader(bytes: Uint8Array): BidiStreamHeader {
  const t = decodeVarint(bytes, 0);
  if (t.status !== 'ok') return { status: 'need-more' };
  if (!t.safe || t.value !== BIDI_STREAM_WEBTRANSPORT) return { status: 'ok', kind: 'http' };
  const s = decodeVarint(bytes, t.length);
  if (s.status !== 'ok') return { status: 'need-more' };
  if (!s.safe || !isClientBidiStreamId(s.value)) return wireError(H3_ID_ERROR, `invalid WebTransport session id ${s.big}`);
  return { status: 'ok', kind: 'webtransport', sessionId: s.value, headerLength: t.length + s.length };
}
