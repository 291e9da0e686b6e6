/**
 * The one interface the game layers (session, rooms, chat) see. WebTransport and WebSocket both
 * become a `Connection`; nothing above this file knows which one it is talking to beyond the
 * `transport` label used for metrics.
 *
 * Channel semantics
 * - unreliable: may be dropped, duplicated or reordered; one call = one message. On WebTransport
 *   it is one QUIC datagram; on WebSocket it is one binary frame with latest-wins queueing.
 * - reliable: ordered, exactly once, one call = one message (framing is the transport's job).
 */
import type { DropReason } from '../../shared/errors.js';
import type { Channel } from '../../shared/messages.js';
import { stampedCopy } from '../../shared/stamped-copy.js';

export type TransportKind = 'webtransport' | 'websocket';

export interface ConnectionStats {
  /** Application payload bytes handed to / received from the transport, per channel. */
  bytesSentUnreliable: number;
  bytesSentReliable: number;
  bytesReceivedUnreliable: number;
  bytesReceivedReliable: number;
  messagesSentUnreliable: number;
  messagesSentReliable: number;
  /** Unreliable messages the transport dropped or replaced before they reached the wire. */
  unreliableDropped: number;
  /** Older queued unreliable messages replaced by a newer one (latest-wins). */
  unreliableReplaced: number;
}

export interface CloseInfo {
  /** Game close code from shared/errors (or a transport code for transport failures). */
  code: number;
  reason: string;
  /** True when the peer closed (or vanished); false when we closed. */
  byPeer: boolean;
}

/**
 * A protocol error the transport found in what the peer sent, below the message codec: a
 * WebSocket text frame or oversized frame, an empty, oversized or stalled frame on the
 * WebTransport stream. The transport does not close for it: it reports it (`onProtocolError`)
 * and the session layer ends the session by its one rule (server/session/protocol-error.ts).
 */
export interface ProtocolError {
  /** Close code from shared/errors. */
  code: number;
  /** Label of `tickwire_messages_invalid_total` (the codec's drop reasons). */
  reason: DropReason;
  /**
   * What happened, a fixed snake_case label (`text_frame`, `frame_too_large`, `empty_frame`,
   * `frame_timeout`, `websocket_protocol`, or a codec drop reason): the `reason` label of
   * `tickwire_refusals_total{layer="game"}` is `protocol_<kind>`.
   */
  kind: string;
}

export interface SendUnreliableOptions {
  /**
   * Messages with the same non-empty `replaceKey` are latest-wins: a newer one may replace an
   * older one still queued (a stale snapshot is never sent behind a fresher one).
   */
  replaceKey?: string;
  /**
   * Called at most once per message, synchronously or later, with the message's `commitTag`,
   * when the message is committed to an ordered reliable byte stream and can no longer be
   * replaced or dropped: it will reach the peer before every message sent after it, or the
   * connection is lost. WebSocket calls it when the frame is handed to the socket; WebTransport
   * sends unreliable messages as datagrams and never calls it. The snapshot sender uses it as an
   * implicit ack (server/session/snapshot-sender.ts).
   */
  onCommitted?: (commitTag: number) => void;
  /**
   * Handed back to `onCommitted`, so that one callback made once serves every message (a
   * closure per message showed in profiles). The transport reads the options only during the
   * call: a caller may reuse one options object and change its tag between sends.
   */
  commitTag?: number;
}

/**
 * Sends `bytes` on `channel` of `conn` (the caller reads the channel from the message table,
 * shared/messages.ts `channelOf`). Returns what the connection's send returned. With
 * `stampAt >= 0` what is sent is `bytes` with the u32 `stamp` written big-endian at `stampAt`
 * (shared/stamped-copy.ts), `bytes` itself untouched: on the unreliable channel by the
 * connection's `sendUnreliableStamped` when it has one (a WebSocket writes the stamp in its
 * frame), else, and on the reliable channel, as a stamped copy. The message is `bytes.length`
 * bytes either way.
 */
export function sendOnChannel(conn: Connection, channel: Channel, bytes: Uint8Array, options?: SendUnreliableOptions, stampAt = -1, stamp = 0): boolean {
  if (stampAt < 0) return channel === 'unreliable' ? conn.sendUnreliable(bytes, options) : conn.sendReliable(bytes);
  if (channel === 'reliable') return conn.sendReliable(stampedCopy(bytes, stampAt, stamp));
  return conn.sendUnreliableStamped
    ? conn.sendUnreliableStamped(bytes, stampAt, stamp, options)
    : conn.sendUnreliable(stampedCopy(bytes, stampAt, stamp), options);
}

export interface Connection {
  readonly id: string;
  readonly transport: TransportKind;
  /**
   * The peer's IP address, without a port (IPv4 dotted, IPv6 text, possibly IPv4-mapped); ''
   * when unknown. The session layer shares admission budgets out per address by it
   * (server/address.ts); connections with '' share only the global budget.
   */
  readonly remoteAddress: string;
  /** Largest unreliable message that is sure to go out whole (datagram payload budget). */
  readonly maxUnreliableSize: number;
  /** Returns false when the message was dropped (queue full, too large, closed). Never throws. */
  sendUnreliable(bytes: Uint8Array, options?: SendUnreliableOptions): boolean;
  /**
   * `sendUnreliable` of a copy of `bytes` with the u32 `value` (in [0, 2^32)) written big-endian
   * at `offset` (`offset + 4 <= bytes.length`); `bytes` itself is never written and may be
   * reused by the caller after the call. Lets a transport that copies the message anyway (the
   * WebSocket frame) write the stamp in that copy. Optional: `sendOnChannel` falls back to a
   * stamped copy (ConnectionBase has that default).
   */
  sendUnreliableStamped?(bytes: Uint8Array, offset: number, value: number, options?: SendUnreliableOptions): boolean;
  /**
   * Returns false when the connection is closed or its reliable send buffer limit was exceeded;
   * in the latter case the transport closes the connection (a slow reader must not grow memory).
   */
  sendReliable(bytes: Uint8Array): boolean;
  onUnreliable: ((bytes: Uint8Array) => void) | null;
  onReliable: ((bytes: Uint8Array) => void) | null;
  onClose: ((info: CloseInfo) => void) | null;
  /**
   * The peer broke the protocol below the codec (see ProtocolError). Called at most once; no
   * message is delivered after it, and the connection stays open so that the handler can send
   * `error` before it closes. Without a handler the transport closes with the error's code.
   */
  onProtocolError: ((error: ProtocolError) => void) | null;
  /** Close with a game code; idempotent. */
  close(code: number, reason: string): void;
  /** Transport-level "please go away soon" (WebTransport DRAIN capsule / HTTP/3 GOAWAY). Optional no-op on WebSocket. */
  drain(): void;
  readonly closed: boolean;
  stats(): ConnectionStats;
}
