/**
 * Two echo servers below the WebTransport stack, for bench/datagram-echo.ts's `--layers`: they
 * split the WebTransport echo's cost per datagram into its layers, measured with the same load
 * shape (S raw QUIC connections, `inflight` DATAGRAM frames in flight on each):
 *
 * - `quic`: our QUIC layer alone (server/h3/quic: QuicEndpoint, its intake, routing, timer heap,
 *   flush batching and QuicConnection), echoing each DATAGRAM frame with no HTTP/3 or
 *   WebTransport above it.
 * - `bare`: the least JavaScript that can drive the binding: one UDP socket, a Map from
 *   connection id to quiche connection, per packet `recv`, `dgramRecv` until empty and a
 *   `dgramSend` per datagram, one batched flush per loop turn (`send` until null, `timeout`),
 *   and one coarse interval for quiche's timers. No address validation, limits, counters or
 *   close handling: a floor for this binding and node:dgram, not a server.
 *
 * The client side (the load child) uses our QuicEndpoint in the client role for both
 * (`connectQuicEcho`). ALPN `ECHO_ALPN` on both ends: these servers speak no HTTP/3.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { quiche } from '@matrixai/quic/native/index.js';
import type { Connection as NativeConnection, Host } from '@matrixai/quic/native/index.js';
import type { DevCertificate } from '../certs/dev-cert.js';
import { buildClientConfig, buildServerConfig } from '../server/h3/quic/config.js';
import { ipLiteralLookup, QuicEndpoint, SOCKET_BUFFER_BYTES } from '../server/h3/quic/endpoint.js';
import { LOCAL_CID_LENGTH, MAX_CONNECTIONS, MAX_UDP_PAYLOAD } from '../server/h3/quic/limits.js';
import { cidKey, isLongHeader } from '../server/h3/quic/packet.js';
import type { QuicConnection, QuicConnectionHandler } from '../server/h3/quic/quic-connection.js';

/** The ALPN both ends of the raw-QUIC echo offer (not h3: there is no HTTP/3 here). */
export const ECHO_ALPN = 'tickwire-echo';

/** A running echo server: its port, the datagrams it echoed, its UDP packet counts. */
export interface EchoServer {
  port: number;
  echoed(): number;
  packets(): { packetsIn: number; packetsOut: number };
  close(): Promise<void>;
}

/** Handler of a connection that only carries datagrams; every other event is ignored. */
function datagramHandler(onDatagram: (d: Uint8Array) => void, onEstablished = (): void => undefined, onClosed = (): void => undefined): QuicConnectionHandler {
  return {
    onEstablished,
    onStreamData: () => undefined,
    onStreamReset: () => undefined,
    onStreamStopped: () => undefined,
    onStreamWritable: () => undefined,
    onDatagram,
    onClosed,
  };
}

/**
 * Our QUIC layer echoing DATAGRAM frames. The per-address connection share (meant for the open
 * internet) is lifted to the endpoint's total: every load connection comes from 127.0.0.1.
 */
export async function startQuicEchoServer(cert: DevCertificate): Promise<EchoServer> {
  let echoed = 0;
  const endpoint = await QuicEndpoint.bind({
    host: '127.0.0.1',
    port: 0,
    serverConfig: buildServerConfig({ alpn: [ECHO_ALPN], certPem: cert.certPem, keyPem: cert.keyPem }),
    maxConnectionsPerAddress: MAX_CONNECTIONS,
    onConnection: (conn: QuicConnection) => {
      conn.handler = datagramHandler((d) => {
        echoed++;
        conn.sendDatagram(d);
      });
    },
  });
  return {
    port: endpoint.address().port,
    echoed: () => echoed,
    packets: () => {
      const s = endpoint.stats();
      return { packetsIn: s.packetsIn, packetsOut: s.packetsOut };
    },
    close: () => endpoint.close(),
  };
}

/** How often the bare server looks for due quiche timers (loss detection; nothing is lost on loopback). */
const BARE_TIMER_TICK_MS = 5;

interface BareConn {
  native: NativeConnection;
  recvInfo: { from: Host; to: Host };
  /** quiche's next deadline (performance.now() ms), or Infinity. */
  deadline: number;
}

