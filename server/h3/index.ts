/**
 * server/h3: HTTP/3 WebTransport on Cloudflare quiche (the native layer of `@matrixai/quic`),
 * driven from our own `node:dgram` loop. Nothing here knows about the game.
 *
 * ## Server
 * ```ts
 * const server = new WebTransportServer({ certPem, keyPem, paths: ['/wt'], allowedOrigins: null });
 * server.onSession = (session) => {
 *   session.onDatagram = (bytes) => session.sendDatagram(bytes);
 *   session.onBidiStream = (stream) => { stream.onData = (b) => stream.write(b); stream.onEnd = () => stream.end(); };
 *   session.onClose = ({ code, reason, byPeer, http3Code }) => {};
 * };
 * const { host, port } = await server.listen();
 * server.drain();          // 503 for new CONNECTs, GOAWAY + DRAIN capsule to everyone
 * await server.close();    // closes sessions, then the socket
 * server.stats();          // WebTransportServerStats
 * ```
 * Options (`WebTransportServerOptions`): host ('127.0.0.1'), port (0 = any), certPem, keyPem,
 * paths, allowedOrigins (null = any), maxSessions (429 beyond), idleTimeoutMs, linkSim (a
 * netsim spec string such as "loss=0.05,delay=40,jitter=10" or a `LinkConfig`; impairs UDP
 * both directions, client->server = `up`), linkSimSeed (default 1), clock (`{ now, setTimer,
 * clearTimer? }` driving the link simulator; default performance.now and Node timers).
 * QUIC admission (`QuicServerProtectionOptions`): retry ('under-load' default | 'always' |
 * 'never': when tokenless Initials get a stateless Retry), maxHandshakes, maxHandshakesPerAddress
 * and maxConnectionsPerAddress (per IPv4 address or IPv6 /64), handshakeTimeoutMs (10 s), statelessResetKey (random per
 * endpoint; pass a fixed one so a restarted server resets its predecessor's connections; null =
 * no stateless resets). Every refusal is counted in `server.refusals()` (layer 'quic').
 *
 * CONNECT outcomes: unknown path -> 404; origin not allowed -> 403; draining -> 503; over
 * maxSessions (or 16 on one connection) -> 429; not a WebTransport CONNECT, or a client whose
 * SETTINGS lack WebTransport -> 400; malformed request -> stream reset H3_MESSAGE_ERROR; a request
 * before the client's SETTINGS waits for them (at most 8, 4 KiB behind each, 3 s: beyond,
 * H3_EXCESSIVE_LOAD or H3_REQUEST_REJECTED); after GOAWAY -> H3_REQUEST_REJECTED; 200 opens a
 * session. Each refusal is counted in `server.refusals()`.
 *
 * ## Session (`WebTransportSession`, both roles)
 * `id`, `path`, `origin`, `remoteAddress`, `maxDatagramSize`, `sendDatagram(bytes): boolean`
 * (false = dropped: queue full, too large or closed; never blocks), `purgeDatagrams(pred)`,
 * `onDatagram`, `openBidiStream()`, `openUniStream()`, `onBidiStream`, `onUniStream`,
 * `close(code, reason)` (32-bit code, CLOSE_WEBTRANSPORT_SESSION capsule), `drain()` (DRAIN
 * capsule), `onClose({ code, reason, byPeer, http3Code? })` (`code`/`reason`: the WebTransport
 * close of a CLOSE capsule or FIN; `http3Code`: only for an abrupt end, the HTTP/3 code of the
 * CONNECT stream reset or of the connection close), `onDrain`, `isClosed`, `datagramsDropped`.
 *
 * ## Stream (`WebTransportStream`)
 * `id`, `bidi`, `local`, `write(bytes): boolean` (false = over the per-stream queue limit
 * STREAM_WRITE_QUEUE_LIMIT_BYTES, nothing taken: wait for `onWritable`), `end()`,
 * `reset(code)`, `stopSending(code)`, `onData`, `onEnd`, `onReset(code | null, http3Code)`,
 * `onStopSending(code | null, http3Code)`, `onWritable`, `onSessionClosed`, `queuedBytes`.
 * Codes are WebTransport application codes (32-bit); the HTTP/3 mapping is internal.
 *
 * ## Node client (`NodeWebTransport`)
 * The W3C `WebTransport` subset client/net uses: `new NodeWebTransport(url, {
 * serverCertificateHashes, caPem?, allowAnyCertificate?, origin?, idleTimeoutMs?, endpoint?,
 * connectTimeoutMs?, linkSim?, linkSimSeed?, closeConnectionWhenDone? })`, `ready`, `closed`
 * (resolves `{ closeCode, reason }` when the session is closed by either side, rejects with a
 * `WebTransportError` when the connection is lost or the CONNECT is refused), `draining`,
 * `datagrams.{readable, writable, createWritable(), maxDatagramSize}`,
 * `createBidirectionalStream()`, `createUnidirectionalStream()`, `incomingBidirectionalStreams`,
 * `incomingUnidirectionalStreams`, `close({ closeCode, reason })`. Extras: `session` (the
 * underlying `WebTransportSession`), `maxDatagramSize`, `responseStatus` (status of a refused
 * CONNECT), `connectionCloseInfo`, `stats()` (HTTP/3 counters incl. GOAWAY/DRAIN received),
 * `datagramsDroppedIncoming`. Without a pin or CA it refuses to start unless
 * `allowAnyCertificate: true`. Many clients can share one UDP socket through `endpoint`
 * (`await QuicEndpoint.bind({})`).
 *
 * ## Application callbacks never crash the server
 * Every application callback (`server.onSession`, `session.onDatagram / onBidiStream /
 * onUniStream / onDrain / onClose`, `stream.onData / onEnd / onReset / onStopSending /
 * onWritable / onSessionClosed`, and the same on the Node client's underlying `session`) runs on
 * the UDP receive path or a timer, through one guard (app-callback.ts `invokeCallback`). A throw,
 * or the rejection of a promise an async callback returns, is:
 * - counted in `H3Counters.callbackErrors` (`server.stats().h3.callbackErrors`,
 *   `NodeWebTransport.stats().callbackErrors`);
 * - contained to that one session: it is aborted by resetting its CONNECT stream (RESET_STREAM +
 *   STOP_SENDING) with **H3_INTERNAL_ERROR (0x102)** (draft-ietf-webtrans-http3 §6: an abrupt
 *   end; no 32-bit application code is spent, that space belongs to the game). Locally `onClose`
 *   gets `{ code: 0, http3Code: 0x102, reason: 'application callback threw', byPeer: false,
 *   error }` (`error`: the thrown value, for logs). The peer's session ends with code 0,
 *   `http3Code` 0x102 and reason `CONNECT stream reset (H3_INTERNAL_ERROR)`; a Node client whose
 *   own callback threw rejects `closed` with a `WebTransportError` naming H3_INTERNAL_ERROR;
 * - only counted when the session had already ended (a throwing `onClose` or
 *   `onSessionClosed`, a late rejection). `session.close()` never rethrows `onClose`'s throw.
 * The connection, the other sessions on it and the endpoint carry on. `purgeDatagrams(pred)`
 * rethrows a throw of `pred` to its caller (after leaving the native code), dropping nothing more.
 *
 * Our own code is contained too: a throw while one QUIC connection processes a packet, flushes
 * or runs its timer closes that connection with the transport error INTERNAL_ERROR (0x1,
 * RFC 9000 §20.1) and counts `QuicEndpointStats.internalErrors`; a throw from an HTTP/3 timer
 * closes its connection with H3_INTERNAL_ERROR (`h3.connectionErrors.H3_INTERNAL_ERROR`). The
 * socket's 'message' handler never throws.
 *
 * ## Limits (named constants)
 * quic/limits.ts: STREAM_WRITE_QUEUE_LIMIT_BYTES (1 MiB per stream, writes refused beyond),
 * DATAGRAM_SEND_QUEUE_LEN (64, drops beyond), MAX_CONNECTIONS, MAX_HANDSHAKING_CONNECTIONS,
 * MAX_HANDSHAKES_PER_ADDRESS, RETRY_ABOVE_HANDSHAKES(_PER_ADDRESS), HANDSHAKE_TIMEOUT_MS,
 * RETRY_TOKEN_LIFETIME_MS, AMPLIFICATION_FACTOR, STATELESS_RESETS_PER_SECOND,
 * MAX_TRACKED_STREAMS_PER_CONNECTION; h3-limits.ts: buffered early streams, requests parked
 * before SETTINGS (MAX_PARKED_REQUEST_BYTES, PARKED_REQUEST_TIMEOUT_MS), partial frames
 * (PARTIAL_FRAME_TIMEOUT_MS), the peer bytes one connection and one server may make the layer
 * hold (MAX_PEER_BYTES_PER_CONNECTION, MAX_PEER_BYTES_TOTAL; `stats().peerBytes`), sessions per
 * connection, the grace before stopping a peer's uni stream (UNI_STREAM_STOP_GRACE_MS), close
 * linger; client/: DATAGRAM_READ_QUEUE_LIMIT, INCOMING_STREAM_QUEUE_LIMIT,
 * STREAM_READ_BUFFER_LIMIT_BYTES. Every refusal is counted once: `server.refusals()`.
 */
