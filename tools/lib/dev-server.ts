/**
 * The game server a tool runs against (the benchmark's server process, the experiment's): the
 * public embedding API (`createGameServer`) with what every tool run wants. A fresh in-memory
 * certificate per run: clients pin it by the hash /api/connect-info publishes, so its name does
 * not matter and nothing is written to certs/. Dev tickets on (the bots mint their own), so the
 * ticket secret never leaves this process: a fresh one per run. Every bot of a tool run comes
 * from one machine, one address: the per-address limits meant for the open internet (dev-ticket
 * minting, the dev players' shared chat limit, the pending-hello and live-session shares, the
 * QUIC connection share) are lifted, so joining a fleet is not mistaken for a flood.
 */
import { randomBytes } from 'node:crypto';
import { createDevCertificate } from '../../certs/dev-cert.js';
import { createGameServer, type GameServer, type GameServerOptions } from '../../server/index.js';
import { MAX_PENDING_CONNECTIONS } from '../../server/session/admission.js';
import { MAX_CONNECTIONS } from '../../server/h3/quic/limits.js';

/** Sessions one tool run may hold from its one address: more than any bench or experiment opens. */
const MAX_LOAD_SESSIONS = 100_000;

export type DevServerOptions = Omit<GameServerOptions, 'ticketSecret' | 'devTickets' | 'webTransport'> & {
  /** UDP port of the WebTransport endpoint (0 = any). */
  webTransportPort: number;
  /** `webTransport.workers` (undefined: the server's default). */
  webTransportWorkers?: number;
};

export function createDevServer(o: DevServerOptions): GameServer {
  const { webTransportPort, webTransportWorkers, ...rest } = o;
  const cert = createDevCertificate();
  return createGameServer({
    admission: { maxPendingPerAddress: MAX_PENDING_CONNECTIONS, maxSessionsPerAddress: MAX_LOAD_SESSIONS },
    ...rest,
    ticketSecret: randomBytes(32),
    devTickets: { limitPerAddress: false },
    webTransport: {
      port: webTransportPort, certPem: cert.certPem, keyPem: cert.keyPem, workers: webTransportWorkers, maxConnectionsPerAddress: MAX_CONNECTIONS,
    },
  });
}
