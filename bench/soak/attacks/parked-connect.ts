/**
 * Parked CONNECT flood (issue 10: ten such connections took a server from 200 MB to over 1 GB):
 * QUIC connections that send a WebTransport CONNECT before their SETTINGS, so the server must
 * park it, and then stream DATA behind it as fast as the pacing allows. The server must cap what
 * a parked request holds (MAX_PARKED_REQUEST_BYTES) and how long (PARKED_REQUEST_TIMEOUT_MS)
 * and refuse the stream; the attack then parks the next request on the same connection.
 */
import { bindEndpoint } from '../bound-clients.js';
import { pause, type Attack } from './attack.js';
import { RawQuic } from './raw-clients.js';

/** QUIC connections per source address. */
const CONNECTIONS_PER_SOURCE = 4;
/** DATA payload per write, and writes per second per connection (32 KiB/s each). */
const CHUNK_BYTES = 1024;
const CHUNKS_PER_SECOND = 32;
/** A request the server never refuses is given up after this long. */
const REQUEST_GIVE_UP_MS = 8_000;
/** Most requests one connection parks over the run. */
const MAX_REQUESTS_PER_CONNECTION = 200;

export const parkedConnect: Attack = {
  kind: 'parked-connect',
  what: `CONNECTs before SETTINGS with ${CHUNK_BYTES * CHUNKS_PER_SECOND / 1024} KiB/s of DATA behind each, ${CONNECTIONS_PER_SOURCE} connections per source`,
  expects: ['http3 parked_request_too_large'],
  async run(ctx) {
    const chunk = new Uint8Array(CHUNK_BYTES).fill(0x41);
    const one = async (source: string) => {
      const endpoint = await bindEndpoint(source);
      let conn: RawQuic | null = null;
      try {
        for (let requests = 0; requests < MAX_REQUESTS_PER_CONNECTION && Date.now() < ctx.until;) {
          if (!conn || conn.closed) {
            if (conn) ctx.count('connections_closed_by_server');
            conn = await RawQuic.connect(ctx, endpoint, source);
            ctx.count('connections');
          }
          const id = conn.connectRequest(ctx);
          requests++;
          ctx.count('requests_parked');
          const giveUp = Date.now() + REQUEST_GIVE_UP_MS;
          while (!conn.resets.has(id) && !conn.closed && Date.now() < Math.min(giveUp, ctx.until)) {
            conn.data(id, chunk);
            ctx.count('data_bytes', CHUNK_BYTES);
            await pause(1000 / CHUNKS_PER_SECOND, ctx.until);
          }
          if (conn.resets.has(id)) ctx.count(`reset_0x${conn.resets.get(id)!.toString(16)}`);
          else if (!conn.closed && Date.now() >= giveUp) ctx.note(`request ${id} not refused within ${REQUEST_GIVE_UP_MS} ms`);
        }
      } catch (err) {
        ctx.note(`parked-connect: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        await conn?.close();
        await endpoint.close().catch(() => undefined);
      }
    };
    await Promise.all(ctx.sources.flatMap((s) => Array.from({ length: CONNECTIONS_PER_SOURCE }, () => one(s))));
  },
};
