/**
 * client/net's WebTransportChannel in Debian's Chromium (playwright-core) and Firefox ESR
 * (puppeteer-core over WebDriver BiDi) against our WebTransportServer: each browser's own
 * WebTransport API (datagram writer, bidi stream, closed promise) under the code the game runs.
 * The page is served from 127.0.0.1 (a secure context) and pins the dev certificate with
 * serverCertificateHashes.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEchoServer, type EchoServer } from './helpers/wt-echo-server.js';
import { waitFor } from './helpers/scripted-peer.js';

const CHROMIUM = '/usr/bin/chromium';
const FIREFOX = '/usr/bin/firefox-esr';
/** Flags that work headless as root on this kind of machine (../shared/notes); never --disable-quic. */
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
for (const b of [CHROMIUM, FIREFOX]) {
  if (!existsSync(b) && process.env.CI === 'true') throw new Error(`${b} is missing on CI`);
}

/** A page in a launched browser: evaluate a netCheck call, and shut everything down. */
interface Driver {
  call<T>(fn: string, args: unknown[]): Promise<T>;
  close(): Promise<void>;
}

type NetCheckWindow = { netCheck: Record<string, (...x: unknown[]) => unknown> };

async function launchChromium(url: string): Promise<Driver> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => 'netCheck' in window);
  return {
    call: <T>(fn: string, args: unknown[]) =>
      page.evaluate(([f, a]) => (window as unknown as NetCheckWindow).netCheck[f as string](...(a as unknown[])), [fn, args] as const) as Promise<T>,
    close: () => browser.close(),
  };
}

async function launchFirefox(url: string): Promise<Driver> {
  const profile = mkdtempSync(join(tmpdir(), 'tickwire-net-ff-'));
  const browser = await puppeteer.launch({ browser: 'firefox', protocol: 'webDriverBiDi', executablePath: FIREFOX, headless: true, userDataDir: profile });
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForFunction(() => 'netCheck' in window);
  return {
    call: <T>(fn: string, args: unknown[]) =>
      page.evaluate((f: string, a: unknown[]) => (window as unknown as NetCheckWindow).netCheck[f](...a), fn, args) as Promise<T>,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

type Msg = [number[], 'reliable' | 'unreliable'];
type Close = { code: number; reason: string; byPeer: boolean };

// Each browser against the server's default admission (no Retry for a lone browser) and with a
// stateless Retry before every connection (RFC 9000 §8.1.2).
for (const spec of [
  { name: 'Chromium', path: CHROMIUM, launch: launchChromium, retry: undefined },
  { name: 'Chromium, Retry always', path: CHROMIUM, launch: launchChromium, retry: 'always' as const },
  { name: 'Firefox ESR', path: FIREFOX, launch: launchFirefox, retry: undefined },
  { name: 'Firefox ESR, Retry always', path: FIREFOX, launch: launchFirefox, retry: 'always' as const },
]) describe.skipIf(!existsSync(spec.path))(`WebTransportChannel in ${spec.name}`, () => {
  let echo: EchoServer;
  let http: Server;
  let driver: Driver;
  const call = <T>(fn: string, ...args: unknown[]): Promise<T> => driver.call<T>(fn, args);

  beforeAll(async () => {
    const entry = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'browser-entry.ts');
    const bundle = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', write: false, target: 'es2022' });
    const js = bundle.outputFiles[0].text;
    http = createServer((req, res) => {
      if (req.url === '/app.js') {
        res.setHeader('content-type', 'text/javascript');
        res.end(js);
        return;
      }
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><meta charset="utf-8"><title>net check</title><script type="module" src="/app.js"></script>');
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    echo = await startEchoServer({ retry: spec.retry });
    driver = await spec.launch(`http://127.0.0.1:${(http.address() as { port: number }).port}/`);
  }, 60_000);

  afterAll(async () => {
    await driver?.close();
    await echo?.stop();
    await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
  });

  it('frames reliable messages, carries datagrams both ways, and reports the server close code', async () => {
    const opened = await call<{ maxUnreliableSize: number }>('open', echo.url, echo.cert.sha256Base64);
    expect(opened.maxUnreliableSize).toBeGreaterThan(1000);
    expect(await call('sendReliable', [1, 2, 3])).toBe(true);
    expect(await call('sendReliable', new Array(5000).fill(7))).toBe(true);
    for (let i = 0; i < 5; i++) await call('sendUnreliable', [33, i]);
    await waitFor(async () => (await call<Msg[]>('messages')).length >= 4, 5_000);
    const got = await call<Msg[]>('messages');
    expect(got).toContainEqual([[3, 2, 1], 'reliable']);
    expect(got).toContainEqual([new Array(5000).fill(7), 'reliable']);
    expect(got.filter((m) => m[1] === 'unreliable').length).toBeGreaterThanOrEqual(1);
    await waitFor(() => echo.streams.length === 1, 3_000);
    echo.sessions.at(-1)!.close(4009, 'draining');
    await waitFor(async () => (await call<Close[]>('closes')).length > 0, 5_000);
    expect(await call<Close[]>('closes')).toEqual([{ code: 4009, reason: 'draining', byPeer: true }]);
    expect(echo.server.stats().endpoint.retriesSent > 0).toBe(spec.retry === 'always');
  });

  it('closes with our game code, which the server receives', async () => {
    await call('open', echo.url, echo.cert.sha256Base64);
    await call('sendReliable', [1]);
    const before = echo.closes.length;
    await waitFor(() => echo.sessions.length === 2, 3_000);
    await call('close', 4000, 'bye');
    await waitFor(() => echo.closes.length > before, 5_000);
    expect(echo.closes.at(-1)).toMatchObject({ code: 4000, reason: 'bye', byPeer: true });
  });
});
