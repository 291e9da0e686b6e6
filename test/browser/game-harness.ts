/**
 * Harness of the demo game's browser tests (game-chromium, game-firefox, game-loss): builds the
 * client bundle when stale, finds and launches the system browsers, and measures what the page
 * publishes on `window.tickwire`.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { gameServerInternals } from '../../server/internals.js';
import type { WebTransportService } from '../../server/transports/webtransport-service.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLIENT_DIR = join(REPO, 'client');
export const DIST_INDEX = join(CLIENT_DIR, 'dist', 'index.html');
export const RESULTS_DIR = join(REPO, 'test-results');

export { CHROMIUM_PATH, CHROMIUM_ARGS } from '../../tools/lib/chromium.js';
export const FIREFOX_PATH = '/usr/bin/firefox-esr';

/** Whether a browser binary is there; under CI (`CI=true`) a missing one is an error instead. */
export function browserPresent(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error(`${path} is missing, and CI=true requires it (install it, see .ci/run)`);
    console.warn(`skipping: ${path} is not installed`);
    return false;
  }
}

/** Files the bundle is built from: everything under client/ except its output and dotfiles. */
function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(p, out);
    else out.push(p);
  }
  return out;
}

/**
 * Hash of the client sources (paths and contents). Timestamps are not enough: another process
 * may finish a build from older sources after a file was saved, leaving a bundle newer than
 * its sources yet stale.
 */
function sourceHash(): string {
  const h = createHash('sha256');
  for (const f of sourceFiles(CLIENT_DIR).sort()) h.update(f).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex');
}

/** Where a build done by these tests records the source hash it was built from. */
const HASH_FILE = join(CLIENT_DIR, 'dist', '.tickwire-source-hash');

/** True when client/dist is missing or was not built (by these tests) from the current sources. */
export function clientBundleStale(): boolean {
  if (!existsSync(DIST_INDEX) || !existsSync(HASH_FILE)) return true;
  return readFileSync(HASH_FILE, 'utf8').trim() !== sourceHash();
}

/** Longest a build may hold the lock before another test process takes it over. */
const BUILD_LOCK_STALE_MS = 180_000;

/**
 * Builds client/dist with Vite when stale. Test files run in parallel workers, so a lock
 * directory (atomic mkdir) keeps two builds from writing client/dist at once.
 */
export async function ensureClientBuilt(): Promise<void> {
  if (!clientBundleStale()) return;
  const lock = join(tmpdir(), `tickwire-client-build-${createHash('sha256').update(REPO).digest('hex').slice(0, 12)}.lock`);
  const deadline = Date.now() + BUILD_LOCK_STALE_MS + 30_000;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > BUILD_LOCK_STALE_MS) rmSync(lock, { recursive: true, force: true });
      } catch {
        // the holder just released it
      }
      if (Date.now() > deadline) throw new Error('client build lock never released');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (!clientBundleStale()) return; // another worker built it while we waited
    // Hash before building: if a source changes during the build, the next check rebuilds.
    const hash = sourceHash();
    const { build } = await import('vite');
    await build({ configFile: join(CLIENT_DIR, 'vite.config.ts'), logLevel: 'warn' });
    writeFileSync(HASH_FILE, hash);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(what: string, probe: () => Promise<T> | T, timeoutMs = 15_000, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export function resultPath(name: string): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  return join(RESULTS_DIR, name);
}

/** One frame as `window.tickwire.samples()` returns it: entities [id, x, y, own]. */
export interface FrameSample {
  t: number;
  e: Array<[number, number, number, number]>;
}

export interface StallReport {
  frames: number;
  /** Page-clock span covered, ms. */
  spanMs: number;
  /** Longest time the entity's drawn position stayed put, ms. */
  longestStallMs: number;
  /** Longest time between two drawn frames, ms (page hiccups, not network stalls). */
  longestFrameGapMs: number;
  /** Frames in which the entity was absent. */
  missingFrames: number;
}

/**
 * Measures how smoothly one entity moved in a series of drawn frames. A stall is a run of
 * frames where its drawn position did not change: from the first frame that repeated the
 * position to the frame where it moved again (or the last frame).
 */
export function analyzeStalls(samples: readonly FrameSample[], entityId: number): StallReport {
  let longest = 0;
  let longestGap = 0;
  let missing = 0;
  let prev: { t: number; x: number; y: number } | null = null;
  let stillSince: number | null = null;
  for (const s of samples) {
    const e = s.e.find((x) => x[0] === entityId);
    if (!e) {
      missing++;
      continue;
    }
    const cur = { t: s.t, x: e[1], y: e[2] };
    if (prev) {
      longestGap = Math.max(longestGap, cur.t - prev.t);
      const moved = Math.abs(cur.x - prev.x) > 1e-6 || Math.abs(cur.y - prev.y) > 1e-6;
      if (!moved) {
        if (stillSince === null) stillSince = prev.t;
        longest = Math.max(longest, cur.t - stillSince);
      } else {
        if (stillSince !== null) longest = Math.max(longest, cur.t - stillSince);
        stillSince = null;
      }
    }
    prev = cur;
  }
  const span = samples.length > 1 ? samples[samples.length - 1].t - samples[0].t : 0;
  return { frames: samples.length, spanMs: span, longestStallMs: longest, longestFrameGapMs: longestGap, missingFrames: missing };
}

