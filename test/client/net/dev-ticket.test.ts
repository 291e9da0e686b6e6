import { afterEach, describe, expect, it } from 'vitest';
import { mintDevTicket } from '../../../client/net/dev-ticket.js';
import type { FetchLike } from '../../../client/net/transport-types.js';
import { startTestServer, type TestServer } from './helpers/game-server.js';

const fetchImpl = globalThis.fetch.bind(globalThis) as FetchLike;
let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('mintDevTicket', () => {
  it('gets a ticket from a server with dev tickets, and says why when there is none', async () => {
    server = await startTestServer({ webTransport: null });
    const ticket = await mintDevTicket(fetchImpl, server.baseUrl, 'alice', 'room-7');
    expect(typeof ticket).toBe('string');
    expect(ticket.length).toBeGreaterThan(20);
    await server.close();
    server = await startTestServer({ webTransport: null, devTickets: false });
    await expect(mintDevTicket(fetchImpl, server.baseUrl, 'alice')).rejects.toThrow('dev ticket: HTTP 404');
  });
});
