/**
 * Cost of each native call of the quiche binding (@matrixai/quic) that the QUIC endpoint makes
 * per packet, measured on one in-process client/server connection pair (no sockets: packets are
 * handed across in memory), so the figures show the binding alone. Prints one JSON line per
 * call: nanoseconds per call (median of 5 rounds).
 *
 *   npx tsx bench/quic-native-calls.ts [--iterations 20000]
 */
import { quiche } from '@matrixai/quic/native/index.js';
import type { Connection, Host } from '@matrixai/quic/native/index.js';
import { randomBytes } from 'node:crypto';
import { createDevCertificate } from '../certs/dev-cert.js';
import { buildClientConfig, buildServerConfig } from '../server/h3/quic/config.js';
import { LOCAL_CID_LENGTH, MAX_UDP_PAYLOAD } from '../server/h3/quic/limits.js';
import { cliArgs, flag, parseFlags } from '../tools/lib/args.js';
import { writeJsonLine } from '../tools/lib/json-lines.js';
import { median } from '../tools/lib/stats.js';

const USAGE = 'usage: npx tsx bench/quic-native-calls.ts [--iterations 20000]';
const FLAGS = { iterations: flag.int(100, 10_000_000) };
const ROUNDS = 5;

const serverAddr: Host = { host: '127.0.0.1', port: 4433 };
const clientAddr: Host = { host: '127.0.0.1', port: 50000 };

/** Moves every packet one side has to the other until neither has anything to send. */
function pump(a: Connection, aAddr: Host, b: Connection, bAddr: Host): void {
  const out = Buffer.allocUnsafe(MAX_UDP_PAYLOAD);
  for (let round = 0; round < 50; round++) {
    let moved = false;
    for (const [from, fromAddr, to, toAddr] of [[a, aAddr, b, bAddr], [b, bAddr, a, aAddr]] as const) {
      for (;;) {
        const r = from.send(out);
        if (r === null) break;
        moved = true;
        to.recv(Buffer.from(out.subarray(0, r[0])), { from: fromAddr, to: toAddr });
      }
    }
    if (!moved) return;
  }
}

function time(label: string, iterations: number, fn: (i: number) => void): void {
  const perCall: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn(i);
    perCall.push(Number(process.hrtime.bigint() - t0) / iterations);
  }
  writeJsonLine({ bench: 'quic-native-calls', call: label, nsPerCall: Math.round(median(perCall) ?? NaN) });
}

function main(): void {
  const { values } = cliArgs(() => parseFlags(process.argv.slice(2), FLAGS), USAGE);
  const n = values.iterations ?? 20_000;
  const cert = createDevCertificate();
  const serverConfig = buildServerConfig({ alpn: ['h3'], certPem: cert.certPem, keyPem: cert.keyPem });
  const clientConfig = buildClientConfig({ alpn: ['h3'], skipCaVerification: true });
  const client = quiche.Connection.connect(null, randomBytes(LOCAL_CID_LENGTH), clientAddr, serverAddr, clientConfig);
  const first = Buffer.allocUnsafe(MAX_UDP_PAYLOAD);
  const r = client.send(first);
  if (!r) throw new Error('client sent nothing');
  const hdr = quiche.Header.fromSlice(first.subarray(0, r[0]), LOCAL_CID_LENGTH);
  const server = quiche.Connection.accept(randomBytes(LOCAL_CID_LENGTH), hdr.dcid, serverAddr, clientAddr, serverConfig);
  server.recv(Buffer.from(first.subarray(0, r[0])), { from: clientAddr, to: serverAddr });
  pump(server, serverAddr, client, clientAddr);
  if (!server.isEstablished()) throw new Error('no handshake');

  const out = Buffer.allocUnsafe(MAX_UDP_PAYLOAD);
  const payload = new Uint8Array(100).fill(7);
  const scratch = Buffer.allocUnsafe(65_535);
  const recvInfo = { from: clientAddr, to: serverAddr };

  // What the server does per echo on receipt: recv of a packet carrying one datagram, then
  // dgramRecv. The client makes the packets in batches its congestion window allows; only the
  // server's calls are timed, the ACKs back are pumped between batches.
  const perRecv: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let ns = 0;
    let done = 0;
    while (done < n) {
      const batch: Buffer[] = [];
      for (let i = 0; i < 8 && done + batch.length < n; i++) {
        if (client.dgramSend(payload) === null) break;
        const s = client.send(out);
        if (!s) break;
        batch.push(Buffer.from(out.subarray(0, s[0])));
      }
      if (batch.length === 0) throw new Error('client sent nothing');
      const t0 = process.hrtime.bigint();
      for (const p of batch) {
        server.recv(p, recvInfo);
        server.dgramRecv(scratch);
      }
      ns += Number(process.hrtime.bigint() - t0);
      done += batch.length;
      pump(server, serverAddr, client, clientAddr);
    }
    perRecv.push(ns / n);
  }
  writeJsonLine({ bench: 'quic-native-calls', call: 'recv + dgramRecv (1 datagram; RecvInfo with host strings)', nsPerCall: Math.round(median(perRecv) ?? NaN) });
  time('dgramRecv (empty: null)', n, () => server.dgramRecv(scratch));
  time('dgramRecvQueueLen', n, () => server.dgramRecvQueueLen());
  time('isReadable', n, () => server.isReadable());
  time('isDraining', n, () => server.isDraining());
  time('isClosed', n, () => server.isClosed());
  time('timeout', n, () => server.timeout());
  time('dgramMaxWritableLen', n, () => server.dgramMaxWritableLen());
  time('dgramSendQueueLen', n, () => server.dgramSendQueueLen());
  time('dgramPurgeOutgoing (empty queue)', n, () => server.dgramPurgeOutgoing(() => false));
  server.streamSend(3, payload, false);
  pump(server, serverAddr, client, clientAddr);
  time('streamCapacity (open stream)', n, () => server.streamCapacity(3));
  time('send (nothing to send: null)', n, () => server.send(out));
  time('dgramSend + send (one packet out, SendInfo)', n, () => {
    server.dgramSend(payload);
    server.send(out);
  });
  time('dgramSend alone (then purged by the next round)', n, (i) => {
    server.dgramSend(payload);
    if ((i & 31) === 31) server.dgramPurgeOutgoing(() => true);
  });
  server.dgramPurgeOutgoing(() => true);
}

main();
