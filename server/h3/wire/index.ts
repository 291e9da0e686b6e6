/**
 * server/h3/wire: I/O-free codecs for HTTP/3 and WebTransport. Every decoder returns a result
 * object and never throws on peer input; a peer error is `{ status: 'error', code, detail }`
 * (`WireError`) carrying the HTTP/3, QPACK or WebTransport code to close the stream, session or
 * connection with. Encoders throw RangeError only on caller bugs (values out of range).
 *
 * - varint.ts: QUIC varints (RFC 9000 §16), `safe: false` above 2^53-1, `need-more` on truncation.
 * - bytes.ts, chunk-queue.ts: cursor helpers and the chunk FIFO the incremental decoders share.
 * - frames.ts: HTTP/3 frames (RFC 9114 §7), incremental `FrameDecoder` (whole HEADERS/SETTINGS/
 *   GOAWAY with named size limits, streamed DATA, skipped unknown types, HTTP/2-only types as
 *   H3_FRAME_UNEXPECTED, the 0x41 WebTransport signal at a stream's start).
 * - settings.ts: SETTINGS codec (duplicates and HTTP/2 ids are H3_SETTINGS_ERROR), the exact
 *   `SERVER_SETTINGS` browsers need, `webTransportSupport()`.
 * - wt-streams.ts: unidirectional stream types and the 0x54 / 0x41 WebTransport stream headers.
 * - stream-id.ts: stream id types and the allocation of our own ids (RFC 9000 §2.1).
 * - datagram.ts: HTTP datagrams, quarter stream id prefix (RFC 9297 §2.1).
 * - capsules.ts: incremental `CapsuleParser` (RFC 9297 §3.2), CLOSE (0x2843) and DRAIN (0x78ae).
 * - qpack/: static table, Huffman, prefixed integers, field sections with no dynamic table.
 * - connect-request.ts: extended CONNECT validation (RFC 9220), request/response builders.
 * - errors.ts: H3 / QPACK / WT codes, names, and the WT application code mapping.
 * - quiche-errors.ts: `parseQuicheError()` for what the quiche binding throws.
 */
export * from './varint.js';
export * from './bytes.js';
export * from './chunk-queue.js';
export * from './errors.js';
export * from './frames.js';
export * from './settings.js';
export * from './wt-streams.js';
export * from './stream-id.js';
export * from './datagram.js';
export * from './capsules.js';
export * from './connect-request.js';
export * from './quiche-errors.js';
export * from './qpack/index.js';
