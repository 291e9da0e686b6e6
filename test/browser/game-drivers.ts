/**
 * GamePage over the two browser drivers: playwright-core for Chromium, puppeteer-core over
 * WebDriver BiDi for Firefox ESR (Playwright cannot drive stock Firefox; ../shared/notes).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser as PwBrowser, type Page as PwPage } from 'playwright-core';
import puppeteer, { type Browser as PpBrowser, type Page as PpPage } from 'puppeteer-core';
import {
  CHROMIUM_ARGS, CHROMIUM_PATH, FIREFOX_PATH, clientPointInPage, pixelStatsInPage, readTickwireInPage, samplesInPage, setPanelsInPage,
  type DemoGameFixture, type GamePage,
} from './game-harness.js';

export const VIEWPORT = { width: 1100, height: 720 };

export async function launchChromium(): Promise<PwBrowser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] });
}

export interface ChromiumPageOptions {
  /** Remove window.WebTransport before any page script runs (the fallback test). */
  withoutWebTransport?: boolean;
  /** A touch screen (a phone-like page), so taps are real touch pointer events. */
  touch?: boolean;
}

/** Opens `url` in a fresh browser context (its own storage, like another person's browser). */
export async function openChromiumPage(browser: PwBrowser, url: string, label: string, o: ChromiumPageOptions = {}): Promise<{ page: PwPage; game: GamePage; close(): Promise<void> }> {
  const context = await browser.newContext({ viewport: VIEWPORT, hasTouch: o.touch === true });
  if (o.withoutWebTransport) {
    await context.addInitScript(() => {
      delete (window as { WebTransport?: unknown }).WebTransport;
    });
  }
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  const game: GamePage = {
    label,
    tw: () => page.evaluate(readTickwireInPage),
    samplesSince: (t) => page.evaluate(samplesInPage, t),
    text: async (sel) => (await page.textContent(sel)) ?? '',
    keyDown: (k) => page.keyboard.down(k),
    keyUp: (k) => page.keyboard.up(k),
    press: (k) => page.keyboard.press(k),
    // One input event for the whole text (as a paste or an IME does): typing key by key takes
    // a round trip per key, slow enough on a loaded machine to defeat the chat burst test.
    type: (t) => page.keyboard.insertText(t),
    clientPointOf: (x, y) => page.evaluate(clientPointInPage, { x, y }),
    click: (x, y) => page.mouse.click(x, y),
    offline: (on) => context.setOffline(on),
    ...(o.touch ? { tap: (x: number, y: number) => page.touchscreen.tap(x, y) } : {}),
    screenshot: async (path) => (await page.screenshot({ path })).toString('base64'),
    pixelStats: (b64) => page.evaluate(pixelStatsInPage, b64),
    panels: (v) => page.evaluate(setPanelsInPage, v),
  };
  return { page, game, close: () => context.close() };
}

export interface ChromiumPlayerOptions extends ChromiumPageOptions {
  /** More query parameters for the page after `name` (e.g. `{ transport: 'webtransport' }`). */
  query?: Record<string, string>;
}

/**
 * Player `name` on the demo page (`/?name=<name>` plus `o.query`), labelled `name`, in a fresh
 * context of the fixture's Chromium; the fixture closes it after the tests, before the browser.
 * The one way the Chromium game tests open a player, so each says only who joins and how; a
 * test that needs the Playwright page itself calls openChromiumPage.
 */
export async function openChromiumPlayer(fx: DemoGameFixture<PwBrowser>, name: string, o: ChromiumPlayerOptions = {}): Promise<GamePage> {
  const { query, ...pageOptions } = o;
  const opened = await openChromiumPage(fx.browser, `${fx.server.baseUrl}/?${new URLSearchParams({ name, ...query })}`, name, pageOptions);
  fx.closers.push(opened.close);
  return opened.game;
}

export interface FirefoxHandle {
  browser: PpBrowser;
  close(): Promise<void>;
}

/** Firefox ESR with a fresh profile directory (removed on close). */
export async function launchFirefox(): Promise<FirefoxHandle> {
  const profile = mkdtempSync(join(tmpdir(), 'tickwire-ff-'));
  // Keep Firefox from phoning home on this closed network, and quiet.
  writeFileSync(join(profile, 'user.js'), [
    'user_pref("app.update.enabled", false);',
    'user_pref("browser.shell.checkDefaultBrowser", false);',
    'user_pref("datareporting.policy.dataSubmissionEnabled", false);',
    'user_pref("toolkit.telemetry.enabled", false);',
    'user_pref("network.captive-portal-service.enabled", false);',
  ].join('\n'));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX_PATH,
    userDataDir: profile,
    headless: true,
  });
  return {
    browser,
    async close() {
      try {
        await browser.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}

export async function openFirefoxPage(browser: PpBrowser, url: string, label: string): Promise<{ page: PpPage; game: GamePage; close(): Promise<void> }> {
  const context = await browser.createBrowserContext();
  // A window of its own, not a tab: Firefox runs a background tab's animation frames at
  // 1 per second, which would freeze the page that is not in front.
  const page = await context.newPage({ type: 'window' });
  await page.setViewport(VIEWPORT);
  await page.goto(url);
  const game: GamePage = {
    label,
    tw: () => page.evaluate(readTickwireInPage),
    samplesSince: (t) => page.evaluate(samplesInPage, t),
    text: async (sel) => (await page.$eval(sel, (el) => el.textContent ?? '')) as string,
    keyDown: (k) => page.keyboard.down(k as never),
    keyUp: (k) => page.keyboard.up(k as never),
    press: (k) => page.keyboard.press(k as never),
    type: (t) => page.keyboard.type(t),
    clientPointOf: (x, y) => page.evaluate(clientPointInPage, { x, y }),
    click: (x, y) => page.mouse.click(x, y),
    screenshot: async (path) => Buffer.from(await page.screenshot({ path: path as `${string}.png` })).toString('base64'),
    pixelStats: (b64) => page.evaluate(pixelStatsInPage, b64),
    panels: (v) => page.evaluate(setPanelsInPage, v),
  };
  return { page, game, close: () => context.close() };
}
