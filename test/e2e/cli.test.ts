/**
 * `npm start` (server/main.ts) as a user runs it. The server runs as `node --import tsx` in a
 * process group of its own (tools/lib/child.ts), so a failed or timed-out run stops the whole
 * group by PID: the tsx CLI wrapper used before took SIGKILL itself and left the node process
 * under it (the server) running.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ToolChild } from '../../tools/lib/child.js';
import { ErrorCode } from '../../shared/errors.js';
import { RawClient } from '../server/ws-test-client.js';

let child: ToolChild | null = null;

afterEach(async () => {
  // SIGTERM, then SIGKILL, to the whole group; a no-op when it exited by itself.
  await child?.stop(2_000);
  child = null;
});

describe('npm start (server/main.ts)', () => {
  it('serves both transports on the configured ports, mints dev tickets, drains on SIGTERM and exits 0', async () => {
    child = ToolChild.script('server/main.ts', [], {
      label: 'npm start',
      env: { ...process.env, TICKWIRE_HTTP_PORT: '0', TICKWIRE_WT_PORT: '0', TICKWIRE_BUILD_CLIENT: '0', TICKWIRE_DRAIN_MS: '3000' },
    });
    const listening = await child.waitFor<{ event: string; http: string; webTransport: string; certificateSha256: string; allowedOrigins: string[]; metrics: string }>('listening', 30_000);
    expect(listening.allowedOrigins).toContain(listening.http);
    // The demo keeps /metrics on its public port (its tests and the README read it there).
    expect(listening.metrics).toBe(`${listening.http}/metrics`);
    expect(listening.webTransport).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/wt$/);

    const info = await (await fetch(`${listening.http}/api/connect-info`)).json() as { certificateHashes: string[]; webTransportUrl: string };
    expect(info.certificateHashes).toEqual([listening.certificateSha256]);
    expect(info.webTransportUrl).toBe(listening.webTransport);

    const t = await (await fetch(`${listening.http}/api/dev/ticket`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'cli' }),
    })).json() as { ticket: string };
    // The demo admits only its own pages ('self'): a socket naming another origin, or none, is refused.
    await expect(RawClient.connect(`${listening.http.replace('http', 'ws')}/ws`, { origin: 'http://elsewhere.example' })).rejects.toThrow(/403/);
    const c = await RawClient.connect(`${listening.http.replace('http', 'ws')}/ws`, { origin: listening.http });
    await c.welcome(t.ticket);

    const exited = child.exited;
    // SIGTERM to the server's group (main.ts drains on it); SIGKILL only if it outlives 10 s.
    void child.stop(10_000);
    await c.until(() => c.of('drain').length === 1, 5_000, 'drain notice');
    expect(c.of('drain')[0]).toMatchObject({ deadlineMs: 3000 });
    expect(await c.closed(10_000)).toBe(ErrorCode.SERVER_DRAINING);
    expect((await exited).code).toBe(0);
  }, 60_000);

  it('a run killed with SIGKILL leaves no server behind: the whole process group goes', async () => {
    child = ToolChild.script('server/main.ts', [], {
      label: 'npm start (killed)',
      env: { ...process.env, TICKWIRE_HTTP_PORT: '0', TICKWIRE_WT_PORT: '0', TICKWIRE_BUILD_CLIENT: '0' },
    });
    const listening = await child.waitFor<{ event: string; http: string }>('listening', 30_000);
    expect((await fetch(`${listening.http}/healthz`)).ok).toBe(true);
    const pid = child.pid!;
    child.killNow();
    expect((await child.exited).signal).toBe('SIGKILL');
    // Nothing of the group is left (a tsx wrapper killed alone left its node child serving).
    const deadline = Date.now() + 5_000;
    while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(groupAlive(pid)).toBe(false);
    await expect(fetch(`${listening.http}/healthz`)).rejects.toThrow();
  }, 60_000);
});

/** True while any process of the group `pid` leads still exists. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}
