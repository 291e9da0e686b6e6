/**
 * The bots side of one experiment arm, run by the harness inside the bots' namespace:
 *
 *   bots-entry.ts --url http://10.x.y.1:8080 --transport webtransport|websocket --arm <id>
 *                 --count N --seed S --chat-interval-ms M --report <file.json> [--frames <file.json>]
 *
 * N full bots of the fleet (tools/bots/fleet.ts: the browser's client/net code, with Node's
 * WebSocket and NodeWebTransport injected) join, walk in seeded random directions and, during
 * the measured window only, chat. Phases, driven by the harness (tools/lib/child.ts protocol):
 *   1. join every bot, then print {"event":"connected"};
 *   2. on {"cmd":"start","windowMs":W,"graceMs":G}: record every snapshot and chat line for W ms,
 *      print {"event":"measured"}; stop chatting, wait up to G ms for lines in flight (early
 *      once every line reached every other bot); write the report file; print {"event":"done"}.
 * It samples with the same epoch clock the server stamps snapshots with.
 *
 * With --frames, every bot also runs what the demo page draws from (client/game's WorldView: the
 * adaptive interpolation buffer for the others, prediction for itself) on what it receives, and
 * samples it at 60 Hz during the window: where it would draw each remote player, how often the
 * buffer ran dry, the interpolation delay. The harness compares those rows with the server's
 * ground truth (render-error.ts).
 */
import { writeFileSync } from 'node:fs';
import { NodeWebTransportConstructor } from '../tools/bots/node-webtransport.js';
import { BotFleet } from '../tools/bots/fleet.js';
import { flag, parseFlags } from '../tools/lib/args.js';
import { emit, fail, serveCommands } from '../tools/lib/child-entry.js';
import { epochNow, sleep } from '../tools/lib/clock.js';
import { ProcessLoad } from '../tools/lib/process-load.js';
import { seededRandom } from '../shared/random.js';
import { unwrapTime32 } from '../shared/time32.js';
import { WorldView } from '../client/game/world-view.js';
import type { ChatReceived, ChatSent } from './metrics.js';
import { ALL_ARMS, FRAME_FIELDS, type BotsReport, type FrameLog, type ObserverStats, type SnapshotSample } from './types.js';

/** Every bot must have its welcome within this time or the arm is reported as failed. */
const CONNECT_TIMEOUT_MS = 45_000;
/** Snapshot samples kept per bot: 10 minutes at 20 Hz; more is dropped (and counted). */
const SNAPSHOT_SAMPLES_PER_BOT_LIMIT = 12_000;
/** Chat receipts kept in all: bounded by lines x bots anyway, this only guards a runaway. */
const CHAT_RECEIPTS_LIMIT = 1_000_000;
/** Error messages kept for the report. */
const ERROR_LIMIT = 20;
/** Chat text marker, so lines from anything else (history, other tools) are recognisable. */
const CHAT_TAG = 'exp';
/** Marker of the warm-up chat lines sent before the window (not counted). */
const WARM_TAG = 'warm';
/** Longest wait for the warm-up lines to go round. */
const WARM_CHAT_TIMEOUT_MS = 5_000;
/** The display rate the rendered-position error is sampled at (a typical monitor's). */
const FRAME_HZ = 60;
/** Frame rows kept in all: 16 bots x 15 others x 60 Hz x 10 minutes; beyond that dropped and counted. */
const FRAME_ROWS_LIMIT = 16 * 15 * 60 * 600;

const { values: args } = parseFlags(process.argv.slice(2), {
  url: flag.origin(),
  transport: flag.choice(['webtransport', 'websocket'] as const),
  arm: flag.choice(ALL_ARMS),
  count: flag.int(1, 1000),
  seed: flag.int(0, 2 ** 32 - 1),
  'chat-interval-ms': flag.int(1, 3_600_000),
  report: flag.string(),
  frames: flag.string(),
  'interp-base': flag.number(1, 10),
  'interp-residual': flag.number(1e-9, 1),
});
const arm = args.arm ?? 'wt-datagram';
const count = args.count ?? 4;
const chatIntervalMs = args['chat-interval-ms'] ?? 2000;
const reportFile = args.report ?? '';

