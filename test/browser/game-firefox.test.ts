/**
 * The demo game in Debian's Firefox ESR (puppeteer-core over WebDriver BiDi, fresh profile):
 * two players join over WebTransport (draft-02, all Firefox speaks), see each other move, and
 * chat. Screenshots go to test-results/.
 */
import { describe, expect, it } from 'vitest';
import { launchFirefox, openFirefoxPage } from './game-drivers.js';
import {
  FIREFOX_PATH, browserPresent, canvasCheck, chatAcross, moveAndWatch, useDemoGame, waitFor, waitJoined,
} from './game-harness.js';

const present = browserPresent(FIREFOX_PATH);

describe.skipIf(!present)('demo game in Firefox ESR', () => {
  const fx = useDemoGame(launchFirefox);

  it('two players over WebTransport see each other move and chat', async () => {
    const a = await openFirefoxPage(fx.browser.browser, `${fx.server.baseUrl}/?name=Fiona`, 'Fiona');
    fx.closers.push(a.close);
    const b = await openFirefoxPage(fx.browser.browser, `${fx.server.baseUrl}/?name=Felix`, 'Felix');
    fx.closers.push(b.close);
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
