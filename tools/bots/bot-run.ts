/**
 * One measured run of the bot fleet, as `npm run bots` does it: N full bots walk about and chat
 * now and then; after everyone joined (or the join timed out) a window of `durationMs` is
 * measured and reported. Used by the bots CLI and tests.
 *
 * Everything is bounded: the run lasts the join timeout plus `durationMs` plus a short grace for
 * in-flight chat, then every client leaves and a report comes back.
 */
import type { SnapshotEvent } from '../../client/net/game-client-types.js';
import type { FetchLike, WebSocketConstructor, WebTransportConstructor } from '../../client/net/transport-types.js';
import { seededRandom } from '../../shared/random.js';
import { time32Delta } from '../../shared/time32.js';
import { epochNow, sleep } from '../lib/clock.js';
import { ProcessLoad } from '../lib/process-load.js';
import { percentile } from '../lib/stats.js';
import { BotFleet } from './fleet.js';

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

/** Event-loop delay sampling resolution of the report's `botsEventLoopDelayP99Ms`. */
const LOOP_DELAY_RESOLUTION_MS = 10;

/** Runs the fleet for `durationMs` and reports. Never throws for a bot's failure: it counts it. */
export async function runBotFleet(o: BotFleetOptions): Promise<BotFleetReport> {
  if (!Number.isInteger(o.count) || o.count < 1) throw new RangeError('count must be a positive integer');
  if (!(o.durationMs > 0)) throw new RangeError('durationMs must be positive');
  const rand = seededRandom(o.seed ?? 1);
  // Marks this run's chat lines, so history replayed from earlier runs is not counted.
  const runTag = `[run ${Math.floor(rand() * 2 ** 32).toString(36)}${Date.now().toString(36)}]`;
  const chatEvery = o.chatEveryMs ?? [1000, 3000];
  const ages: number[][] = [];
  const chatFromOthers: number[] = [];
  let endAt = Number.POSITIVE_INFINITY;

  const fleet = new BotFleet({
    url: o.url,
    transport: o.transport === 'ws' ? 'websocket' : o.transport === 'wt' ? 'webtransport' : 'auto',
    count: o.count,
    name: (i) => `${o.namePrefix ?? 'bot'}${i + 1}`,
    room: o.room,
    steering: { kind: 'wander', turnEveryMs: o.turnEveryMs ?? [500, 2500] },
    random: rand,
    WebSocket: o.WebSocket,
    WebTransport: o.WebTransport,
    fetch: o.fetch,
    log: o.log,
    onClient: (bot, client) => {
      ages[bot.index] = [];
      chatFromOthers[bot.index] = 0;
      client.on('snapshot', (s: SnapshotEvent) => {
        const mine = ages[bot.index];
        if (mine.length < AGE_SAMPLE_LIMIT_PER_BOT) mine.push(time32Delta(s.receivedAt, s.serverTime));
      });
      client.on('chat', (c) => {
        // Only this run's lines: a room that outlived an earlier run replays its history on join.
        if (c.entityId !== bot.entityId && c.text.includes(runTag)) chatFromOthers[bot.index]++;
      });
    },
  });
  // Talk: a line now and then, none in the quiet tail so all arrive within the run. The first
  // comes early (a quarter of the interval) so short runs still carry chat.
  fleet.startChat({
    firstMs: () => fleet.between(chatEvery) / 4,
    everyMs: chatEvery,
    line: (bot, n) => (epochNow() < endAt - CHAT_QUIET_TAIL_MS ? `${bot.name} ${runTag} says hello #${n}` : null),
  });
  await fleet.join({ timeoutMs: FLEET_CONNECT_TIMEOUT_MS });

  // Measurement window: counters are read at both ends, so connect time does not dilute rates.
  const clients = fleet.bots.map((b) => b.client!);
  const before = clients.map((c) => c.stats());
  const totals0 = fleet.totals();
  const load = new ProcessLoad(LOOP_DELAY_RESOLUTION_MS);
  const t0 = epochNow();
  endAt = t0 + o.durationMs;
  await sleep(o.durationMs);
  const t1 = epochNow();
  const after = clients.map((c) => c.stats());
  const totals1 = fleet.totals();
  const cpu = load.stop();

  // Let chat in flight land, bounded.
  const sent = () => clients.reduce((s, c) => s + c.stats().chatSent, 0);
  const expected = () => sent() * (clients.length - 1);
  const received = () => chatFromOthers.reduce((s, n) => s + n, 0);
  const settleUntil = epochNow() + CHAT_SETTLE_MS;
  while (received() < expected() && epochNow() < settleUntil) await sleep(50);
  fleet.close('bot run finished');

  const seconds = (t1 - t0) / 1000;
  const n = clients.length;
  const sum = (f: (i: number) => number) => clients.reduce((s, _c, i) => s + f(i), 0);
  const rtts = after.flatMap((s) => s.rttSamples);
  const gaps = after.flatMap((s) => s.snapshotGapMs);
  const allAges = ages.flat();
  const nn = (v: number | null) => (v !== null && Number.isFinite(v) ? Math.round(v * 100) / 100 : null);
  return {
    transport: o.transport,
    clients: n,
    connected: fleet.welcomed,
    durationS: Math.round(seconds * 100) / 100,
    snapshotsPerSec: Math.round((sum((i) => after[i].snapshotsReceived - before[i].snapshotsReceived) / n / seconds) * 100) / 100,
    downBytesPerSecPerClient: Math.round((totals1.down - totals0.down) / n / seconds),
    upBytesPerSecPerClient: Math.round((totals1.up - totals0.up) / n / seconds),
    rttP50Ms: nn(percentile(rtts, 50)),
    rttP99Ms: nn(percentile(rtts, 99)),
    chatSent: sent(),
    chatReceived: received(),
    chatExpected: expected(),
    snapshotAgeMsP50: nn(percentile(allAges, 50)),
    snapshotAgeMsP99: nn(percentile(allAges, 99)),
    snapshotGapMsP50: nn(percentile(gaps, 50)),
    snapshotGapMsP99: nn(percentile(gaps, 99)),
    datagramsLost: sum((i) => after[i].datagramsLost),
    reconnects: sum((i) => after[i].reconnects),
    botsEventLoopDelayP99Ms: Math.round(cpu.loopDelayP99Ms * 100) / 100,
    botsCpuPercent: Math.round(cpu.cpuPerSec * 1000) / 10,
    errors: fleet.errors.count,
    errorSamples: fleet.errors.samples,
  };
}
