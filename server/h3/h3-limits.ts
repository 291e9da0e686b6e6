/**
 * Named limits of the HTTP/3 and WebTransport layer (server/h3). Each bounds a queue, a buffer
 * the peer can fill, or a wait.
 */

/**
 * WebTransport streams that may wait for their session's CONNECT to be processed, per connection
 * (draft-ietf-webtrans-http3 §4.6: "buffer a bounded number"). Beyond it a stream is refused
 * with WT_BUFFERED_STREAM_REJECTED (a bidi stream reset at once; reading a uni stream stopped as
 * read-abort.ts does), counted in `streamsRejectedBuffered`.
 */
export const MAX_BUFFERED_STREAMS_PER_CONNECTION = 16;

/** Bytes one buffered stream may hold before its session shows up; over it, it is rejected. */
export const MAX_BUFFERED_STREAM_BYTES = 64 * 1024;

/** How long a buffered stream waits for its session before WT_BUFFERED_STREAM_REJECTED. */
export const BUFFERED_STREAM_TIMEOUT_MS = 1_000;

/**
 * Request streams that arrive before the peer's SETTINGS and wait for them (a server must not
 * process WebTransport requests before it knows the client supports them). Beyond it a request
 * is refused with H3_REQUEST_REJECTED, counted as `parked_request_slots`.
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

/**
 * Bytes a parked request (a CONNECT waiting for the client's SETTINGS) may hold behind its
 * HEADERS. A client has nothing to send on a CONNECT stream before the response (capsules belong
 * to an open session), so 4 KiB is generous; over it the request is refused with the stream
 * error H3_EXCESSIVE_LOAD (RFC 9114 §8.1). Before this limit every such byte was kept: ten
 * connections flooding parked requests took a server from about 200 MB to over 1 GB.
 */
export const MAX_PARKED_REQUEST_BYTES = 4 * 1024;

/**
 * How long a request may wait for the client's SETTINGS. Browsers send SETTINGS in their first
 * flight, so only loss delays them; past this the request is refused with H3_REQUEST_REJECTED
 * (RFC 9114 §4.1.1: not processed, safe to retry).
 */
export const PARKED_REQUEST_TIMEOUT_MS = 3_000;

/**
 * How long a stream may hold an incomplete frame (a partial HEADERS, SETTINGS or capsule): a
 * peer that starts a frame and stalls must not pin its bytes for the life of the connection.
 * Frames are small (16 KiB at most) and arrive in a round trip or two; past this the stream is
 * refused (request: H3_REQUEST_REJECTED; CONNECT stream: the session is aborted with
 * H3_EXCESSIVE_LOAD; control stream: the connection is closed with H3_EXCESSIVE_LOAD).
 */
export const PARTIAL_FRAME_TIMEOUT_MS = 10_000;

/**
 * Peer bytes the HTTP/3 layer of one connection may hold at once, summed over its streams
 * (partial frames, parked requests, buffered WebTransport streams: peer-buffers.ts). The stream
 * whose bytes pass it is refused with its precise code. A legitimate peer holds a few KiB.
 */
export const MAX_PEER_BYTES_PER_CONNECTION = 256 * 1024;

/**
 * Peer bytes the HTTP/3 layer may hold at once over every connection of one server (or client
 * endpoint): with MAX_CONNECTIONS connections the per-connection limit alone would still allow
 * gigabytes. Past it, new buffering is refused (requests: H3_REQUEST_REJECTED, retry later;
 * early streams: WT_BUFFERED_STREAM_REJECTED) until others drain.
 */
export const MAX_PEER_BYTES_TOTAL = 32 * 1024 * 1024;

/**
 * After we stop reading a peer's unidirectional stream, how long we read and discard its bytes
 * before sending STOP_SENDING. quiche 0.18 (our binding) never frees a peer unidirectional
 * stream it was told to stop unless its FIN had already been read, so every STOP_SENDING spends
 * one of the peer's MAX_STREAMS credits for good (a client was locked out of new streams after
 * 99 refusals). A stream that ends (FIN or RESET_STREAM) within this time is freed and its
 * credit returned; one still open after it is told to stop, at the price of that credit.
 */
export const UNI_STREAM_STOP_GRACE_MS = 1_000;
