/**
 * Abandoned QUIC handshakes (issue 10: ~2,000 of them locked every new WebTransport client out
 * for 30 s): genuine client Initials (quiche's client role builds them: a real ClientHello
 * padded to 1200 bytes), each for a new connection, sent from raw UDP sockets that never answer
 * anything, the server's Retries included. What comes back is counted: Retries, and the bytes of
 * everything else (the server's Initial/Handshake flights, which anti-amplification must keep
 * within 3x of what each connection received).
 */
import { randomBytes } from 'node:crypto';
import { quiche } from '@matrixai/quic/native/index.js';
import { buildClientConfig } from '../../../server/h3/quic/config.js';
import { LongType, isLongHeader, parseLongHeader } from '../../../server/h3/quic/packet.js';
import { bindUdpSocket } from '../bound-clients.js';
import { pause, type Attack } from './attack.js';

/** Initials per second over all sources. */
const INITIALS_PER_SECOND = 400;
/** Most Initials one run sends. */
const MAX_INITIALS = 30_000;
/** Batches per second (the rate is spread over them). */
const BATCHES_PER_SECOND = 20;
/** Replies still counted after the last Initial left. */
const LINGER_MS = 1_000;

export const quicInitials: Attack = {
  kind: 'quic-initials',
  what: `abandoned QUIC handshakes: ${INITIALS_PER_SECOND} client Initials/s from raw UDP sockets that never answer`,
  expects: ['quic retry_sent'],
  async run(ctx) {
    const config = buildClientConfig({ alpn: ['h3'], skipCaVerification: true });
    const sockets = await Promise.all(ctx.sources.map((host) => bindUdpSocket(host)));
    for (const s of sockets) {
      s.on('message', (msg) => {
        const hdr = isLongHeader(msg) ? parseLongHeader(msg) : null;
        if (hdr?.type === LongType.Retry) ctx.count('retries_received');
        else ctx.count('reply_bytes', msg.length);
        ctx.count('replies_received');
      });
      s.on('error', () => ctx.count('socket_errors'));
    }
    const buf = Buffer.alloc(1500);
    const local = { host: '127.0.0.1', port: 1 };
    const remote = { host: ctx.wtHost, port: ctx.wtPort };
    const perBatch = Math.max(1, Math.round(INITIALS_PER_SECOND / BATCHES_PER_SECOND));
    let sent = 0;
    while (sent < MAX_INITIALS && Date.now() < ctx.until) {
      for (let i = 0; i < perBatch && sent < MAX_INITIALS; i++) {
        const conn = quiche.Connection.connect(null, randomBytes(16), local, remote, config);
        const r = conn.send(buf);
        if (!r) continue;
        const socket = sockets[sent % sockets.length];
        socket.send(Buffer.from(buf.subarray(0, r[0])), ctx.wtPort, ctx.wtHost);
        ctx.count('initials_sent');
        ctx.count('bytes_sent', r[0]);
        sent++;
      }
      await pause(1000 / BATCHES_PER_SECOND, ctx.until);
    }
    await new Promise((r) => setTimeout(r, LINGER_MS));
    for (const s of sockets) s.close();
  },
};
