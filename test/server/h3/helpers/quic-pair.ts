/**
 * One real QUIC connection over UDP on loopback between two endpoints of our own (h3 ALPN, the
 * test certificate, no Retry), for the quic tests that drive a connection directly. Every
 * endpoint opened here is tracked until `closeQuicPairs()` (for afterEach).
 */
import { buildClientConfig, buildServerConfig } from '../../../../server/h3/quic/config.js';
import { QuicEndpoint } from '../../../../server/h3/quic/endpoint.js';
import type { QuicConnection, QuicConnectionHandler } from '../../../../server/h3/quic/quic-connection.js';
import { testCert } from './cert.js';
import { quicHandler, waitFor } from './util.js';

export interface QuicPair {
  serverEp: QuicEndpoint;
  /** The server endpoint's connection. */
  server: QuicConnection;
  /** The client's connection. */
  client: QuicConnection;
}

let open: QuicEndpoint[] = [];

/**
 * Binds a server endpoint (each connection handled by `handlers.server(conn)`) and a client
 * endpoint (its connection handled by `handlers.client`), connects, and resolves once both sides
 * are established (bounded by waitFor's timeout).
 */
export async function quicPair(handlers: {
  server?: (conn: QuicConnection) => Partial<QuicConnectionHandler>;
  client?: Partial<Omit<QuicConnectionHandler, 'onEstablished'>>;
} = {}): Promise<QuicPair> {
  const cert = testCert();
  let server: QuicConnection | null = null;
  const serverEp = await QuicEndpoint.bind({
    serverConfig: buildServerConfig({ alpn: ['h3'], certPem: cert.certPem, keyPem: cert.keyPem }),
    retry: 'never',
    onConnection: (conn) => {
      server = conn;
      conn.handler = quicHandler(handlers.server?.(conn));
    },
  });
  open.push(serverEp);
  const clientEp = await QuicEndpoint.bind();
  open.push(clientEp);
  const client = clientEp.connect(serverEp.address(), buildClientConfig({ alpn: ['h3'], skipCaVerification: true }));
  let established = false;
  client.handler = quicHandler({ ...handlers.client, onEstablished: () => { established = true; } });
  await waitFor(() => established && (server as QuicConnection | null)?.isEstablished);
  return { serverEp, server: server!, client };
}

/** Closes every endpoint opened since the last call (for afterEach). */
export async function closeQuicPairs(): Promise<void> {
  const eps = open;
  open = [];
  for (const e of eps) await e.close();
}