export { WebTransportServer, DEFAULT_MAX_SESSIONS, emptyWebTransportServerStats } from './server.js';
export type { WebTransportServerOptions, WebTransportServerStats, Clock } from './server.js';
export { WebTransportSession, WebTransportStream } from './session.js';
export type { SessionCloseInfo } from './session.js';
export { NodeWebTransport, WebTransportError, DATAGRAM_READ_QUEUE_LIMIT, INCOMING_STREAM_QUEUE_LIMIT } from './client/node-webtransport.js';
export type {
  NodeWebTransportOptions,
  NodeWebTransportCloseInfo,
  NodeWebTransportBidirectionalStream,
  NodeWebTransportDatagrams,
  NodeWebTransportHash,
} from './client/node-webtransport.js';
export { QuicEndpoint } from './quic/endpoint.js';
export type { QuicEndpointStats } from './quic/endpoint-stats.js';
export type { QuicServerProtectionOptions } from './quic/server-intake.js';
export type { RetryMode } from './quic/admission.js';
export { RETRY_MODES } from './quic/admission.js';
export { STREAM_WRITE_QUEUE_LIMIT_BYTES, DATAGRAM_SEND_QUEUE_LEN } from './quic/limits.js';
export type { H3Counters } from './h3-counters.js';
export type { LinkSimOption } from './link-sim-path.js';