export interface PixelStats {
  width: number;
  height: number;
  /** Variance of luminance (0-255 scale); a blank canvas has ~0. */
  variance: number;
  /** Distinct colours (counted up to 5000). */
  colours: number;
}

/**
 * Runs in the page: decodes a PNG (base64) with the browser's own decoder into a 2D canvas and
 * measures it. Passed to page.evaluate, so it must use nothing from this module.
 */
export async function pixelStatsInPage(b64: string): Promise<PixelStats> {
  const img = new Image();
  img.src = `data:image/png;base64,${b64}`;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.naturalWidth;
  c.height = img.naturalHeight;
  const g = c.getContext('2d');
  if (!g) throw new Error('no 2d context');
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  let sum = 0;
  let sum2 = 0;
  const colours = new Set<number>();
  for (let i = 0; i < d.length; i += 4) {
    const l = 0.2126 * d[i] + 0.7152 * d[i + 1] + 0.0722 * d[i + 2];
    n++;
    sum += l;
    sum2 += l * l;
    if (colours.size < 5000) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  }
  const mean = sum / n;
  return { width: c.width, height: c.height, variance: sum2 / n - mean * mean, colours: colours.size };
}

// ---- driving the page -------------------------------------------------------------------------

/** What the tests read from `window.tickwire` (a plain copy). */
export interface TickwireView {
  transport: 'webtransport' | 'websocket' | null;
  transportLabel: string;
  connected: boolean;
  rttMs: number | null;
  snapshotsReceived: number;
  entities: number;
  interpDelayMs: number;
  chat: string[];
  chatNotice: string;
  ownEntityId: number | null;
  renderer: string | null;
  frames: number;
  positions: Array<{ id: number; x: number; y: number; own: boolean; name: string }>;
  hud: Record<string, string> | null;
  connectStartedAt: number | null;
  welcomeAt: number | null;
  now: number;
  errors: string[];
  status: string;
  statusLog: string[];
  state: string;
  reconnects: number;
  datagramsLost: number;
  pointerTarget: { x: number; y: number } | null;
}

/** Runs in the page: copies the fields above out of `window.tickwire` (null before it exists). */
export function readTickwireInPage(): TickwireView | null {
  const t = (window as unknown as { tickwire?: Record<string, unknown> }).tickwire;
  if (!t) return null;
  const stats = t.stats as { datagramsLost: number; reconnects: number };
  return {
    transport: t.transport, transportLabel: t.transportLabel, connected: t.connected, rttMs: t.rttMs,
    snapshotsReceived: t.snapshotsReceived, entities: t.entities, interpDelayMs: t.interpDelayMs, chat: t.chat,
    chatNotice: t.chatNotice, ownEntityId: t.ownEntityId, renderer: t.renderer, frames: t.frames, positions: t.positions,
    hud: t.hud, connectStartedAt: t.connectStartedAt, welcomeAt: t.welcomeAt, now: t.now, errors: t.errors,
    status: t.status, statusLog: t.statusLog, state: t.state, reconnects: stats.reconnects, datagramsLost: stats.datagramsLost, pointerTarget: t.pointerTarget,
  } as TickwireView;
}

/** The few page operations the scenarios need, over playwright's or puppeteer's Page. */
export interface GamePage {
  readonly label: string;
  tw(): Promise<TickwireView | null>;
  samplesSince(t: number): Promise<FrameSample[]>;
  text(selector: string): Promise<string>;
  keyDown(key: string): Promise<void>;
  keyUp(key: string): Promise<void>;
  press(key: string): Promise<void>;
  type(text: string): Promise<void>;
  /** Page point (CSS pixels) where a world point is drawn. */
  clientPointOf(x: number, y: number): Promise<{ x: number; y: number } | null>;
  /** A mouse click at a page point (CSS pixels). */
  click(x: number, y: number): Promise<void>;
  /** Cuts (or restores) the page's network, where the driver can (Chromium). */
  offline?(on: boolean): Promise<void>;
  /** A touch tap at a page point, where the page was opened with touch support. */
  tap?(x: number, y: number): Promise<void>;
  /** Full-page screenshot saved at `path`, returned as base64 PNG. */
  screenshot(path: string): Promise<string>;
  /** Runs pixelStatsInPage on a base64 PNG. */
  pixelStats(b64: string): Promise<PixelStats>;
  /** Hides (or shows again) the HTML panels so a screenshot shows only the canvas. */
  panels(visible: boolean): Promise<void>;
}

