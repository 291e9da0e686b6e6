/**
 * `GET /api/connect-info` (docs/architecture.md, "HTTP"): what a page asks the server before it
 * opens a session. The server answers it (server/http/app.ts) and the client reads it
 * (client/net/connect-info.ts); this is the one definition of the path, the body and the
 * WebSocket path the server serves.
 */

/** Path of the connect-info request. */
export const CONNECT_INFO_PATH = '/api/connect-info';

/** Path of the WebSocket endpoint (also the client's fallback when connect-info names none). */
export const WEBSOCKET_PATH = '/ws';

/** The body of the connect-info answer (JSON). */
export interface ConnectInfo {
  protocolVersion: number;
  /** Absolute `https://host:port/path` of the WebTransport endpoint, or null when it is not served. */
  webTransportUrl: string | null;
  /**
   * Base64 SHA-256 of the DER of the server's leaf certificate, for the browser's
   * `serverCertificateHashes` (W3C WebTransport; server/index.ts `leafCertificateHash`).
   */
  certificateHashes: string[];
  webSocketPath: string;
  /**
   * Cluster (docs/cluster.md, "Routing"): the absolute WebSocket URL of the node that runs the
   * ticket's room, that node's id and public HTTP base, and other nodes to ask when this one
   * stops answering. Absent from a single server.
   */
  webSocketUrl?: string;
  nodeId?: string;
  httpUrl?: string;
  alternates?: string[];
}
