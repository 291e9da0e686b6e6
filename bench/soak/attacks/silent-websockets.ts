/**
 * Silent WebSockets (issue 10: ~1,000 of them filled the pending-hello budget and every honest
 * join was refused): sockets that open (with an allowed Origin) and never say hello, reopened as
 * soon as the server closes them, more of them per source than an address's share. The server
 * must refuse those over the share with SERVER_BUSY at once and close the rest at the hello
 * timeout; honest players from other addresses must still join.
 */
import { closeCodeWithin, holdPerSource, type Attack } from './attack.js';
import { wsSession } from './raw-clients.js';

/** Silent sockets each source keeps open (over MAX_PENDING_PER_ADDRESS, 32). */
const SOCKETS_PER_SOURCE = 40;
/** Most sockets one source opens over the run. */
const MAX_OPENS_PER_SOURCE = 4_000;
/** Pause before a closed socket is replaced. */
const REOPEN_DELAY_MS = 200;

export const silentWebSockets: Attack = {
  kind: 'silent-websockets',
  what: `${SOCKETS_PER_SOURCE} WebSockets per source that never send hello, reopened when closed`,
  expects: ['game pending_per_address', 'game hello_timeout'],
  async run(ctx) {
    const o = { sources: ctx.sources, perSource: SOCKETS_PER_SOURCE, maxPerSource: MAX_OPENS_PER_SOURCE, reopenDelayMs: REOPEN_DELAY_MS, until: ctx.until };
    await holdPerSource(o, async (source) => {
      try {
        const s = await wsSession(ctx, source);
        ctx.count('opened');
        const code = await closeCodeWithin(s.closed, ctx.until - Date.now());
        if (code === -1) s.close();
        else ctx.count(`closed_${code}`);
      } catch {
        ctx.count('open_failed');
      }
    });
  },
};
