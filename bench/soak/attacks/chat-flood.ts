/**
 * A chat flood with fresh tickets (issue 10: the chat limit was per ticket, so fresh dev tickets
 * multiplied the burst): from each source, a dev player joins the honest players' room and sends
 * lines far faster than allowed; when the server ends it for flooding (CHAT_FLOOD) the next one
 * joins with a fresh ticket. Every player of a source shares one chat limit, so the room sees at
 * most a burst and a few lines a second per address, however many tickets it mints.
 *
 * Lines go in bursts of LINES_PER_BURST sent back to back, one burst a second: the server ends a
 * sender after CHAT_FLOOD_STRIKES refused lines in a row, and lines spread evenly at a rate the
 * attack's timers only reach on an idle machine (a busy one stretches every pause) would earn a
 * fresh token between strikes and never be a flood. A burst is one by construction.
 */
import { encodeMessage } from '../../../shared/codec.js';
import { mintDevTicket } from '../../../client/net/dev-ticket.js';
import { boundFetch } from '../bound-clients.js';
import { openOrCount, pause, type Attack } from './attack.js';
import { wsSession } from './raw-clients.js';

/** Lines one flooder sends back to back, once a second (over CHAT_BURST + CHAT_FLOOD_STRIKES, 25). */
const LINES_PER_BURST = 40;
const BURST_EVERY_MS = 1_000;
/** Most lines one source sends over the run, and most players (tickets) it uses. */
const MAX_LINES_PER_SOURCE = 20_000;
const MAX_PLAYERS_PER_SOURCE = 200;
/** Longest wait for a welcome. */
const WELCOME_TIMEOUT_MS = 10_000;

export const chatFlood: Attack = {
  kind: 'chat-flood',
  what: `chat flood in the honest room: ${LINES_PER_BURST} lines a second per source, back to back, a fresh dev ticket after each CHAT_FLOOD`,
  expects: ['game chat_flood'],
  async run(ctx) {
    const room = ctx.rooms[0];
    await Promise.all(ctx.sources.map(async (source) => {
      const fetch = boundFetch(source);
      let lines = 0;
      for (let p = 0; p < MAX_PLAYERS_PER_SOURCE && lines < MAX_LINES_PER_SOURCE && Date.now() < ctx.until; p++) {
        let ticket: string;
        try {
          ticket = await mintDevTicket(fetch, ctx.httpUrl, `flood${p}`, room);
        } catch (err) {
          ctx.count('ticket_refused');
          await pause(Math.max(250, (err as { retryAfterMs?: number }).retryAfterMs ?? 1_000), ctx.until);
          continue;
        }
        const s = await openOrCount(ctx, 'open_failed', () => wsSession(ctx, source));
        if (!s) continue;
        s.hello(ticket);
        if (!(await s.waitFor('welcome', WELCOME_TIMEOUT_MS))) {
          ctx.count(`join_refused_${s.closeCode ?? 'timeout'}`);
          s.close();
          continue;
        }
        ctx.count('players');
        while (s.closeCode === null && lines < MAX_LINES_PER_SOURCE && Date.now() < ctx.until) {
          for (let k = 0; k < LINES_PER_BURST && lines < MAX_LINES_PER_SOURCE; k++) {
            s.sendRaw(encodeMessage('chatSend', { text: `flood ${p} ${lines}` }));
            lines++;
            ctx.count('lines_sent');
          }
          await pause(BURST_EVERY_MS, ctx.until);
        }
        ctx.count('chat_rejected', s.received.filter((n) => n === 'chatRejected').length);
        if (s.closeCode !== null) ctx.count(`closed_${s.closeCode}`);
        else s.sendRaw(encodeMessage('leave', {}));
        await pause(100, Date.now() + 100);
        s.close();
      }
    }));
  },
};
