/**
 * A fleet of headless players: N GameClients in one process (the same client/net code the
 * browser runs), each walking in a random direction that changes now and then and sending a chat
 * line now and then. Used by the bots CLI (`npm run bots`), tests and the experiment harness.
 *
 * Everything is bounded: the run lasts `durationMs` (plus a short grace for in-flight chat),
 * then every client leaves and a report comes back.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { percentile } from '../../client/net/sample-ring.js';
import { seededRandom } from '../../shared/random.js';
import { time32Delta } from '../../shared/time32.js';
import { GameClient } from '../../client/net/game-client.js';
import type { SnapshotEvent } from '../../client/net/game-client-types.js';
import type {
  FetchLike,
  WebSocketConstructor,
  WebTransportConstructor,
} from '../../client/net/transport-types.js';

export type BotTransport = 'ws' | 'wt' | 'auto';

export interface BotFleetOptions {
  /** HTTP origin of the server. */
  url: string;
  transport: BotTransport;
  count: number;
  durationMs: number;
  /** Needed for 'ws' and 'auto' (Node 20 has no global WebSocket: pass `ws`). */
  WebSocket?: WebSocketConstructor;
  /** Needed for 'wt' and 'auto' (server/h3's NodeWebTransport). */
  WebTransport?: WebTransportConstructor;
  fetch?: FetchLike;
  /** Room to join (the dev ticket endpoint's default when absent). */
  room?: string;
  /** Seed for the bots' movement and chat timing (not for the clients' backoff jitter). */
  seed?: number;
  /** Range of the delay between a bot's chat lines, ms. Default [1000, 3000]. */
  chatEveryMs?: [number, number];
  /** Range of the delay between direction changes, ms. Default [500, 2500]. */
  turnEveryMs?: [number, number];
  /** Name prefix for the bots. */
  namePrefix?: string;
  /** Called for progress lines (connects, errors); default silent. */
  log?: (line: string) => void;
}

export interface BotFleetReport {
  transport: string;
  clients: number;
  /** Clients that got a welcome. */
  connected: number;
  durationS: number;
  /** Mean snapshots per second per client over the measurement window. */
  snapshotsPerSec: number;
  downBytesPerSecPerClient: number;
  upBytesPerSecPerClient: number;
  rttP50Ms: number | null;
  rttP99Ms: number | null;
  chatSent: number;
  /** This run's chat lines received from other bots (own echoes and replayed history excluded). */
  chatReceived: number;
  /** What chatReceived should be: each line reaches every other bot once. */
  chatExpected: number;
  /** Snapshot age: client receipt time minus the snapshot's server time (same machine clock). */
  snapshotAgeMsP50: number | null;
  snapshotAgeMsP99: number | null;
  snapshotGapMsP50: number | null;
  snapshotGapMsP99: number | null;
  datagramsLost: number;
  reconnects: number;
  /**
   * This process's event-loop delay p99 and CPU use during the window: when they are high, the
   * bots (not the server) limit the figures above (late timers, late reads).
   */
  botsEventLoopDelayP99Ms: number;
  botsCpuPercent: number;
  errors: number;
  /** First few error messages, for diagnosis. */
  errorSamples: string[];
}

/** Snapshot ages kept per bot for percentiles (a minute at 20 Hz). */
export const AGE_SAMPLE_LIMIT_PER_BOT = 1_200;

/** Time allowed for all bots to connect before the measurement starts anyway. */
export const FLEET_CONNECT_TIMEOUT_MS = 10_000;

/** After the run, wait at most this long for chat lines still in flight. */
export const CHAT_SETTLE_MS = 1_000;

/** Bots stop sending chat this long before the end so every line can arrive in the window. */
export const CHAT_QUIET_TAIL_MS = 400;

/** Error messages kept for the report. */
export const ERROR_SAMPLE_LIMIT = 5;

/** Epoch-based clock, the same one the server stamps snapshots with (server/clock.ts). */
const epochNow = (): number => performance.timeOrigin + performance.now();

