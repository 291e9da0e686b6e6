/**
 * Unidirectional stream spam (issue 10: the server never returned the credit of client uni
 * streams it stopped, so after 99 a connection could open no more): WebTransport sessions that
 * open many uni streams, half ended with FIN after a few bytes, half left open. The game refuses
 * every uni stream; those that end within the grace return their credit, so a session keeps
 * opening them past the initial limit of 100.
 */
import { bindEndpoint } from '../bound-clients.js';
import { openOrCount, paced, type Attack } from './attack.js';
import { wtSession } from './raw-clients.js';

/** Sessions per second over all sources, at most in all, and at once. */
const SESSIONS_PER_SECOND = 0.5;
const MAX_SESSIONS = 200;
const IN_FLIGHT = 4;
/** Uni streams one session opens (over the initial credit of 100), and bytes on each. */
const STREAMS_PER_SESSION = 150;
const BYTES_PER_STREAM = 100;
/** Longest a stream may take to open before the session gives up. */
const OPEN_TIMEOUT_MS = 5_000;

export const uniStreams: Attack = {
  kind: 'uni-streams',
  what: `${STREAMS_PER_SESSION} unidirectional streams per WebTransport session, half ended, half left open`,
  expects: ['webtransport uni_stream'],
  async run(ctx) {
    const endpoints = await Promise.all(ctx.sources.map((s) => bindEndpoint(s)));
    await paced({ perSecond: SESSIONS_PER_SECOND, max: MAX_SESSIONS, until: ctx.until, inFlight: IN_FLIGHT, tickMs: 250 }, async (i) => {
      const s = await openOrCount(ctx, 'open_failed', () => wtSession(ctx, endpoints[i % endpoints.length]));
      if (!s) return;
      let opened = 0;
      for (let n = 0; n < STREAMS_PER_SESSION && s.closeCode === null && Date.now() < ctx.until; n++) {
        let timer: NodeJS.Timeout | undefined;
        const writable = await Promise.race([
          s.wt.createUnidirectionalStream(),
          new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), OPEN_TIMEOUT_MS); }),
        ]).catch(() => null);
        clearTimeout(timer);
        if (!writable) {
          ctx.count('stream_open_stalled');
          break;
        }
        opened++;
        const w = writable.getWriter();
        await w.write(new Uint8Array(BYTES_PER_STREAM).fill(n & 0xff)).catch(() => undefined);
        // Half end at once (their credit returns); half stay open (stopped after the grace).
        if (n % 2 === 0) await w.close().catch(() => undefined);
        else w.releaseLock();
      }
      ctx.count('streams_opened', opened);
      if (opened > 100) ctx.count('sessions_past_initial_credit');
      s.close();
    });
    for (const e of endpoints) await e.close().catch(() => undefined);
  },
};
