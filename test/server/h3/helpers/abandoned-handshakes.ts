/**
 * An attacker's view of the QUIC endpoint: real client Initials (quiche's client role builds
 * them: a genuine TLS ClientHello, padded to 1200 bytes) for handshakes that are never
 * completed, sent from a raw UDP socket that never answers, and a record of every byte the
 * server sends back to that socket, by connection (the destination connection id of the
 * server's packets is the client's source connection id).
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { quiche } from '@matrixai/quic/native/index.js';
import { buildClientConfig } from '../../../../server/h3/quic/config.js';
import { cidKey, isLongHeader, parseLongHeader } from '../../../../server/h3/quic/packet.js';

/** The client connection id length used here (the client picks its own; any length works). */
const CLIENT_CID_LENGTH = 16;

export interface AbandonedInitial {
  /** Routing key (cidKey) of the client's source connection id: how server replies are told apart. */
  key: string;
  /** The UDP payload: one client Initial of 1200 bytes or more. */
  datagram: Uint8Array;
}

/**
 * `count` first flights of distinct connection attempts (each a fresh original DCID, so each
 * would open its own connection on the server). quiche builds them for any server address; the
 * addresses only enter its path bookkeeping, never the bytes.
 */
export function abandonedInitials(count: number): AbandonedInitial[] {
  const config = buildClientConfig({ alpn: ['h3'], skipCaVerification: true });
  const out: AbandonedInitial[] = [];
  const buf = Buffer.alloc(1500);
  const local = { host: '127.0.0.1', port: 1 };
  const remote = { host: '127.0.0.1', port: 2 };
  for (let i = 0; i < count; i++) {
    const scid = randomBytes(CLIENT_CID_LENGTH);
    const conn = quiche.Connection.connect(null, scid, local, remote, config);
    // The whole first flight; quiche's client Initial is one datagram.
    for (;;) {
      const r = conn.send(buf);
      if (!r) break;
      out.push({ key: cidKey(scid), datagram: new Uint8Array(buf.subarray(0, r[0])) });
    }
  }
  return out;
}

/** A UDP socket that sends what it is told and records what comes back, never answering. */
export class RawUdpPeer {
  /** Bytes sent, in total and per connection key. */
  sentBytes = 0;
  readonly sentBy = new Map<string, number>();
  /** Bytes and packets received, in total and per connection key (unattributable ones under ''). */
  receivedBytes = 0;
  receivedPackets = 0;
  readonly receivedBy = new Map<string, number>();
  /** Every datagram received, in order (bounded: a test sends a bounded number of triggers). */
  readonly datagrams: Buffer[] = [];

  private constructor(private readonly socket: dgram.Socket) {
    socket.on('message', (msg) => {
      this.receivedBytes += msg.length;
      this.receivedPackets++;
      if (this.datagrams.length < 100_000) this.datagrams.push(msg);
      const hdr = isLongHeader(msg) ? parseLongHeader(msg) : null;
      const key = hdr ? cidKey(hdr.dcid) : msg.length > CLIENT_CID_LENGTH ? cidKey(msg, 1, 1 + CLIENT_CID_LENGTH) : '';
      this.receivedBy.set(key, (this.receivedBy.get(key) ?? 0) + msg.length);
    });
  }

  static async bind(host = '127.0.0.1'): Promise<RawUdpPeer> {
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024, sendBufferSize: 4 * 1024 * 1024 });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => resolve());
    });
    return new RawUdpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Sends one datagram to 127.0.0.1:`port`, counted under `key`. */
  send(datagram: Uint8Array, port: number, key = ''): void {
    this.sentBytes += datagram.byteLength;
    this.sentBy.set(key, (this.sentBy.get(key) ?? 0) + datagram.byteLength);
    this.socket.send(datagram, port, '127.0.0.1');
  }

  /**
   * Sends the Initials in batches of `batch`, one batch every `intervalMs`: a bounded flood at
   * a rate the test chooses. Resolves when the last batch is handed to the socket.
   */
  async flood(initials: AbandonedInitial[], port: number, batch: number, intervalMs: number): Promise<void> {
    for (let i = 0; i < initials.length; i += batch) {
      for (const init of initials.slice(i, i + batch)) this.send(init.datagram, port, init.key);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
