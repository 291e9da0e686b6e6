/**
 * Named limits of the QUIC endpoint. Every queue and buffer in `server/h3/quic/` is bounded by
 * one of these; each says why it has the value it has.
 */

/**
 * Length of the connection ids this endpoint issues. Fixed so a short-header packet's
 * destination id can be read straight from bytes 1..1+len (RFC 9000 §17.3) without parsing, and
 * so a stateless reset can name the id of a packet it answers (§10.3.2). 8 random bytes (what
 * Chromium's servers use) make a collision among 10,000 connections a 1-in-10^11 event, and a
 * guessed id gains nothing (packets are authenticated).
 *
 * Not longer: quiche 0.18 encodes our transport parameters into a fixed 128-byte buffer. A
 * connection accepted after a Retry carries three connection ids there (the client's original
 * one, up to 20 bytes, and ours twice: initial and retry source, RFC 9000 §7.3) plus the 16-byte
 * stateless reset token; with 16-byte ids that overflows (quiche answers BufferTooShort) for any
 * original id over 8 bytes. With 8 bytes there are 8 bytes to spare at the longest original id.
 */
export const LOCAL_CID_LENGTH = 8;

/** Largest UDP payload we send or accept (quiche's default datagram size, safe on any path). */
export const MAX_UDP_PAYLOAD = 1350;

/** Largest UDP datagram we read into a receive buffer (anything larger is truncated by the OS). */
export const RECV_BUFFER_BYTES = 65_535;

/**
 * Bytes an application may queue on one stream beyond what quiche accepted (flow control or
 * congestion window full). A write that would pass it is refused (returns false) and the writer
 * waits for `onWritable`. 1 MiB holds several round trips of game traffic; a peer that reads
 * slower than that is a slow consumer, not something to buffer for.
 */
export const STREAM_WRITE_QUEUE_LIMIT_BYTES = 1024 * 1024;

/** `onWritable` fires once the queue falls to this many bytes after a refused write. */
export const STREAM_WRITABLE_LOW_WATER_BYTES = 256 * 1024;

/**
 * quiche's own queue of outgoing QUIC DATAGRAM frames per connection. When full, a new datagram
 * is a counted drop: a fresh snapshot is better sent next tick than late.
 */
export const DATAGRAM_SEND_QUEUE_LEN = 64;

/** quiche's queue of received QUIC DATAGRAM frames per connection; we drain it after every recv. */
export const DATAGRAM_RECV_QUEUE_LEN = 256;

/** Connections a server endpoint keeps at once; Initials beyond it are dropped and counted. */
export const MAX_CONNECTIONS = 10_000;

/**
 * Server connections still in the handshake at once (bounds the work and memory an Initial
 * flood can cause: each costs quiche's TLS state and a signature). Beyond it, Initials that
 * carry a valid Retry token are dropped and counted (`handshake_limit`); tokenless ones get a
 * Retry first unless retry is 'never' (RETRY_ABOVE_HANDSHAKES).
 */
export const MAX_HANDSHAKING_CONNECTIONS = 2_000;

// ---------------------------------------------------------------------------------------------
// Admission and address validation (RFC 9000 §8). docs/architecture.md "QUIC endpoint:
// admission" tells the whole story; each constant below says why it has its value.

/**
 * Handshakes in flight from one address at once, Retry-validated or not (`address_handshake_limit`
 * beyond it). "Address" is the IPv4 address or the IPv6 /64 (server/address.ts `addressKey`), never
 * the port: one host has 64k ports. An eighth of MAX_HANDSHAKING_CONNECTIONS, so one address can
 * never take the global budget, while a NAT or a load generator on one host still opens a few
 * hundred sessions in one burst (the standard-scene bench connects 384 bots at once). With the
 * default MAX_CONNECTIONS_PER_ADDRESS (64, below) an address meets its connection share first;
 * this cap is what remains when that share is lifted (load generators, tools/lib/dev-server.ts).
 */
export const MAX_HANDSHAKES_PER_ADDRESS = 256;

/**
 * Connections alive at once from one address (IPv4 address or IPv6 /64), handshaking or
 * established: Initials beyond it are dropped and counted (`address_connection_limit`). Each
 * costs quiche's connection state, its HTTP/3 layer and a share of the MAX_CONNECTIONS budget
 * for up to the idle timeout, and the handshake caps alone let one address complete handshakes
 * one after another until that budget is gone. A browser tab holds one connection (its
 * WebTransport sessions share it, or it has one per session); a household or an office behind
 * one NAT runs a handful of tabs of one game, a school or a carrier-grade NAT a few dozen: 64
 * leaves them room, and takes 157 addresses to fill MAX_CONNECTIONS. Load generators on one host
 * raise it (tools/lib/dev-server.ts). A client refused here falls back to WebSocket
 * (client/net), where the session layer's own per-address share applies.
 */
export const MAX_CONNECTIONS_PER_ADDRESS = 64;

/**
 * Retry mode 'under-load': once this many handshakes are in flight (a tenth of the budget), every
 * tokenless Initial is answered with a stateless Retry (RFC 9000 §8.1.2) instead of a connection.
 * A spoofed flood then costs one small packet per Initial and no state; honest clients pay one
 * round trip. Below it nobody pays that round trip.
 */
