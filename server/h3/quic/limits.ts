/**
 * Named limits of the QUIC endpoint. Every queue and buffer in `server/h3/quic/` is bounded by
 * one of these; each says why it has the value it has.
 */

/**
 * Length of the connection ids this endpoint issues. Fixed so a short-header packet's
 * destination id can be read straight from bytes 1..1+len (RFC 9000 §17.3) without parsing.
 * 16 bytes of randomness make collisions and guessing irrelevant.
 */
export const LOCAL_CID_LENGTH = 16;

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

/** Connections still in the handshake at once (bounds work an Initial flood can cause). */
export const MAX_HANDSHAKING_CONNECTIONS = 2_000;

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
 * How often (at most) a connection checks its sending streams for a peer's STOP_SENDING (quiche
 * reports it only when the stream is next touched). Each check is a native call per stream, so
 * not on every packet.
 */
export const STOP_SENDING_POLL_INTERVAL_MS = 50;

/**
 * On the packet path, how often (at most) a connection asks quiche whether the peer closed it
 * (the answer only matters to stop work early; quiche refuses sends meanwhile).
 */
export const CLOSE_CHECK_INTERVAL_MS = 2;

/** Default QUIC idle timeout (RFC 9000 §10.1) when the caller sets none. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
