import { afterEach, describe, expect, it } from 'vitest';
import { mintDevTicket } from '../../../client/net/dev-ticket.js';
import type { FetchLike } from '../../../client/net/transport-types.js';
import { closeTestServers, startTestServer } from './helpers/game-server.js';

const fetchImpl = globalThis.fetch.bind(globalThis) as FetchLike;
afterEach(closeTestServers);

describe('mintDevTicket', () => {
  it('gets a ticket from a server with dev tickets, and says why when there is none', async () => {
    let server = await startTestServer({ webTransport: null });
    const ticket = await mintDevTicket(fetchImpl, server.baseUrl, 'alice', 'arena');
    expect(typeof ticket).toBe('string');
    expect(ticket.length).toBeGreaterThan(20);
    // Only rooms the server serves: never a ticket the join would refuse.
    await expect(mintDevTicket(fetchImpl, server.baseUrl, 'alice', 'room-7')).rejects.toThrow('dev ticket: HTTP 400');
    await server.close();
    server = await startTestServer({ webTransport: null, devTickets: false });
    await expect(mintDevTicket(fetchImpl, server.baseUrl, 'alice')).rejects.toThrow('dev ticket: HTTP 404');
  });

  it("passes the server's wait on: a 429 becomes an error with retryAfterMs", async () => {
    const server = await startTestServer({ webTransport: null, devTickets: { burst: 1, perSecond: 0.5 } });
    await mintDevTicket(fetchImpl, server.baseUrl, 'alice');
    const refused = await mintDevTicket(fetchImpl, server.baseUrl, 'bob').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toBe('dev ticket: HTTP 429');
    expect((refused as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(1_000);
  });
});
