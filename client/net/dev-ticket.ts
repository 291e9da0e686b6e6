/**
 * Dev join tickets: `POST /api/dev/ticket` on a server started with `devTickets` (the demo, and
 * the servers the bots, benchmarks and experiments start). The demo page and the tools' bots
 * both mint their tickets here. A real game backend mints tickets with the shared secret instead
 * (docs/architecture.md, "HTTP").
 */
import type { FetchLike } from './transport-types.js';

/** Mints a dev ticket for player `name` (in `room`, else the endpoint's default room). */
export async function mintDevTicket(fetchImpl: FetchLike, baseUrl: string, name: string, room?: string): Promise<string> {
  const res = await fetchImpl(new URL('/api/dev/ticket', baseUrl).toString(), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(room ? { name, room } : { name }),
  });
  if (!res.ok) {
    // 429 (the server's per-address dev-ticket limit) says how long to wait; GameClient waits
    // that long (`retryAfterMs` on the error) before it asks again.
    const body = (await res.json().catch(() => ({}))) as { retryAfterMs?: unknown };
    const retryAfterMs = typeof body.retryAfterMs === 'number' ? body.retryAfterMs : 0;
    throw Object.assign(new Error(`dev ticket: HTTP ${res.status}`), { retryAfterMs });
  }
  const json = (await res.json()) as { ticket?: unknown };
  if (typeof json.ticket !== 'string') throw new Error('dev ticket: no ticket in response');
  return json.ticket;
}
