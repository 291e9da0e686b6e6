/**
 * Frames announced and never sent (issue 10: the frame decoder allocated the whole announced
 * frame, 264 MB for 1,000 sessions). WebTransport: a session whose reliable stream announces the
 * largest frame (MAX_RELIABLE_MESSAGE_BYTES) and sends nothing more, or announces a frame just
 * under the client limit and trickles a byte a second. WebSocket: a raw frame header announcing
 * half a MiB, then a byte a second. The server must hold only what arrived, refuse what no
 * client message can be, and close the stalled ones within its time limits.
 */
import { MAX_RELIABLE_MESSAGE_BYTES } from '../../../shared/limits.js';
import { writeVarint } from '../../../shared/framing.js';
import { WT_MAX_CLIENT_FRAME_BYTES } from '../../../server/transports/webtransport.js';
import { bindEndpoint } from '../bound-clients.js';
import { closeCodeWithin, openOrCount, paced, pause, settlesWithin, type Attack } from './attack.js';
import { rawWebSocket, wsFrameHeader, wtSession } from './raw-clients.js';

/** Sessions opened per second (over both transports and all sources), and at most in all. */
const SESSIONS_PER_SECOND = 3;
const MAX_SESSIONS = 2_000;
/** Sessions at once. */
const IN_FLIGHT = 24;
/** A WebSocket frame header announces this many bytes. */
const WS_ANNOUNCED_BYTES = 512 * 1024;
/** A stalled session the server never closes is given up after this long. */
const GIVE_UP_MS = 20_000;

function varintHeader(length: number): Uint8Array {
  const h = new Uint8Array(8);
  return h.subarray(0, writeVarint(h, 0, length));
}

export const announcedFrames: Attack = {
  kind: 'announced-frames',
  what: `frames announced and never sent: ${SESSIONS_PER_SECOND} sessions/s (WebTransport: 256 KiB announced, or a trickle; WebSocket: ${WS_ANNOUNCED_BYTES / 1024} KiB announced, trickled)`,
  expects: ['game protocol_frame_too_large'],
  async run(ctx) {
    const endpoints = await Promise.all(ctx.sources.map((s) => bindEndpoint(s)));
    /** How long a stalled session is watched: GIVE_UP_MS, or until 2 s after the attack's end. */
    const giveUpMs = () => Math.max(0, Math.min(GIVE_UP_MS, ctx.until + 2_000 - Date.now()));
    await paced({ perSecond: SESSIONS_PER_SECOND, max: MAX_SESSIONS, until: ctx.until, inFlight: IN_FLIGHT }, async (i) => {
      const k = i % ctx.sources.length;
      const mode = i % 3;
      const t0 = Date.now();
      if (mode === 2) {
        // WebSocket: the header, then a byte a second.
        const socket = await openOrCount(ctx, 'ws_open_failed', () => rawWebSocket(ctx, ctx.sources[k]));
        if (!socket) return;
        const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
        socket.on('error', () => undefined);
        socket.write(wsFrameHeader(WS_ANNOUNCED_BYTES));
        const trickle = setInterval(() => socket.write(Buffer.from([0x42])), 1_000);
        const ok = await settlesWithin(closed, giveUpMs());
        clearInterval(trickle);
        ctx.count(ok ? 'ws_closed_by_server' : 'ws_still_open');
        if (ok) ctx.count(Date.now() - t0 < 1_000 ? 'ws_closed_within_1s' : 'ws_closed_later');
        socket.destroy();
        return;
      }
      const s = await openOrCount(ctx, 'wt_open_failed', () => wtSession(ctx, endpoints[k]));
      if (!s) return;
      if (mode === 0) {
        await s.write(varintHeader(MAX_RELIABLE_MESSAGE_BYTES));
        ctx.count('wt_announced_max');
      } else {
        await s.write(varintHeader(WT_MAX_CLIENT_FRAME_BYTES - 1));
        ctx.count('wt_trickled');
      }
      const trickle = mode === 1 ? setInterval(() => void s.write(Uint8Array.of(0x43)), 1_000) : null;
      const code = await closeCodeWithin(s.closed, giveUpMs());
      if (trickle) clearInterval(trickle);
      ctx.count(code === -1 ? 'wt_still_open' : `wt_closed_${code}`);
      s.close();
    });
    await pause(200, Date.now() + 200);
    for (const e of endpoints) await e.close().catch(() => undefined);
  },
};
