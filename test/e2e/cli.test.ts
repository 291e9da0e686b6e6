import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../shared/errors.js';
import { RawClient } from '../server/ws-test-client.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let child: ChildProcess | null = null;

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = null;
});

describe('npm start (server/main.ts)', () => {
  it('serves both transports on the configured ports, mints dev tickets, drains on SIGTERM and exits 0', async () => {
    child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'server', 'main.ts')], {
      cwd: root,
      env: { ...process.env, TICKWIRE_HTTP_PORT: '0', TICKWIRE_WT_PORT: '0', TICKWIRE_BUILD_CLIENT: '0', TICKWIRE_DRAIN_MS: '3000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    const deadline = Date.now() + 30_000;
    while (!out.includes('"event":"listening"') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const line = out.split('\n').find((l) => l.includes('"event":"listening"'));
    expect(line, out).toBeDefined();
    const listening = JSON.parse(line!) as { http: string; webTransport: string; certificateSha256: string; allowedOrigins: string[]; metrics: string };
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

    const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    await c.until(() => c.of('drain').length === 1, 5_000, 'drain notice');
    expect(c.of('drain')[0]).toMatchObject({ deadlineMs: 3000 });
    expect(await c.closed(10_000)).toBe(ErrorCode.SERVER_DRAINING);
    expect(await exited).toBe(0);
  }, 60_000);
});