/** The binding driven by the least JavaScript that works (see the top of this file). */
export async function startBareEchoServer(cert: DevCertificate): Promise<EchoServer> {
  const config = buildServerConfig({ alpn: [ECHO_ALPN], certPem: cert.certPem, keyPem: cert.keyPem });
  // The endpoint's socket options, so the two servers differ only in what drives quiche.
  const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: SOCKET_BUFFER_BYTES, sendBufferSize: SOCKET_BUFFER_BYTES, lookup: ipLiteralLookup });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const local: Host = { host: '127.0.0.1', port: socket.address().port };
  const byCid = new Map<string, BareConn>();
  const all = new Set<BareConn>();
  const dirty = new Set<BareConn>();
  const scratch = Buffer.allocUnsafe(65_535);
  let flushQueued = false;
  let echoed = 0;
  let packetsIn = 0;
  let packetsOut = 0;

  // A buffer quiche wrote nothing into is kept for the next send (the socket keeps the others).
  let spare: Buffer | null = null;
  const flush = (c: BareConn): void => {
    for (;;) {
      const out = spare ?? Buffer.allocUnsafe(MAX_UDP_PAYLOAD);
      spare = null;
      let r: [number, { to: Host }] | null;
      try {
        r = c.native.send(out);
      } catch {
        spare = out;
        break;
      }
      if (r === null) {
        spare = out;
        break;
      }
      packetsOut++;
      socket.send(out, 0, r[0], r[1].to.port, r[1].to.host);
    }
    const t = c.native.timeout();
    c.deadline = t === null ? Infinity : performance.now() + t;
  };
  const flushAll = (): void => {
    flushQueued = false;
    for (const c of dirty) flush(c);
    dirty.clear();
  };
  const timers = setInterval(() => {
    const now = performance.now();
    for (const c of all) {
      if (c.deadline > now) continue;
      c.native.onTimeout();
      if (c.native.isClosed()) {
        all.delete(c);
        continue;
      }
      flush(c);
    }
  }, BARE_TIMER_TICK_MS);

  socket.on('message', (msg, rinfo) => {
    packetsIn++;
    let c: BareConn | undefined;
    if (!isLongHeader(msg)) {
      c = byCid.get(cidKey(msg, 1, 1 + LOCAL_CID_LENGTH));
    } else {
      let hdr;
      try {
        hdr = quiche.Header.fromSlice(msg, LOCAL_CID_LENGTH);
      } catch {
        return;
      }
      const dcidKey = cidKey(hdr.dcid);
      c = byCid.get(dcidKey);
      if (!c) {
        const scid = randomBytes(LOCAL_CID_LENGTH);
        const from = { host: rinfo.address, port: rinfo.port };
        let native: NativeConnection;
        try {
          native = quiche.Connection.accept(scid, null, local, from, config);
        } catch {
          return;
        }
        c = { native, recvInfo: { from, to: local }, deadline: Infinity };
        byCid.set(cidKey(scid), c);
        byCid.set(dcidKey, c);
        all.add(c);
      }
    }
    if (!c) return;
    if (c.recvInfo.from.port !== rinfo.port || c.recvInfo.from.host !== rinfo.address) c.recvInfo = { from: { host: rinfo.address, port: rinfo.port }, to: local };
    try {
      c.native.recv(msg, c.recvInfo);
    } catch {
      // A packet quiche refused: dropped, as on the wire.
    }
    for (;;) {
      let n: number | null;
      try {
        n = c.native.dgramRecv(scratch);
      } catch {
        break;
      }
      if (n === null) break;
      echoed++;
      c.native.dgramSend(scratch.subarray(0, n));
    }
    dirty.add(c);
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(flushAll);
    }
  });
  socket.on('error', () => undefined);

  return {
    port: local.port,
    echoed: () => echoed,
    packets: () => ({ packetsIn, packetsOut }),
    close: async () => {
      clearInterval(timers);
      for (const c of all) {
        try {
          c.native.close(true, 0, Buffer.alloc(0));
          flush(c);
        } catch {
          // Already closing.
        }
      }
      await new Promise<void>((r) => setImmediate(r));
      await new Promise<void>((r) => socket.close(() => r()));
    },
  };
}

/**
 * Load side: one raw QUIC connection to an echo server on `endpoint` (client role, no
 * certificate check: the load trusts the bench's own server). Resolves once established; every
 * datagram echoed back calls `onEcho`.
 */
export function connectQuicEcho(endpoint: QuicEndpoint, port: number, onEcho: () => void, timeoutMs: number): Promise<QuicConnection> {
  const config = clientConfig ??= buildClientConfig({ alpn: [ECHO_ALPN], skipCaVerification: true });
  return new Promise((resolve, reject) => {
    const conn = endpoint.connect({ host: '127.0.0.1', port }, config);
    const timer = setTimeout(() => reject(new Error('raw QUIC echo connection timed out')), timeoutMs);
    conn.handler = datagramHandler(onEcho, () => {
      clearTimeout(timer);
      resolve(conn);
    }, () => {
      clearTimeout(timer);
      reject(new Error('raw QUIC echo connection closed'));
    });
  });
}

/** One client config for every load connection (a quiche Config holds a TLS context). */
let clientConfig: ReturnType<typeof buildClientConfig> | undefined;
