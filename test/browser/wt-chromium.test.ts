/**
 * Debian's Chromium (playwright-core) against our WebTransportServer, with its default
 * WebTransport draft (-02) and with --enable-features=EnableWebTransportDraft07: datagrams both
 * ways, a 100 KB bidi echo, a server uni stream, a server stream reset code, and session close
 * codes both ways. The page comes from a tiny HTTP server on 127.0.0.1 (a secure context) and
 * pins our certificate with serverCertificateHashes.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, SERVER_UNI_TEXT, startHarness, type Harness } from './fixtures/wt-harness.js';
import { waitFor } from '../server/h3/helpers/util.js';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing on CI`);
if (!available) console.warn(`skipping Chromium WebTransport tests: ${CHROMIUM} not installed`);

type Check = Record<string, unknown>;

// Each draft with the server's default admission (a lone browser gets no Retry) and with a
// stateless Retry before every connection (RFC 9000 §8.1.2): the browser must follow it.
for (const variant of [
  { name: 'default draft', args: [] as string[], retry: undefined },
  { name: 'default draft, Retry always', args: [] as string[], retry: 'always' as const },
  { name: 'draft-07', args: ['--enable-features=EnableWebTransportDraft07'], retry: undefined },
  { name: 'draft-07, Retry always', args: ['--enable-features=EnableWebTransportDraft07'], retry: 'always' as const },
]) {
  describe.skipIf(!available)(`Chromium WebTransport (${variant.name})`, () => {
    let h: Harness;
    let browser: Browser;
    let page: Page;
    const call = (fn: string, ...args: unknown[]): Promise<Check> =>
      page.evaluate(([f, a]) => (window as unknown as { wtCheck: Record<string, (...x: unknown[]) => Promise<Check>> }).wtCheck[f as string](...(a as unknown[])), [fn, args] as const);

    beforeAll(async () => {
      h = await startHarness({ retry: variant.retry });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...variant.args] });
      page = await browser.newPage();
      await page.goto(h.pageUrl);
    });
    afterAll(async () => {
      await browser?.close();
      await h?.stop();
    });

    it('opens a session, echoes datagrams both ways, a 100 KB stream, reads a server uni stream', async () => {
      const c = await call('connect', h.wtUrl, h.hashB64);
      expect(c.ok).toBe(true);
      expect(c.maxDatagramSize as number).toBeGreaterThan(1000);
      expect(await call('datagramEcho', 10, 1000)).toEqual({ received: 10 });
      expect(await call('serverDatagrams')).toEqual({ received: 10 });
      expect(await call('bidiEcho', 100_000)).toEqual({ length: 100_000, same: true });
      expect(await call('readServerUni')).toEqual({ text: SERVER_UNI_TEXT });
      // The connection went through a Retry exactly when asked to, and nothing was refused.
      const e = h.server.stats().endpoint;
      expect(e.retriesSent > 0).toBe(variant.retry === 'always');
      expect(e.retryTokensInvalid + e.initialsDroppedAddressLimit + e.initialsDroppedHandshakeLimit).toBe(0);
    });

    it('reports a server stream reset with its code', async () => {
      const r = await call('serverReset', 77);
      expect((r.error as Check).streamErrorCode).toBe(77);
    });

    it('delivers close codes server -> browser and browser -> server, then the server drops the connection', async () => {
      expect(await call('askServerClose', 4321, 'server says bye')).toEqual({ closeCode: 4321, reason: 'server says bye' });
      expect(h.serverCloses.at(-1)).toEqual({ code: 4321, reason: 'server says bye', byPeer: false });
      expect((await call('connect', h.wtUrl, h.hashB64)).ok).toBe(true);
      expect(await call('clientClose', 1234, 'browser says bye')).toEqual({ closeCode: 1234, reason: 'browser says bye' });
      await waitFor(() => h.serverCloses.length === 2);
      expect(h.serverCloses[1]).toEqual({ code: 1234, reason: 'browser says bye', byPeer: true });
      // Chromium never reuses a connection after its session: the server closes it itself.
      await waitFor(() => h.server.stats().connectionsActive === 0, 10_000);
    });
  });
}
