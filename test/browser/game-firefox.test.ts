/**
 * The demo game in Debian's Firefox ESR (puppeteer-core over WebDriver BiDi, fresh profile):
 * two players join over WebTransport (draft-02, all Firefox speaks), see each other move, and
 * chat. Screenshots go to test-results/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchFirefox, openFirefoxPage, type FirefoxHandle } from './game-drivers.js';
import {
  FIREFOX_PATH, browserPresent, canvasCheck, chatAcross, ensureClientBuilt, moveAndWatch, startDemoServer, waitFor, waitJoined,
  type DemoServer,
} from './game-harness.js';

const present = browserPresent(FIREFOX_PATH);

describe.skipIf(!present)('demo game in Firefox ESR', () => {
  let server: DemoServer;
  let firefox: FirefoxHandle;
  const closers: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    await ensureClientBuilt();
    server = await startDemoServer();
    firefox = await launchFirefox();
  }, 180_000);

  afterAll(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    await firefox?.close();
    await server?.close();
  });

  it('two players over WebTransport see each other move and chat', async () => {
    const a = await openFirefoxPage(firefox.browser, `${server.baseUrl}/?name=Fiona`, 'Fiona');
    closers.push(a.close);
    const b = await openFirefoxPage(firefox.browser, `${server.baseUrl}/?name=Felix`, 'Felix');
    closers.push(b.close);
    const fiona = a.game;
    const felix = b.game;
    await waitJoined(fiona, 2, 30_000);
    await waitJoined(felix, 2, 30_000);
    for (const p of [fiona, felix]) {
      const t = (await p.tw())!;
      expect(t.transport).toBe('webtransport');
      // The HUD refreshes a few times a second.
      await waitFor(`${p.label}'s HUD to say WebTransport`, async () => (await p.text('#hud-transport')) === 'WebTransport');
    }
    expect(await moveAndWatch(fiona, felix, 'ArrowRight')).toBeGreaterThanOrEqual(20);
    expect(await moveAndWatch(felix, fiona, 'ArrowDown')).toBeGreaterThanOrEqual(20);
    await chatAcross(fiona, felix, 'Fiona', 'hello from firefox');
    await chatAcross(felix, fiona, 'Felix', 'hi fiona');
    const stats = await canvasCheck(fiona, 'game-firefox-fiona');
    expect(stats.variance).toBeGreaterThan(20);
    expect(stats.colours).toBeGreaterThan(50);
  }, 120_000);
});
