/**
 * Issue 10, one address holding any number of sessions: dev tickets are free to mint, and one
 * client filled a 1,024-player room in minutes. Now an address (IPv4 address or IPv6 /64) holds
 * at most `admission.maxSessionsPerAddress` live sessions, active or suspended, over both
 * transports together; a hello that would start one more is refused with TOO_MANY_SESSIONS and
 * a retry time, counted. A resume, and a join that replaces the player's own session, are not
 * refused; the slot comes back when a session leaves or its resume window runs out. Real
 * WebSocket and WebTransport (quiche) sockets on loopback; 127.0.0.2 is another host.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SESSIONS_PER_ADDRESS_RETRY_AFTER_MS } from '../../server/session/admission.js';
import { ErrorCode } from '../../shared/errors.js';
import { closeRawServers, startRawServer } from './helpers/raw-server.js';

const secret = 'session-share-secret-0123456789';
const RESUME_WINDOW_MS = 600;
afterEach(closeRawServers);

async function until(pred: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function start(maxSessionsPerAddress: number) {
  const { server, connect, wt, ticket, metrics } = await startRawServer({
    ticketSecret: secret, metrics: { public: true }, wt: true,
    admission: { maxSessionsPerAddress },
    timings: { resumeWindowMs: RESUME_WINDOW_MS },
  });
  const ws = (localAddress = '127.0.0.1') => connect({ localAddress });
  const metric = async (pattern: RegExp) => Number((await metrics()).match(pattern)?.[1] ?? 0);
  const refused = () => metric(/^tickwire_refusals_total\{layer="game",reason="sessions_per_address"\} (\d+)$/m);
  return { server, ws, wt, ticket, refused, metric };
}

describe('live sessions per address (admission.maxSessionsPerAddress)', () => {
  it('one address holds at most its share over both transports; the next hello gets TOO_MANY_SESSIONS with a retry time, counted; another address still joins', async () => {
    const { server, ws, wt, ticket, refused, metric } = await start(3);
    await (await ws()).welcome(ticket('a1'));
    await (await ws()).welcome(ticket('a2'));
    const w = await wt();
    await w.hello(ticket('a3'));
    await until(() => w.of('welcome').length === 1, 'welcome over WebTransport');

    // A fourth session from 127.0.0.1, over WebSocket...
    const over = await ws();
    over.hello(ticket('a4'));
    expect(await over.closed()).toBe(ErrorCode.TOO_MANY_SESSIONS);
    expect(over.of('error')).toEqual([expect.objectContaining({ code: ErrorCode.TOO_MANY_SESSIONS, retryAfterMs: SESSIONS_PER_ADDRESS_RETRY_AFTER_MS })]);
    expect(over.of('welcome')).toEqual([]);
    // ...and over WebTransport: the same share.
    const overWt = await wt();
    await overWt.hello(ticket('a5'));
    await until(() => overWt.closeCode !== null, 'WebTransport refusal');
    expect(overWt.closeCode).toBe(ErrorCode.TOO_MANY_SESSIONS);
    expect(overWt.of('error').map((e) => e.code)).toEqual([ErrorCode.TOO_MANY_SESSIONS]);
    expect(server.sessions.get('a4')).toBeUndefined();
    expect(server.sessions.get('a5')).toBeUndefined();
    expect(await refused()).toBe(2);
    expect(await metric(/^tickwire_session_closes_total\{code="TOO_MANY_SESSIONS"\} (\d+)$/m)).toBe(2);

    // Another host is not concerned.
    await (await ws('127.0.0.2')).welcome(ticket('b1'));
    expect(server.sessions.activeCount).toBe(4);
  }, 20_000);

  it('a resume and a join replacing the same player are not refused at the share; a leave and an expired resume window give the slot back', async () => {
    const { server, ws, ticket, refused } = await start(2);
    const a1 = await ws();
    const w1 = await a1.welcome(ticket('a1'));
    const a2 = await ws();
    await a2.welcome(ticket('a2'));

    // a1 loses its connection: suspended, it still holds its slot...
    a1.terminate();
    await until(() => server.sessions.get('a1')?.state === 'suspended', 'a1 suspended');
    const third = await ws();
    third.hello(ticket('a3'));
    expect(await third.closed()).toBe(ErrorCode.TOO_MANY_SESSIONS);
    // ...and resumes at the share: the session counts already.
    const back = await ws();
    const resumed = await back.welcome(ticket('a1'), { resumeToken: w1.resumeToken });
    expect(resumed.entityId).toBe(w1.entityId);

    // a2 joins again without its token (another tab): it replaces its own session, net zero.
    const again = await ws();
    await again.welcome(ticket('a2'));
    expect(await a2.closed()).toBe(ErrorCode.SESSION_REPLACED);
    expect(await refused()).toBe(1);

    // a1 leaves: its slot comes back at once.
    back.send('leave', {});
    await until(() => server.sessions.get('a1') === undefined, 'a1 gone');
    await (await ws()).welcome(ticket('a3'));

    // a2 drops its connection; its slot comes back only when its resume window runs out.
    again.terminate();
    await until(() => server.sessions.get('a2')?.state === 'suspended', 'a2 suspended');
    const early = await ws();
    early.hello(ticket('a4'));
    expect(await early.closed()).toBe(ErrorCode.TOO_MANY_SESSIONS);
    await until(() => server.sessions.get('a2') === undefined, 'a2 resume window over', RESUME_WINDOW_MS + 5_000);
    await (await ws()).welcome(ticket('a4'));
    expect(await refused()).toBe(2);
  }, 20_000);
});