/** Runs in the page. */
export function clientPointInPage(p: { x: number; y: number }): { x: number; y: number } | null {
  const t = (window as unknown as { tickwire: { clientPointOf(x: number, y: number): { x: number; y: number } | null } }).tickwire;
  return t.clientPointOf(p.x, p.y);
}

/** Runs in the page. */
export function setPanelsInPage(visible: boolean): void {
  for (const id of ['hud', 'chat']) {
    const el = document.getElementById(id);
    if (el) el.style.visibility = visible ? '' : 'hidden';
  }
}

/** Runs in the page. */
export function samplesInPage(since: number): FrameSample[] {
  const t = (window as unknown as { tickwire: { samples(s: number): FrameSample[] } }).tickwire;
  return t.samples(since);
}

/** Waits for the page to be connected and to see `players` entities. */
export async function waitJoined(p: GamePage, players: number, timeoutMs = 20_000): Promise<TickwireView> {
  return waitFor(`${p.label} to join and see ${players} players`, async () => {
    const t = await p.tw();
    return t && t.connected && t.entities >= players && t.ownEntityId !== null && t.positions.length >= players ? t : null;
  }, timeoutMs);
}

/** Short-way distance on the 1000-unit torus. */
export function torusDistance(a: { x: number; y: number }, b: { x: number; y: number }, size = 1000): number {
  const d = (u: number, v: number) => {
    const r = Math.abs(u - v) % size;
    return Math.min(r, size - r);
  };
  return Math.hypot(d(a.x, b.x), d(a.y, b.y));
}

/** Where `viewer` draws entity `id` (null when absent). */
export async function seenAt(viewer: GamePage, id: number): Promise<{ x: number; y: number } | null> {
  const t = await viewer.tw();
  const e = t?.positions.find((p) => p.id === id);
  return e ? { x: e.x, y: e.y } : null;
}

/**
 * `mover` holds `key` until `viewer` has drawn the mover's entity at least `distance` units
 * from where it was: the input travelled to the server, the server simulated it, and the
 * snapshots carried it to the other browser.
 */
export async function moveAndWatch(mover: GamePage, viewer: GamePage, key: string, distance = 20): Promise<number> {
  const id = (await mover.tw())?.ownEntityId;
  if (id === null || id === undefined) throw new Error(`${mover.label} has no entity`);
  const start = await waitFor(`${viewer.label} to draw ${mover.label}`, () => seenAt(viewer, id));
  await mover.keyDown(key);
  try {
    return await waitFor(`${viewer.label} to see ${mover.label} move ${distance} units`, async () => {
      const now = await seenAt(viewer, id);
      const d = now ? torusDistance(start, now) : 0;
      return d >= distance ? d : 0;
    }, 15_000);
  } finally {
    await mover.keyUp(key);
  }
}

/** `from` types a chat line (Enter opens the box, Enter sends); waits until `to` shows it. */
export async function chatAcross(from: GamePage, to: GamePage, senderName: string, text: string): Promise<void> {
  await from.press('Enter');
  await from.type(text);
  await from.press('Enter');
  const want = `${senderName}: ${text}`;
  await waitFor(`${to.label} to show "${want}"`, async () => (await to.tw())?.chat.includes(want));
  await waitFor(`${from.label} to show its own line`, async () => (await from.tw())?.chat.includes(want));
}

/**
 * World points a pointer test walks to: inside the arena and clear of the HUD (top left) and
 * the chat panel (bottom right) at the test viewport.
 */
const POINTER_TARGETS = [{ x: 250, y: 250 }, { x: 650, y: 250 }, { x: 250, y: 650 }, { x: 650, y: 650 }];

/**
 * `mover` clicks or taps the arena at the world point farthest from itself (of a few clear of
 * the panels); waits until `viewer` has drawn the mover `distance` units closer to the point
 * the page took as its target. Returns that target.
 */
