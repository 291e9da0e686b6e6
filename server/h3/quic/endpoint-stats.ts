/**
 * The QUIC endpoint's counters (QuicEndpoint.stats()): traffic, every packet it refused or
 * dropped and why, and the connection gauges. `WebTransportServer.refusals()` maps the refusals
 * to `tickwire_refusals_total{layer="quic",reason}`.
 */

/** Endpoint counters; monotonic except the two gauges. */
export interface QuicEndpointStats {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Packets for no known connection that could not start one. */
  packetsDroppedUnknown: number;
  /** Packets whose header could not be parsed, or Initials quiche could not read. */
  packetsDroppedMalformed: number;
  /** Initials dropped because MAX_CONNECTIONS connections are alive. */
  initialsDroppedConnectionLimit: number;
  /** Initials dropped because `maxHandshakes` handshakes were in flight. */
  initialsDroppedHandshakeLimit: number;
  /** Initials dropped because their address had `maxHandshakesPerAddress` handshakes in flight. */
  initialsDroppedAddressLimit: number;
  /** Initials dropped because their address had `maxConnectionsPerAddress` connections alive. */
  initialsDroppedAddressConnectionLimit: number;
  /** Stateless Retry packets sent (RFC 9000 §17.2.5) instead of accepting a connection. */
  retriesSent: number;
  /** Initials dropped for a Retry token that was forged, expired, or for another address or id. */
  retryTokensInvalid: number;
  /** Packets not sent because they would pass 3x the bytes an unvalidated client sent (RFC 9000 §8.1). */
  packetsAmplificationLimited: number;
  /** Stateless resets sent for short-header packets to unknown connection ids (RFC 9000 §10.3). */
  statelessResetsSent: number;
  /** Client role: connections a server ended with a stateless reset. */
  statelessResetsReceived: number;
  /** Server connections dropped because their handshake did not complete in `handshakeTimeoutMs`. */
  handshakesTimedOut: number;
  versionNegotiationsSent: number;
  connectionsAccepted: number;
  connectionsConnected: number;
  /** Gauge: connections alive now. */
  connectionsActive: number;
  /** Gauge: connections still in the handshake. */
  connectionsHandshaking: number;
  /**
   * Throws caught inside the endpoint (a bug of ours, never expected): per-connection ones
   * closed that connection with INTERNAL_ERROR (0x1); others dropped the packet at hand.
   */
  internalErrors: number;
}

/** All-zero endpoint counters (also what a server without an endpoint reports). */
export function emptyQuicEndpointStats(): QuicEndpointStats {
  return {
    packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, packetsDroppedUnknown: 0,
    packetsDroppedMalformed: 0, initialsDroppedConnectionLimit: 0, initialsDroppedHandshakeLimit: 0,
    initialsDroppedAddressLimit: 0, initialsDroppedAddressConnectionLimit: 0, retriesSent: 0, retryTokensInvalid: 0, packetsAmplificationLimited: 0,
    statelessResetsSent: 0, statelessResetsReceived: 0, handshakesTimedOut: 0, versionNegotiationsSent: 0,
    connectionsAccepted: 0, connectionsConnected: 0, connectionsActive: 0, connectionsHandshaking: 0,
    internalErrors: 0,
  };
}