export const RETRY_ABOVE_HANDSHAKES = 200;

/**
 * Retry mode 'under-load': an address with this many handshakes in flight gets a Retry for its
 * next tokenless Initial, whatever the global load. A browser opens one connection at a time;
 * eight at once from one address is a NAT, a load generator, or a flood, and all three can
 * afford a round trip.
 */
export const RETRY_ABOVE_HANDSHAKES_PER_ADDRESS = 8;

/**
 * How long a server connection may take to complete its handshake (from its first Initial)
 * before it is dropped silently, freeing its handshake slots. The QUIC idle timeout (30 s) is
 * for established connections; an abandoned handshake should not hold a slot that long. 10 s
 * matches Chromium's own handshake deadline and quic-go's handshake timeout, and covers an
 * Initial lost three times (PTO backoff 1 + 2 + 4 s).
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Lifetime of a Retry token (RFC 9000 §8.1.4): a client answers a Retry within one round trip, and
 * a token only has to outlive the loss of that answer a few times. Short, so a captured token is
 * soon worthless.
 */
export const RETRY_TOKEN_LIFETIME_MS = 10_000;

/**
 * Anti-amplification (RFC 9000 §8.1): before the client's address is validated, a server sends at
 * most this many times the bytes it received from it.
 */
export const AMPLIFICATION_FACTOR = 3;

/**
 * Stateless resets (RFC 9000 §10.3) sent per second at most, as a token bucket of this depth,
 * refilled continuously. Each answers a stray short-header packet and is smaller than it, so the
 * limit only stops us spending CPU on a flood of them.
 */
export const STATELESS_RESETS_PER_SECOND = 100;

/**
 * Smallest stateless reset (RFC 9000 §10.3): 5 bytes of which 38 bits unpredictable, then the
 * 16-byte token. A packet that would need a smaller answer (21 bytes or less: it could itself be
 * a reset, §10.3.3) gets none.
 */
export const MIN_STATELESS_RESET_BYTES = 21;

/**
 * Client role: an unroutable packet that may be a stateless reset is offered to at most this
 * many of our connections to its sender (quiche compares the token; a mismatch costs a header
 * parse). A load generator keeps a few hundred connections to one server on one endpoint.
 */
export const STATELESS_RESET_CANDIDATES_LIMIT = 1_024;

/**
 * Largest stateless reset we send. §10.3 asks for one byte less than the trigger up to 43 bytes;
 * beyond, any size below the trigger; small keeps a flood of stray packets cheap to answer.
 */
export const MAX_STATELESS_RESET_BYTES = 43;

/**
 * Streams with state kept in JS per connection (open or with queued bytes). quiche bounds what
 * the peer may open through MAX_STREAMS; this bounds our own bookkeeping on top of it.
 */
export const MAX_TRACKED_STREAMS_PER_CONNECTION = 1_000;

/**
 * How long a connection whose received packet asked for nothing but an ACK may hold that ACK
 * (RFC 9000 §13.2.1 allows up to our max_ack_delay). Any packet the connection sends meanwhile
 * carries it. Game traffic is 20 Hz each way (one packet per 50 ms), so a bit over 50 ms lets
 * nearly every ACK ride on the next snapshot (server) or input (client) instead of costing a
 * packet of its own, an encryption and a sendto: the standard scene at P=64 measured 48% fewer
 * packets sent by the server. The price: a peer detects a lost stream packet of its own up to
 * this much later (it adds MAX_ACK_DELAY_MS to its probe timeout, RFC 9002 §6.2.1).
 */
export const ACK_COALESCE_MS = 55;

/**
 * The max_ack_delay transport parameter we announce (RFC 9000 §18.2): ACK_COALESCE_MS plus room
 * for a late timer, so the peer never sends a probe for an ACK we are still holding.
 */
export const MAX_ACK_DELAY_MS = 75;

/**
 * Tasks one connection may hold for "after the next flush" (QuicConnection.afterFlush). One per
 * session close is the use; a connection carries few sessions, so 64 is never reached in
 * practice and only stops a runaway caller from growing the list.
 */
export const AFTER_FLUSH_TASKS_LIMIT = 64;

/** Per-connection flow-control credit we grant (quiche transport parameters). */
export const INITIAL_MAX_DATA = 16 * 1024 * 1024;
export const INITIAL_MAX_STREAM_DATA = 4 * 1024 * 1024;
export const INITIAL_MAX_STREAMS_BIDI = 100;
export const INITIAL_MAX_STREAMS_UNI = 100;

/**
 * The endpoint's sweep interval (QuicConnection.sweep), for connections that received packets
 * since the last sweep: each sending stream is asked for a peer's STOP_SENDING (quiche reports
 * it only when the stream is next touched; a stream we write to finds out at that write), and
 * quiche for the close state when no packet showed it earlier. Each is a native call per stream
 * or state; asking after every packet cost about one call per packet (four streams every 50 ms
 * at 20 packets/s). A peer's STOP_SENDING is rare and seen within this interval.
 */
export const STOP_SENDING_POLL_INTERVAL_MS = 500;

/** Default QUIC idle timeout (RFC 9000 §10.1) when the caller sets none. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
