/**
 * The dev-ticket endpoint and the rooms it opens, churned: tickets minted faster than an
 * address's rate (429), for rooms the server does not serve and for names with nothing visible
 * (400), each good one used to join a churn room and leave at once (rooms created and reclaimed
 * all the time), and the first of them and every third one after used again without its resume
 * token, over the other transport (a single-use ticket must not start a second session:
 * TICKET_INVALID). Each run opens with a burst of BURST_REQUESTS mints from one source (over
 * DEV_TICKET_BURST).
 */
import { encodeMessage } from '../../../shared/codec.js';
import { EndpointsByAddress, boundFetch } from '../bound-clients.js';
import { closeCodeWithin, openOrCount, paced, type Attack, type AttackContext } from './attack.js';
import { wsSession, wtSession, type GameSession } from './raw-clients.js';

/** Requests per second per source (over the dev-ticket rate of 2/s after a burst of 30). */
const REQUESTS_PER_SECOND_PER_SOURCE = 6;
/** Most requests one run makes over all sources. */
const MAX_REQUESTS = 5_000;
/** Requests of the opening burst (DEV_TICKET_BURST is 30): a few of them must get 429. */
const BURST_REQUESTS = 40;
/** Joins in flight at once. */
const IN_FLIGHT = 8;
/** Longest wait for a welcome or a refusal. */
const ANSWER_TIMEOUT_MS = 10_000;

async function post(ctx: AttackContext, source: string, body: object): Promise<{ status: number; ticket?: string }> {
  const res = await boundFetch(source)(`${ctx.httpUrl}/api/dev/ticket`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const json = (await res.json().catch(() => ({}))) as { ticket?: string };
  return { status: res.status, ticket: json.ticket };
}

export const devTickets: Attack = {
  kind: 'dev-tickets',
  what: `dev-ticket and room churn: ${REQUESTS_PER_SECOND_PER_SOURCE} requests/s per source, bad rooms and names, join-and-leave, ticket reuse across transports`,
  expects: ['http dev_ticket_rate_limited', 'http dev_ticket_invalid', 'game ticket_reused'],
  async run(ctx) {
    const churnRooms = ctx.rooms.length > 1 ? ctx.rooms.slice(1) : ctx.rooms;
    const endpoints = new EndpointsByAddress();
    let reuseTried = false;
    const open = async (source: string, wt: boolean): Promise<GameSession> => (wt ? wtSession(ctx, await endpoints.get(source)) : wsSession(ctx, source));
    // First a burst over the address's allowance from one source, so the rate limit is met at
    // once however slowly the paced part runs on a loaded machine.
    const burst = await Promise.all(Array.from({ length: BURST_REQUESTS }, (_, i) => post(ctx, ctx.sources[0], { name: `burst${i}`, room: churnRooms[0] }).catch(() => ({ status: 0 }))));
    for (const r of burst) ctx.count(`burst_${r.status}`);
    await paced({ perSecond: REQUESTS_PER_SECOND_PER_SOURCE * ctx.sources.length, max: MAX_REQUESTS, until: ctx.until, inFlight: IN_FLIGHT }, async (i) => {
      const source = ctx.sources[i % ctx.sources.length];
      const kind = i % 6;
      if (kind === 4) {
        ctx.count(`bad_room_${(await post(ctx, source, { name: 'churn', room: `nowhere${i}` })).status}`);
        return;
      }
      if (kind === 5) {
        ctx.count(`invisible_name_${(await post(ctx, source, { name: '\u202e\u0000\u200b' })).status}`);
        return;
      }
      const room = churnRooms[i % churnRooms.length];
      const r = await post(ctx, source, { name: `churn${i}`, room });
      ctx.count(`mint_${r.status}`);
      if (r.status !== 200 || !r.ticket) return;
      const wt = i % 2 === 0;
      const s = await openOrCount(ctx, 'open_failed', () => open(source, wt));
      if (!s) return;
      s.hello(r.ticket);
      if (await s.waitFor('welcome', ANSWER_TIMEOUT_MS)) {
        ctx.count('joined');
        s.sendRaw(encodeMessage('leave', {}));
        ctx.count('left');
      } else ctx.count(`join_refused_${s.closeCode ?? 'timeout'}`);
      await closeCodeWithin(s.closed, 2_000);
      s.close();
      // The first ticket that joined is always tried again (on a loaded box only a handful of
      // mints get through the rate limit in a short run, and none of them need be a third one).
      if (reuseTried && i % 3 !== 0) return;
      reuseTried = true;
      // The same single-use ticket again, without the resume token, over the other transport.
      const again = await openOrCount(ctx, 'open_failed', () => open(source, !wt));
      if (!again) return;
      again.hello(r.ticket);
      const welcomed = await again.waitFor('welcome', ANSWER_TIMEOUT_MS);
      ctx.count(welcomed ? 'reuse_accepted' : `reuse_refused_${again.closeCode ?? 'timeout'}`);
      again.close();
    });
    await endpoints.closeAll();
  },
};
