/**
 * A real Chromium page as one more client of an experiment arm, run by the harness inside the
 * bots' network namespace (so the browser's packets cross the same impaired link):
 *
 *   browser-entry.ts --url http://10.x.y.1:8080 --transport webtransport|websocket --frames FILE
 *
 * Opens the demo page (served by the arm's server) with `?name=…&transport=…`, waits until it is
 * connected on the wanted transport and prints {"event":"connected"}. On
 * {"cmd":"start","windowMs":W} it reads what the page itself publishes on `window.tickwire` for
 * W ms: the positions it drew each frame (`samples()`), its frame and starved-frame counters, its
 * interpolation delay (polled), then writes them in the bots' frame-log format (observer
 * BROWSER_OBSERVER, page clock turned into epoch ms with `performance.timeOrigin`, the clock the
 * server stamps with) and prints {"event":"done"}. The harness compares them with the server's
 * ground truth exactly as it does the bots'.
 */
import { writeFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { flag, parseFlags } from '../tools/lib/args.js';
import { emit, fail, serveCommands } from '../tools/lib/child-entry.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../tools/lib/chromium.js';
import { sleep } from '../tools/lib/clock.js';
import { BROWSER_OBSERVER, FRAME_FIELDS, type FrameLog } from './types.js';

/** The page must be connected on the arm's transport within this time. */
const CONNECT_TIMEOUT_MS = 45_000;
/** Interpolation delay is read this often during the window. */
const POLL_MS = 100;

const { values: args } = parseFlags(process.argv.slice(2), {
  url: flag.origin(),
  transport: flag.choice(['webtransport', 'websocket'] as const),
  frames: flag.string(),
});

interface PageState {
  connected: boolean;
  transport: string | null;
  frames: number;
  starvedFrames: number;
  interpDelayMs: number;
  snapshotsReceived: number;
  now: number;
  timeOrigin: number;
  errors: string[];
}

/** Runs in the page. */
function readState(): PageState | null {
  const t = (window as unknown as { tickwire?: Record<string, unknown> }).tickwire;
  if (!t) return null;
  return {
    connected: t.connected as boolean,
    transport: t.transport as string | null,
    frames: t.frames as number,
    starvedFrames: t.starvedFrames as number,
    interpDelayMs: t.interpDelayMs as number,
    snapshotsReceived: t.snapshotsReceived as number,
    now: t.now as number,
    timeOrigin: performance.timeOrigin,
    errors: t.errors as string[],
  };
}

/** Runs in the page: drawn frames since a page-clock time ([id, x, y, own] per entity). */
function readSamples(since: number): Array<{ t: number; e: Array<[number, number, number, number]> }> {
  const t = (window as unknown as { tickwire: { samples(s: number): Array<{ t: number; e: Array<[number, number, number, number]> }> } }).tickwire;
  return t.samples(since);
}

let browser: Browser | null = null;
let page: Page | null = null;

async function state(): Promise<PageState> {
  const s = await page!.evaluate(readState);
  if (!s) throw new Error('the page has no window.tickwire');
  return s;
}

async function measure(windowMs: number, file: string): Promise<void> {
  const s0 = await state();
  const delays: number[] = [];
  const until = Date.now() + windowMs;
  while (Date.now() < until) {
    delays.push((await state()).interpDelayMs);
    await sleep(POLL_MS);
  }
  const s1 = await state();
  const samples = await page!.evaluate(readSamples, s0.now);
  const values: number[] = [];
  for (const f of samples) {
    if (f.t > s1.now) continue;
    const at = s1.timeOrigin + f.t;
    for (const [id, x, y, own] of f.e) if (!own) values.push(at, BROWSER_OBSERVER, id, x, y);
  }
  const frames = s1.frames - s0.frames;
  const log: FrameLog & { transport: string | null; snapshots: number; windowStart: number; windowEnd: number; errors: string[] } = {
    fields: ['t', 'observer', 'id', 'x', 'y'],
    values,
    observers: [{
      observer: BROWSER_OBSERVER,
      frames,
      starvedFrames: s1.starvedFrames - s0.starvedFrames,
      interpDelayMeanMs: delays.length ? delays.reduce((a, b) => a + b, 0) / delays.length : Number.NaN,
      interpDelayEndMs: s1.interpDelayMs,
    }],
    dropped: Math.max(0, frames - samples.length),
    transport: s1.transport,
    snapshots: s1.snapshotsReceived - s0.snapshotsReceived,
    windowStart: s0.timeOrigin + s0.now,
    windowEnd: s1.timeOrigin + s1.now,
    errors: s1.errors,
  };
  writeFileSync(file, JSON.stringify(log));
  emit('done', { frames, rows: values.length / FRAME_FIELDS });
}

async function stop(): Promise<void> {
  await browser?.close().catch(() => undefined);
  browser = null;
}

async function main(): Promise<void> {
  const { url, transport, frames } = args;
  if (!url || !transport || !frames) {
    fail('usage: browser-entry --url U --transport webtransport|websocket --frames FILE', 2);
    return;
  }
  serveCommands(async (c) => {
    if (c.cmd !== 'start') return;
    await measure(Number(c.windowMs), frames);
  }, { onStop: stop });
  // WebTransport exists only in secure contexts (W3C WebTransport, [SecureContext]); a page from
  // http://10.x.y.1 is not one (only localhost and 127.0.0.0/8 are), so without this flag the
  // page has no WebTransport, and the datagram and stream arms could not be checked at all.
  const secure = `--unsafely-treat-insecure-origin-as-secure=${url}`;
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, secure] });
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  page = await context.newPage();
  await page.goto(`${url}/?name=browser&transport=${transport}`);
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  for (;;) {
    const s = await page.evaluate(readState);
    if (s?.connected && s.transport === transport && s.snapshotsReceived > 0) break;
    if (Date.now() > deadline) throw new Error(`the page was not connected on ${transport} within ${CONNECT_TIMEOUT_MS} ms: ${JSON.stringify(s)}`);
    await sleep(100);
  }
  emit('connected', { transport });
}

main().catch((err: unknown) => {
  void stop();
  fail(err instanceof Error ? err.message : String(err));
});
