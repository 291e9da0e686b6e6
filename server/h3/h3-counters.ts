/**
 * Counters of the HTTP/3 + WebTransport layer. One object is shared by every connection of a
 * server (or client endpoint), so `stats()` reads it without walking connections.
 */
export interface H3Counters {
  /** CONNECT responses sent, by status code. */
  responses: Record<string, number>;
  sessionsOpened: number;
  sessionsClosed: number;
  /**
   * Connections closed by us with an HTTP/3 / QPACK error, by code name (except those closed for
   * a named limit, counted in `limits`).
   */
  connectionErrors: Record<string, number>;
  /**
   * Request streams reset by us (malformed request: H3_MESSAGE_ERROR, etc.), by code name
   * (except those refused for a named limit, counted in `limits`).
   */
  streamErrors: Record<string, number>;
  /**
   * Streams, sessions and connections refused because the peer passed a named limit
   * (h3-limits.ts) on what it can make us hold (peer-buffers.ts), by `<what>_<limit>`: e.g.
   * `parked_request_too_large`, `parked_request_timeout`, `parked_request_slots`,
   * `request_headers_connection_cap`, `capsule_timeout`, `control_frame_timeout`. Each is
   * counted here once, whatever HTTP/3 code it got; buffered WebTransport streams count in
   * `streamsRejectedBuffered` instead.
   */
  limits: Record<string, number>;
  /**
   * Peer unidirectional streams we stopped reading that were still open after
   * UNI_STREAM_STOP_GRACE_MS and so got STOP_SENDING (each spends one of the peer's stream
   * credits for good: quiche 0.18). Those that ended within the grace were freed.
   */
  uniStreamsStoppedLate: number;
  /** Sessions closed because their CONNECT stream carried a malformed capsule or frame. */
  sessionProtocolErrors: number;
  /** Datagrams dropped on receipt: no such session (or not yet / no longer). */
  datagramsDroppedUnknownSession: number;
  /** Unknown or GREASE unidirectional stream types we stopped (H3_STREAM_CREATION_ERROR). */
  unknownUniStreams: number;
  /** Unknown frame types skipped (RFC 9114 §9). */
  unknownFramesSkipped: number;
  /** Unknown capsule types skipped (RFC 9297 §3.2). */
  unknownCapsulesSkipped: number;
  /** WebTransport streams rejected with WT_BUFFERED_STREAM_REJECTED. */
  streamsRejectedBuffered: number;
  /** WebTransport streams for an ended session, rejected with WT_SESSION_GONE. */
  streamsRejectedSessionGone: number;
  goawaysSent: number;
  goawaysReceived: number;
  drainsSent: number;
  drainsReceived: number;
  /**
   * Application callbacks (onSession, session.on*, stream.on*) that threw or whose returned
   * promise rejected. Each aborted its own session (CONNECT stream reset with H3_INTERNAL_ERROR)
   * unless that session had already ended.
   */
  callbackErrors: number;
}

export function newH3Counters(): H3Counters {
  return {
    responses: {}, sessionsOpened: 0, sessionsClosed: 0, connectionErrors: {}, streamErrors: {}, limits: {}, uniStreamsStoppedLate: 0,
    sessionProtocolErrors: 0, datagramsDroppedUnknownSession: 0, unknownUniStreams: 0,
    unknownFramesSkipped: 0, unknownCapsulesSkipped: 0, streamsRejectedBuffered: 0,
    streamsRejectedSessionGone: 0, goawaysSent: 0, goawaysReceived: 0, drainsSent: 0, drainsReceived: 0,
    callbackErrors: 0,
  };
}

/** Increments `record[key]`. */
export function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}
