/**
 * Named limits of the HTTP/3 and WebTransport layer (server/h3). Each bounds a queue or a wait.
 */

/**
 * WebTransport streams that may wait for their session's CONNECT to be processed, per connection
 * (draft-ietf-webtrans-http3 §4.6: "buffer a bounded number"). Beyond it a stream is reset with
 * WT_BUFFERED_STREAM_REJECTED.
 */
export const MAX_BUFFERED_STREAMS_PER_CONNECTION = 16;

/** Bytes one buffered stream may hold before its session shows up; over it, it is rejected. */
export const MAX_BUFFERED_STREAM_BYTES = 64 * 1024;

/** How long a buffered stream waits for its session before WT_BUFFERED_STREAM_REJECTED. */
export const BUFFERED_STREAM_TIMEOUT_MS = 1_000;

/**
 * Request streams that arrive before the peer's SETTINGS and wait for them (a server must not
 * process WebTransport requests before it knows the client supports them).
 */
export const MAX_REQUESTS_BEFORE_SETTINGS = 8;

/**
 * WebTransport sessions one connection may carry at once (the number announced in
 * WEBTRANSPORT_MAX_SESSIONS; browsers use one per connection).
 */
export const MAX_SESSIONS_PER_CONNECTION = 16;

/**
 * Ended session ids a connection remembers, to answer their late streams with WT_SESSION_GONE
 * (older ones get WT_BUFFERED_STREAM_REJECTED after the buffering timeout instead).
 */
export const MAX_ENDED_SESSIONS_REMEMBERED = 256;

/**
 * After the last session of a connection ends (both FINs on the CONNECT stream), wait this long
 * for the final packets to be acknowledged, then close the QUIC connection: Chromium never puts a
 * second session on it and drops it silently, so it would linger until the idle timeout.
 */
export const CONNECTION_CLOSE_LINGER_MS = 100;

/** Upper bound on that wait when the peer never answers our CLOSE capsule with its FIN. */
export const CONNECTION_CLOSE_MAX_WAIT_MS = 1_000;

/** Client role: the CONNECT response must arrive within this time or the session fails. */
export const CONNECT_TIMEOUT_MS = 10_000;
