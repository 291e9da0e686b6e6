/**
 * Protocol garbage on every port: WebSocket text frames, junk and empty binary frames and
 * oversized ones; WebTransport junk and zero-length frames on the reliable stream and junk
 * datagrams; random UDP packets to the QUIC port (short headers, which earn a stateless reset at
 * a bounded rate, and long headers no server can parse); malformed HTTP requests. Every one must
 * be refused with a clear, counted outcome and leave nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { encodeFrame } from '../../../shared/framing.js';
import { EndpointsByAddress, bindUdpSocket } from '../bound-clients.js';
import { closeCodeWithin, paced, type Attack, type AttackContext } from './attack.js';
import { wsSession, wtSession, type GameSession } from './raw-clients.js';

/** Garbage operations per second over all sources, and at most in all. */
const OPS_PER_SECOND = 8;
const MAX_OPS = 10_000;
const IN_FLIGHT = 8;
/** An oversized WebSocket message: far above any client message. */
const OVERSIZED_BYTES = 64 * 1024;
/** Junk datagrams per WebTransport session. */
const DATAGRAMS_PER_SESSION = 20;
/** Longest wait for the server's answer. */
const ANSWER_TIMEOUT_MS = 8_000;

const OPS = ['ws_text', 'ws_junk', 'ws_oversized', 'ws_empty', 'wt_junk', 'wt_zero_frame', 'wt_datagrams', 'udp_junk', 'http_junk'] as const;

/** Junk whose first byte is a reliable client message id (hello = 1), so it reaches the codec. */
function junk(n: number): Uint8Array {
  const b = randomBytes(n);
  b[0] = 1;
  return b;
}

async function outcome(ctx: AttackContext, op: string, s: GameSession): Promise<void> {
  const code = await closeCodeWithin(s.closed, ANSWER_TIMEOUT_MS);
  ctx.count(code === -1 ? `${op}_still_open` : `${op}_closed_${code}`);
  s.close();
}

export const garbage: Attack = {
  kind: 'garbage',
  what: `protocol garbage on both transports, the QUIC port and the HTTP port: ${OPS_PER_SECOND} operations/s`,
  expects: ['game protocol_text_frame', 'game protocol_decode', 'quic stateless_reset_sent'],
  async run(ctx) {
    const endpoints = new EndpointsByAddress();
    const udp = await Promise.all(ctx.sources.map((host) => bindUdpSocket(host)));
    for (const s of udp) s.on('message', () => ctx.count('udp_replies'));
    await paced({ perSecond: OPS_PER_SECOND, max: MAX_OPS, until: ctx.until, inFlight: IN_FLIGHT }, async (i) => {
      const k = i % ctx.sources.length;
      const source = ctx.sources[k];
      const op = OPS[i % OPS.length];
      ctx.count(op);
      try {
        switch (op) {
          case 'ws_text': {
            const s = await wsSession(ctx, source);
            s.ws.send('{"type":"hello"}');
            return outcome(ctx, op, s);
          }
          case 'ws_junk': {
            const s = await wsSession(ctx, source);
            s.sendRaw(junk(40));
            return outcome(ctx, op, s);
          }
          case 'ws_oversized': {
            const s = await wsSession(ctx, source);
            s.sendRaw(junk(OVERSIZED_BYTES));
            return outcome(ctx, op, s);
          }
          case 'ws_empty': {
            const s = await wsSession(ctx, source);
            s.sendRaw(new Uint8Array(0));
            return outcome(ctx, op, s);
          }
          case 'wt_junk': {
            const s = await wtSession(ctx, await endpoints.get(source));
            await s.write(encodeFrame(junk(40)));
            return outcome(ctx, op, s);
          }
          case 'wt_zero_frame': {
            const s = await wtSession(ctx, await endpoints.get(source));
            await s.write(Uint8Array.of(0));
            return outcome(ctx, op, s);
          }
          case 'wt_datagrams': {
            const s = await wtSession(ctx, await endpoints.get(source));
            const w = s.wt.datagrams.writable.getWriter();
            for (let d = 0; d < DATAGRAMS_PER_SESSION; d++) await w.write(randomBytes(1 + (d * 37) % 1000)).catch(() => undefined);
            w.releaseLock();
            s.close();
            return;
          }
          case 'udp_junk': {
            // A short header for no connection (stateless reset), then a long header nobody can parse.
            const short = randomBytes(60);
            short[0] = 0x40 | (short[0] & 0x3f);
            const long = randomBytes(1200);
            long[0] = 0xc0;
            long.writeUInt32BE(1, 1);
            udp[k].send(short, ctx.wtPort, ctx.wtHost);
            udp[k].send(long, ctx.wtPort, ctx.wtHost);
            return;
          }
          case 'http_junk': {
            const u = new URL(ctx.httpUrl);
            await new Promise<void>((resolve) => {
              const c = connect({ host: u.hostname, port: Number(u.port), localAddress: source });
              c.setTimeout(ANSWER_TIMEOUT_MS, () => c.destroy());
              c.on('connect', () => c.write(`GARBAGE /${'%'.repeat(20)} HTTP/9.9\r\nX: ${'y'.repeat(100)}\r\n\r\n`));
              c.on('data', (d: Buffer) => ctx.count(`http_junk_answer_${d.toString('latin1').slice(9, 12)}`));
              c.on('error', () => undefined);
              c.on('close', () => resolve());
            });
            return;
          }
        }
      } catch {
        ctx.count(`${op}_open_failed`);
      }
    });
    for (const s of udp) s.close();
    await endpoints.closeAll();
  },
};
