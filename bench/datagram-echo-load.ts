/**
 * Load side of bench/datagram-echo.ts (runs in a child process so the server's CPU is measured
 * alone). Opens S flows to the server and keeps `inflight` datagrams in flight per flow: each
 * echo that comes back is sent again at once. Three modes with the same traffic shape:
 * - `wt`: S WebTransport sessions (NodeWebTransport) sharing one QUIC endpoint (UDP socket);
 * - `quic`: S raw QUIC connections (no HTTP/3) sharing one QUIC endpoint, against the layer
 *   servers of bench/datagram-echo-quic.ts;
 * - `udp`: S plain UDP sockets against a node:dgram echo (the floor).
 *
 * Commands from the parent (tools/lib/child.ts protocol): `start` (mode, port, flows ...) is
 * answered with the event `ready` once all flows are up, `go` with `going`, `stop` with
 * `stopped` {echoes, refills}.
 */
import dgram from 'node:dgram';
import { QuicEndpoint } from '../server/h3/quic/endpoint.js';
import { NodeWebTransport } from '../server/h3/client/node-webtransport.js';
import type { QuicConnection } from '../server/h3/quic/quic-connection.js';
import { connectQuicEcho } from './datagram-echo-quic.js';
import type { WebTransportSession } from '../server/h3/session.js';
import { emit, serveCommands } from '../tools/lib/child-entry.js';

interface StartMsg {
  mode: 'wt' | 'quic' | 'udp';
  port: number;
  sessions: number;
  inflight: number;
  payload: number;
  hash?: string;
  /** udp mode: cap the total echo rate (echoes/s) to match another run's traffic; 0 = no cap. */
  rate?: number;
}

/** Flows opened at once while connecting (bounds the handshake burst on the server). */
const CONNECT_CONCURRENCY = 50;

let echoes = 0;
let running = false;
const sendFns: Array<() => void> = [];
/** Per flow: time of the last echo; a flow silent for STALL_MS lost its datagram and is refilled. */
const lastEcho: number[] = [];
const STALL_MS = 200;
/** Silence after which a flow counts as stalled (longer when its pace is slower). */
let stallAfterMs = STALL_MS;
let refills = 0;
setInterval(() => {
  if (!running) return;
  const now = performance.now();
  for (let i = 0; i < sendFns.length; i++) {
    if (now - lastEcho[i] > stallAfterMs) {
      lastEcho[i] = now;
      refills++;
      sendFns[i]();
    }
  }
}, STALL_MS / 2).unref();

async function startWt(m: StartMsg): Promise<void> {
  const endpoint = await QuicEndpoint.bind({ host: '127.0.0.1', port: 0 });
  const hash = Buffer.from(m.hash ?? '', 'base64');
  const payload = new Uint8Array(m.payload).fill(7);
  const sessions: WebTransportSession[] = [];
  for (let i = 0; i < m.sessions; i += CONNECT_CONCURRENCY) {
    const batch = Array.from({ length: Math.min(CONNECT_CONCURRENCY, m.sessions - i) }, () => {
      const wt = new NodeWebTransport(`https://127.0.0.1:${m.port}/echo`, {
        serverCertificateHashes: [{ algorithm: 'sha-256', value: hash }],
        endpoint,
        connectTimeoutMs: 30_000,
      });
      return wt.ready.then(() => wt.session!);
    });
    sessions.push(...(await Promise.all(batch)));
  }
  for (const s of sessions) {
    const i = sendFns.length;
    s.onDatagram = () => {
      if (!running) return;
      echoes++;
      lastEcho[i] = performance.now();
      s.sendDatagram(payload);
    };
    sendFns.push(() => {
      for (let k = 0; k < m.inflight; k++) s.sendDatagram(payload);
    });
  }
}

async function startQuic(m: StartMsg): Promise<void> {
  const endpoint = await QuicEndpoint.bind({ host: '127.0.0.1', port: 0 });
  const payload = new Uint8Array(m.payload).fill(7);
  for (let i = 0; i < m.sessions; i += CONNECT_CONCURRENCY) {
    const batch: Promise<void>[] = [];
    for (let k = i; k < Math.min(i + CONNECT_CONCURRENCY, m.sessions); k++) {
      const idx = sendFns.length;
      let conn: QuicConnection | null = null;
      sendFns.push(() => {
        for (let j = 0; j < m.inflight; j++) conn?.sendDatagram(payload);
      });
      batch.push(connectQuicEcho(endpoint, m.port, () => {
        if (!running || !conn) return;
        echoes++;
        lastEcho[idx] = performance.now();
        conn.sendDatagram(payload);
      }, 30_000).then((c) => {
        conn = c;
      }));
    }
    await Promise.all(batch);
  }
}

async function startUdp(m: StartMsg): Promise<void> {
  const payload = new Uint8Array(m.payload).fill(7);
  for (let i = 0; i < m.sessions; i++) {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    sock.connect(m.port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const idx = sendFns.length;
    // With a rate cap each flow sends at most once per `interval` ms (same traffic as the run
    // it is compared with); without one it answers at once.
    const interval = m.rate ? (1000 * m.sessions * m.inflight) / m.rate : 0;
    stallAfterMs = Math.max(STALL_MS, 3 * interval);
    let lastSent = 0;
    const sendNow = () => {
      lastSent = performance.now();
      sock.send(payload);
    };
    sock.on('message', () => {
      if (!running) return;
      echoes++;
      const now = performance.now();
      lastEcho[idx] = now;
      const due = lastSent + interval;
      if (due - now <= 0.05) sendNow();
      else if (due - now >= 2) setTimeout(sendNow, due - now);
      else {
        // setTimeout cannot wait less than 1 ms: spin on setImmediate for short waits.
        const spin = () => (performance.now() >= due ? sendNow() : setImmediate(spin));
        setImmediate(spin);
      }
    });
    sendFns.push(() => {
      for (let k = 0; k < m.inflight; k++) sock.send(payload);
    });
  }
}

serveCommands(async (c) => {
  if (c.cmd === 'start') {
    const m = c as unknown as StartMsg;
    if (m.mode === 'wt') await startWt(m);
    else if (m.mode === 'quic') await startQuic(m);
    else await startUdp(m);
    emit('ready');
  } else if (c.cmd === 'go') {
    running = true;
    echoes = 0;
    refills = 0;
    const now = performance.now();
    for (let i = 0; i < sendFns.length; i++) lastEcho[i] = now;
    for (const f of sendFns) f();
    emit('going');
  } else if (c.cmd === 'stop') {
    running = false;
    emit('stopped', { echoes, refills });
  }
});