export async function pointAndWatch(mover: GamePage, viewer: GamePage, how: 'click' | 'tap', distance = 20): Promise<{ x: number; y: number }> {
  const me = (await mover.tw())?.positions.find((p) => p.own);
  if (!me) throw new Error(`${mover.label} has no entity`);
  const aim = [...POINTER_TARGETS].sort((a, b) => torusDistance(me, b) - torusDistance(me, a))[0];
  const at = await mover.clientPointOf(aim.x, aim.y);
  if (!at) throw new Error('no renderer');
  const start = await waitFor(`${viewer.label} to draw ${mover.label}`, () => seenAt(viewer, me.id));
  if (how === 'tap') {
    if (!mover.tap) throw new Error(`${mover.label} has no touch screen`);
    await mover.tap(at.x, at.y);
  } else {
    await mover.click(at.x, at.y);
  }
  const target = await waitFor(`${mover.label} to take a pointer target`, async () => (await mover.tw())?.pointerTarget);
  // The page mapped the pointer back to (nearly) the world point we aimed at.
  if (torusDistance(target, aim) > 2) throw new Error(`pointer mapped to ${JSON.stringify(target)}, aimed at ${JSON.stringify(aim)}`);
  const d0 = torusDistance(start, target);
  await waitFor(`${viewer.label} to see ${mover.label} walk ${distance} units toward the ${how}`, async () => {
    const now = await seenAt(viewer, me.id);
    return now !== null && torusDistance(now, target) <= d0 - distance;
  }, 15_000);
  return target;
}

/** Screenshot of the canvas alone (panels hidden) plus the full page; returns the canvas's pixel stats. */
export async function canvasCheck(p: GamePage, name: string): Promise<PixelStats> {
  await p.panels(false);
  let b64: string;
  try {
    b64 = await p.screenshot(resultPath(`${name}-canvas.png`));
  } finally {
    await p.panels(true);
  }
  await p.screenshot(resultPath(`${name}.png`));
  return p.pixelStats(b64);
}

// ---- the server under test ------------------------------------------------------------------

export interface DemoServer {
  /** HTTP origin serving the built client, e.g. http://127.0.0.1:40123 */
  baseUrl: string;
  /** The server itself (its rooms, to post server chat lines; its feeds). */
  game: import('../../server/index.js').GameServer;
  /** The server's drain(): notice to clients, wait up to the deadline, close. */
  drain(o: { deadlineMs: number; reconnectJitterMs: number }): Promise<void>;
  close(): Promise<void>;
  /** The server's WebTransport side (its counters; with workers, their pool). */
  webTransport(): WebTransportService | null;
}

export interface DemoServerOptions {
  /** Link simulator on the WebTransport UDP path, e.g. "loss=0.05". */
  linkSim?: string;
  /** `webTransport.workers` (default: the server's). */
  wtWorkers?: number;
  /** Rooms a dev ticket may name, the first the default (default: the server's, `arena`). */
  devRooms?: string[];
}

/**
 * Starts the real game server through the public embedding API on port 0 for HTTP and
 * WebTransport, with dev tickets on and a fresh dev certificate from certs/ (in memory, so
 * parallel test files never race on files).
 */
export async function startDemoServer(o: DemoServerOptions = {}): Promise<DemoServer> {
  const { createGameServer } = await import('../../server/index.js');
  const { createDevCertificate } = await import('../../certs/dev-cert.js');
  const { randomBytes } = await import('node:crypto');
  const cert = createDevCertificate();
  const server = createGameServer({
    ticketSecret: randomBytes(32),
    host: '127.0.0.1',
    httpPort: 0,
    webTransport: {
      port: 0,
      certPem: cert.certPem,
      keyPem: cert.keyPem,
      ...(o.linkSim ? { linkSim: o.linkSim, linkSimSeed: 7 } : {}),
      ...(o.wtWorkers === undefined ? {} : { workers: o.wtWorkers }),
    },
    devTickets: o.devRooms ? { rooms: o.devRooms } : true,
    staticDir: join(CLIENT_DIR, 'dist'),
  });
  const info = await server.listen();
  return { baseUrl: info.httpUrl, game: server, drain: (d) => server.drain(d), close: () => server.close(), webTransport: () => gameServerInternals(server).webTransport() };
}

/** What one describe block of a browser game test shares: filled in by its beforeAll. */
export interface DemoGameFixture<B> {
  server: DemoServer;
  browser: B;
  /** Page closers, run last-first before the browser and the server close. */
  closers: Array<() => Promise<void>>;
}

/**
 * Registers the describe block's beforeAll (client bundle built, demo server started, browser
 * launched with `launch`) and afterAll (pages, browser, server closed, each even if an earlier
 * step failed). Call it inside describe; read the fields inside tests.
 */
export function useDemoGame<B extends { close(): Promise<void> }>(launch: () => Promise<B>, serverOptions: DemoServerOptions = {}): DemoGameFixture<B> {
  const fx = { closers: [] } as unknown as DemoGameFixture<B>;
  beforeAll(async () => {
    await ensureClientBuilt();
    fx.server = await startDemoServer(serverOptions);
    fx.browser = await launch();
  }, 180_000);
  afterAll(async () => {
    for (const c of fx.closers.reverse()) await c().catch(() => undefined);
    await fx.browser?.close();
    await fx.server?.close();
  });
  return fx;
}