/** Snapshot rate from `welcome` (the same for every bot of a server). */
let announcedHz = 20;
let recording = false;
let snapshotSamplesDropped = 0;
const snapshots: SnapshotSample[] = [];
const perBotSamples = new Array<number>(count).fill(0);
const newestId = new Array<number>(count).fill(-1);
const chatSent: ChatSent[] = [];
const chatReceived: ChatReceived[] = [];
let chatRejected = 0;
let warmChatReceived = 0;
const framesFile = args.frames;
/** One demo-client view per bot (only with --frames). */
const interpRule = {
  ...(args['interp-base'] !== undefined ? { baseIntervals: args['interp-base'] } : {}),
  ...(args['interp-residual'] !== undefined ? { lossResidual: args['interp-residual'] } : {}),
};
const views: WorldView[] = framesFile ? Array.from({ length: count }, () => new WorldView(undefined, interpRule)) : [];

const fleet = new BotFleet({
  url: args.url ?? '',
  transport: args.transport ?? 'webtransport',
  count,
  name: (i) => `exp${i + 1}`,
  random: seededRandom(args.seed ?? 1),
  WebTransport: NodeWebTransportConstructor,
  errorLimit: ERROR_LIMIT,
  onClient: (bot, client) => {
    const i = bot.index;
    client.on('welcome', (w) => {
      announcedHz = w.snapshotHz;
      if (w.resumed) newestId[i] = -1;
    });
    // Wired exactly as the page wires it (client/app.ts), so the bot draws what a player would.
    const view = views[i];
    if (view) {
      client.on('welcome', (w) => view.welcome(w));
      client.on('snapshot', (s) => view.snapshot(s, client.stats().rttMs));
      client.on('input', (rec) => view.input(rec));
      client.on('playerJoined', (p) => view.playerJoined(p));
      client.on('playerLeft', (p) => view.playerLeft(p));
    }
    client.on('snapshot', (s) => {
      if (!recording) return;
      // Receipt time taken here, in the handler, on the shared epoch clock.
      const at = epochNow();
      const isNew = s.id > newestId[i] ? 1 : 0;
      if (isNew) newestId[i] = s.id;
      if (perBotSamples[i] >= SNAPSHOT_SAMPLES_PER_BOT_LIMIT) {
        snapshotSamplesDropped++;
        return;
      }
      perBotSamples[i]++;
      // The header's server time is a wrapping 32-bit ms count; restore the epoch value.
      snapshots.push([i, s.id, unwrapTime32(s.serverTime, at), at, isNew]);
    });
    client.on('chat', (c) => {
      const parts = c.text.split('|');
      if (parts[0] === WARM_TAG) warmChatReceived++;
      if (parts[0] !== CHAT_TAG || chatReceived.length >= CHAT_RECEIPTS_LIMIT) return;
      chatReceived.push({ key: `${parts[1]}:${parts[2]}`, receiver: i, receivedAt: epochNow() });
    });
    client.on('chatRejected', () => {
      chatRejected++;
    });
  },
});

/** Each bot's chat: one line per interval (+/- 25 %, seeded), first at a random phase. */
function startChat(): void {
  fleet.startChat({
    firstMs: () => fleet.draw() * chatIntervalMs,
    everyMs: [chatIntervalMs * 0.75, chatIntervalMs * 1.25],
    line: (bot, n) => {
      chatSent.push({ key: `${bot.index}:${n}`, sender: bot.index, sentAt: epochNow() });
      return `${CHAT_TAG}|${bot.index}|${n}|${arm}`;
    },
  });
}

/**
 * Draws every view at FRAME_HZ from the moment the bots joined, as a page would (the buffer's
 * delay adapts per drawn frame); rows and statistics are kept only between `begin` and `end`.
 */
class FrameSampler {
  private values: number[] = [];
  private dropped = 0;
  private keeping = false;
  private stats: ObserverStats[] = [];
  private starved0: number[] = [];
  private delaySum: number[] = [];
  private readonly timer = setInterval(() => this.tick(), 1000 / FRAME_HZ);

  begin(): void {
    this.values = [];
    this.dropped = 0;
    this.stats = views.map((_, observer) => ({ observer, frames: 0, starvedFrames: 0, interpDelayMeanMs: 0, interpDelayEndMs: 0 }));
    this.starved0 = views.map((v) => v.starvedFrames);
    this.delaySum = views.map(() => 0);
    this.keeping = true;
  }

