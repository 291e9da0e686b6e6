/**
 * The dev-ticket endpoint and the rooms it opens, churned: tickets minted faster than an
 * address's rate (429), for rooms the server does not serve and for names with nothing visible
 * (400), each good one used to join a churn room and leave at once (rooms created and reclaimed
 * all the time), and the first of them and every third one after used again without its resume
 * token, over the other transport (a single-use ticket must not start a second session:
 * TICKET_INVALID). Each run opens, while the first source's allowance is still full, with one
 * request of each bad kind (400), a burst of BURST_REQUESTS mints (over DEV_TICKET_BURST: 429)
 * and one of the burst's tickets joined, left and used again: so every counter the attack
 * expects moves by construction, not by which paced request happened to pass the rate limit
 * (with one source, only about a third of the paced requests do, and which third depends on
 * the machine's load).
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
/** Burst tickets the opening tries to join with before it gives up on the reuse (each bounded by ANSWER_TIMEOUT_MS). */
const OPENING_JOIN_ATTEMPTS = 3;

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
    const open = async (source: string, wt: boolean): Promise<GameSession> => (wt ? wtSession(ctx, await endpoints.get(source)) : wsSession(ctx, source));
    /** Joins with `ticket` and leaves at once; whether it was welcomed. */
    const joinAndLeave = async (source: string, ticket: string, wt: boolean): Promise<boolean> => {
      const s = await openOrCount(ctx, 'open_failed', () => open(source, wt));
      if (!s) return false;
      s.hello(ticket);
      const joined = await s.waitFor('welcome', ANSWER_TIMEOUT_MS);
      if (joined) {
        ctx.count('joined');
        s.sendRaw(encodeMessage('leave', {}));
        ctx.count('left');
      } else ctx.count(`join_refused_${s.closeCode ?? 'timeout'}`);
      await closeCodeWithin(s.closed, 2_000);
      s.close();
      return joined;
    };
    /** `joinAndLeave`, then once welcomed the same single-use ticket again over the other transport. */
    const joinThenReuse = async (source: string, ticket: string, wt: boolean): Promise<boolean> => {
      if (!(await joinAndLeave(source, ticket, wt))) return false;
      const again = await openOrCount(ctx, 'open_failed', () => open(source, !wt));
      if (!again) return true;
      again.hello(ticket);
      const welcomed = await again.waitFor('welcome', ANSWER_TIMEOUT_MS);
      ctx.count(welcomed ? 'reuse_accepted' : `reuse_refused_${again.closeCode ?? 'timeout'}`);
      again.close();
      return true;
    };
    // The opening, from the first source while its allowance is full: the bad kinds first (so
    // the rate limit cannot answer them), then a burst over the allowance, so the rate limit is
    // met at once however slowly the paced part runs on a loaded machine.
    ctx.count(`bad_room_${(await post(ctx, ctx.sources[0], { name: 'churn', room: 'nowhere' }).catch(() => ({ status: 0 }))).status}`);
    ctx.count(`invisible_name_${(await post(ctx, ctx.sources[0], { name: '\u202e\u0000\u200b' }).catch(() => ({ status: 0 }))).status}`);
    const burst = await Promise.all(Array.from({ length: BURST_REQUESTS }, (_, i) => post(ctx, ctx.sources[0], { name: `burst${i}`, room: churnRooms[0] }).catch(() => ({ status: 0, ticket: undefined }))));
    for (const r of burst) ctx.count(`burst_${r.status}`);
    // One of the burst's tickets joined and used again: the reuse refusal moves whatever the
    // paced part later gets through.
    const tickets = burst.flatMap((r) => (r.status === 200 && r.ticket ? [r.ticket] : [])).slice(0, OPENING_JOIN_ATTEMPTS);
    for (const ticket of tickets) if (await joinThenReuse(ctx.sources[0], ticket, true)) break;
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
      // Every third ticket is used again after its join.
      if (i % 3 === 0) await joinThenReuse(source, r.ticket, wt);
      else await joinAndLeave(source, r.ticket, wt);
    });
    await endpoints.closeAll();
  },
};
