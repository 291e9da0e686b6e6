/**
 * Debian's Firefox ESR (puppeteer-core over WebDriver BiDi; it speaks WebTransport draft-02
 * only) against our WebTransportServer: datagrams both ways, a 100 KB bidi echo, a server uni
 * stream, and session close codes both ways. Firefox surfaces a server stream reset as a plain
 * TypeError without the code, so only the fact of the error is checked there.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { SERVER_UNI_TEXT, startHarness, type Harness } from './fixtures/wt-harness.js';
import { waitFor } from '../server/h3/helpers/util.js';

const FIREFOX = '/usr/bin/firefox-esr';
const available = existsSync(FIREFOX);
if (!available && process.env.CI === 'true') throw new Error(`${FIREFOX} is missing on CI`);
if (!available) console.warn(`skipping Firefox WebTransport tests: ${FIREFOX} not installed`);

type Check = Record<string, unknown>;

// With the server's default admission (no Retry for a lone browser) and with a stateless Retry
// before every connection (RFC 9000 §8.1.2).
for (const retry of [undefined, 'always' as const]) describe.skipIf(!available)(`Firefox ESR WebTransport (draft-02${retry ? ', Retry always' : ''})`, () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let profile: string;
  const call = (fn: string, ...args: unknown[]): Promise<Check> =>
    page.evaluate((f, a) => (window as unknown as { wtCheck: Record<string, (...x: unknown[]) => Promise<Check>> }).wtCheck[f](...a), fn, args);

  beforeAll(async () => {
    h = await startHarness({ retry });
    profile = mkdtempSync(join(tmpdir(), 'tickwire-ff-'));
    browser = await puppeteer.launch({
      browser: 'firefox',
      protocol: 'webDriverBiDi',
      executablePath: FIREFOX,
      headless: true,
      userDataDir: profile,
    });
    page = await browser.newPage();
    await page.goto(h.pageUrl);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await h?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('opens a session, echoes datagrams both ways, a 100 KB stream, reads a server uni stream', async () => {
    const c = await call('connect', h.wtUrl, h.hashB64);
    expect(c.ok).toBe(true);
    // Firefox reports 1024 right after ready; 1000-byte datagrams fit either way.
    expect(await call('datagramEcho', 10, 1000)).toEqual({ received: 10 });
    expect(await call('serverDatagrams')).toEqual({ received: 10 });
    expect(await call('bidiEcho', 100_000)).toEqual({ length: 100_000, same: true });
    expect(await call('readServerUni')).toEqual({ text: SERVER_UNI_TEXT });
    const e = h.server.stats().endpoint;
    expect(e.retriesSent > 0).toBe(retry === 'always');
    expect(e.retryTokensInvalid + e.initialsDroppedAddressLimit + e.initialsDroppedHandshakeLimit).toBe(0);
  });

  it('errors the stream the server resets', async () => {
    const r = await call('serverReset', 77);
    expect(r.error).not.toBeNull();
  });

  it('delivers close codes both ways, then the server drops the connection', async () => {
    expect(await call('askServerClose', 4321, 'server says bye')).toEqual({ closeCode: 4321, reason: 'server says bye' });
    expect((await call('connect', h.wtUrl, h.hashB64)).ok).toBe(true);
    expect(await call('clientClose', 1234, 'browser says bye')).toEqual({ closeCode: 1234, reason: 'browser says bye' });
    await waitFor(() => h.serverCloses.length === 2);
    expect(h.serverCloses[1]).toEqual({ code: 1234, reason: 'browser says bye', byPeer: true });
    await waitFor(() => h.server.stats().connectionsActive === 0, 10_000);
  });
});