  end(): FrameLog {
    this.keeping = false;
    views.forEach((v, i) => {
      const st = this.stats[i];
      st.starvedFrames = v.starvedFrames - this.starved0[i];
      st.interpDelayMeanMs = st.frames ? this.delaySum[i] / st.frames : 0;
      st.interpDelayEndMs = v.interpDelayMs;
    });
    return { fields: ['t', 'observer', 'id', 'x', 'y'], values: this.values, observers: this.stats, dropped: this.dropped };
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const now = epochNow();
    views.forEach((v, i) => {
      const drawn = v.frame(now);
      if (!this.keeping) return;
      const st = this.stats[i];
      st.frames++;
      this.delaySum[i] += v.interpDelayMs;
      for (const e of drawn) {
        if (e.own) continue;
        if (this.values.length / FRAME_FIELDS >= FRAME_ROWS_LIMIT) {
          this.dropped++;
          continue;
        }
        this.values.push(now, i, e.id, e.x, e.y);
      }
    });
  }
}

let sampler: FrameSampler | null = null;

async function measure(windowMs: number, graceMs: number): Promise<void> {
  const totals0 = fleet.totals();
  const load = new ProcessLoad();
  const windowStart = epochNow();
  recording = true;
  sampler?.begin();
  startChat();
  await sleep(windowMs);
  const windowEnd = epochNow();
  if (sampler && framesFile) writeFileSync(framesFile, JSON.stringify(sampler.end()));
  const loadReport = load.stop();
  fleet.stopChat();
  const totals1 = fleet.totals();
  emit('measured', { windowStart, windowEnd });
  // Lines in flight may still arrive: wait until each reached every other bot, bounded.
  const expected = chatSent.length * (count - 1);
  const delivered = () => new Set(chatReceived.filter((r) => !r.key.startsWith(`${r.receiver}:`)).map((r) => `${r.key}|${r.receiver}`)).size;
  const until = epochNow() + graceMs;
  while (delivered() < expected && epochNow() < until) await sleep(50);
  // A short extra wait lets a duplicate (if the stack ever produced one) show up too.
  await sleep(250);
  recording = false;
  const report: BotsReport & { snapshotSamplesDropped: number; errorCount: number } = {
    arm,
    bots: count,
    transports: fleet.bots.map((b) => b.transport),
    snapshotHz: announcedHz,
    windowStart,
    windowEnd,
    snapshots,
    chatSent,
    chatReceived,
    appBytesDown: totals1.down - totals0.down,
    appBytesUp: totals1.up - totals0.up,
    reconnects: fleet.totals().reconnects - totals0.reconnects,
    chatRejected,
    errors: fleet.errors.samples,
    snapshotSamplesDropped,
    errorCount: fleet.errors.count,
    loopDelayP99Ms: loadReport.loopDelayP99Ms,
    cpuPerSec: loadReport.cpuPerSec,
  };
  writeFileSync(reportFile, JSON.stringify(report));
  emit('done', { snapshots: snapshots.length, chatSent: chatSent.length, chatReceived: chatReceived.length });
}

async function stop(): Promise<void> {
  recording = false;
  sampler?.stop();
  fleet.close('experiment finished');
  // Give close frames a moment to leave.
  await sleep(200);
}

async function main(): Promise<void> {
  if (!args.url || !reportFile) {
    fail('usage: bots-entry --url U --transport T --arm A --count N --report FILE', 2);
    return;
  }
  serveCommands(async (c) => {
    if (c.cmd !== 'start') return;
    await measure(Number(c.windowMs), Number(c.graceMs));
    await stop();
    process.exit(0);
  }, { onStop: stop });
  await fleet.join({ timeoutMs: CONNECT_TIMEOUT_MS });
  const missing = count - fleet.welcomed;
  if (missing) {
    fail(`${missing} of ${count} bots got no welcome within ${CONNECT_TIMEOUT_MS} ms: ${fleet.errors.samples.slice(0, 3).join('; ')}`);
    return;
  }
  if (framesFile) sampler = new FrameSampler();
  // One chat line per bot before the window: the first use of the chat path (JIT, first
  // encodings) then happens outside the measurement, which should see steady play only.
  for (const b of fleet.bots) b.client!.sendChat(`${WARM_TAG}|${b.index}`);
  const warmUntil = epochNow() + WARM_CHAT_TIMEOUT_MS;
  while (warmChatReceived < count * count && epochNow() < warmUntil) await sleep(50);
  emit('connected', { transports: fleet.bots.map((b) => b.transport), warmChatReceived });
}

void main();