/** mulberry32 from shared/random.ts, re-exported: a fleet's behaviour repeats for a seed. */
export { seededRandom };

/** Mints a dev ticket: `POST /api/dev/ticket` (server started with devTickets). */
export async function mintDevTicket(fetchImpl: FetchLike, baseUrl: string, name: string, room?: string): Promise<string> {
  const res = await fetchImpl(new URL('/api/dev/ticket', baseUrl).toString(), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(room ? { name, room } : { name }),
  });
  if (!res.ok) throw new Error(`dev ticket: HTTP ${res.status}`);
  const json = (await res.json()) as { ticket?: unknown };
  if (typeof json.ticket !== 'string') throw new Error('dev ticket: no ticket in response');
  return json.ticket;
}

interface Bot {
  client: GameClient;
  entityId: number | null;
  ages: number[];
  chatFromOthers: number;
  welcomed: boolean;
  timers: ReturnType<typeof setTimeout>[];
}

/** Runs the fleet for `durationMs` and reports. Never throws for a bot's failure: it counts it. */
export async function runBotFleet(o: BotFleetOptions): Promise<BotFleetReport> {
  if (!Number.isInteger(o.count) || o.count < 1) throw new RangeError('count must be a positive integer');
  if (!(o.durationMs > 0)) throw new RangeError('durationMs must be positive');
  const fetchImpl = o.fetch ?? (globalThis.fetch.bind(globalThis) as FetchLike);
  const rand = seededRandom(o.seed ?? 1);
  const between = ([lo, hi]: [number, number]) => lo + rand() * (hi - lo);
  const chatEvery = o.chatEveryMs ?? [1000, 3000];
  const turnEvery = o.turnEveryMs ?? [500, 2500];
  const log = o.log ?? (() => {});
  const errors: string[] = [];
  let errorCount = 0;
  const noteError = (msg: string) => {
    errorCount++;
    if (errors.length < ERROR_SAMPLE_LIMIT) errors.push(msg);
    log(`error: ${msg}`);
  };
  const transport = o.transport === 'ws' ? 'websocket' : o.transport === 'wt' ? 'webtransport' : 'auto';
  let running = true;
  let endAt = Number.POSITIVE_INFINITY;

  // Marks this run's chat lines, so history replayed from earlier runs is not counted.
  const runTag = `[run ${Math.floor(rand() * 2 ** 32).toString(36)}${Date.now().toString(36)}]`;
  const bots: Bot[] = [];
  for (let i = 0; i < o.count; i++) {
    const name = `${o.namePrefix ?? 'bot'}${i + 1}`;
    const client = new GameClient({
      baseUrl: o.url,
      // GameClient asks again only when the server says the ticket expired; reconnects reuse it.
      ticket: () => mintDevTicket(fetchImpl, o.url, name, o.room),
      transport,
      WebSocket: o.WebSocket,
      WebTransport: o.WebTransport,
      fetch: fetchImpl,
      now: epochNow,
    });
    const bot: Bot = { client, entityId: null, ages: [], chatFromOthers: 0, welcomed: false, timers: [] };
    bots.push(bot);
    client.on('welcome', (w) => {
      bot.entityId = w.entityId;
      bot.welcomed = true;
      log(`${name}: welcome over ${w.transport} (entity ${w.entityId}${w.resumed ? ', resumed' : ''})`);
    });
    client.on('snapshot', (s: SnapshotEvent) => {
      if (bot.ages.length < AGE_SAMPLE_LIMIT_PER_BOT) bot.ages.push(time32Delta(s.receivedAt, s.serverTime));
    });
    client.on('chat', (c) => {
      // Only this run's lines: a room that outlived an earlier run replays its history on join.
      if (c.entityId !== bot.entityId && c.text.includes(runTag)) bot.chatFromOthers++;
    });
    client.on('error', (e) => noteError(`${name}: ${e.code ?? ''} ${e.message}`.trim()));
    client.on('close', (c) => {
      if (running) noteError(`${name}: closed ${c.code} ${c.reason}`);
    });
    // Walk: a random heading, changed now and then.
    const turn = () => {
      if (!running) return;
      const a = rand() * 2 * Math.PI;
      client.setInput(Math.cos(a), Math.sin(a));
      bot.timers.push(setTimeout(turn, between(turnEvery)));
    };
    // Talk: a line now and then, none in the quiet tail so all arrive within the run.
    let line = 0;
    const talk = () => {
      if (!running) return;
      if (epochNow() < endAt - CHAT_QUIET_TAIL_MS && client.connected) client.sendChat(`${name} ${runTag} says hello #${++line}`);
      bot.timers.push(setTimeout(talk, between(chatEvery)));
    };
    turn();
    // The first line comes early (a quarter of the interval) so short runs still carry chat.
    bot.timers.push(setTimeout(talk, between(chatEvery) / 4));
  }

  const connectAll = Promise.all(
    bots.map((b) => b.client.connect().catch((e: unknown) => noteError(`connect: ${e instanceof Error ? e.message : String(e)}`))),
  );
  await Promise.race([connectAll, sleep(FLEET_CONNECT_TIMEOUT_MS)]);

  // Measurement window: counters are read at both ends, so connect time does not dilute rates.
  const before = bots.map((b) => b.client.stats());
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpu0 = process.cpuUsage();
  const t0 = epochNow();
  endAt = t0 + o.durationMs;
  await sleep(o.durationMs);
  const t1 = epochNow();
  const after = bots.map((b) => b.client.stats());
  loopDelay.disable();
  const cpu = process.cpuUsage(cpu0);

  // Let chat in flight land, bounded.
  const sent = () => bots.reduce((s, b) => s + b.client.stats().chatSent, 0);
  const expected = () => sent() * (bots.length - 1);
  const received = () => bots.reduce((s, b) => s + b.chatFromOthers, 0);
  const settleUntil = epochNow() + CHAT_SETTLE_MS;
  while (received() < expected() && epochNow() < settleUntil) await sleep(50);

  running = false;
  for (const b of bots) {
    for (const t of b.timers) clearTimeout(t);
    b.client.close('bot run finished');
  }

  const seconds = (t1 - t0) / 1000;
  const n = bots.length;
  const sum = (f: (i: number) => number) => bots.reduce((s, _b, i) => s + f(i), 0);
  const bytes = (s: ReturnType<GameClient['stats']>, dir: 'bytesDown' | 'bytesUp') => s[dir].reliable + s[dir].unreliable;
  const rtts = after.flatMap((s) => s.rttSamples);
  const gaps = after.flatMap((s) => s.snapshotGapMs);
  const ages = bots.flatMap((b) => b.ages);
  const nn = (v: number) => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null);
  return {
    transport: o.transport,
    clients: n,
    connected: bots.filter((b) => b.welcomed).length,
    durationS: Math.round(seconds * 100) / 100,
    snapshotsPerSec: Math.round((sum((i) => after[i].snapshotsReceived - before[i].snapshotsReceived) / n / seconds) * 100) / 100,
    downBytesPerSecPerClient: Math.round(sum((i) => bytes(after[i], 'bytesDown') - bytes(before[i], 'bytesDown')) / n / seconds),
    upBytesPerSecPerClient: Math.round(sum((i) => bytes(after[i], 'bytesUp') - bytes(before[i], 'bytesUp')) / n / seconds),
    rttP50Ms: nn(percentile(rtts, 50)),
    rttP99Ms: nn(percentile(rtts, 99)),
    chatSent: sent(),
    chatReceived: received(),
    chatExpected: expected(),
    snapshotAgeMsP50: nn(percentile(ages, 50)),
    snapshotAgeMsP99: nn(percentile(ages, 99)),
    snapshotGapMsP50: nn(percentile(gaps, 50)),
    snapshotGapMsP99: nn(percentile(gaps, 99)),
    datagramsLost: sum((i) => after[i].datagramsLost),
    reconnects: sum((i) => after[i].reconnects),
    botsEventLoopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
    botsCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / (t1 - t0)) * 1000) / 10,
    errors: errorCount,
    errorSamples: errors,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
