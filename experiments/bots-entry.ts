/**
 * The bots side of one experiment arm, run by the harness inside the bots' namespace:
 *
 *   bots-entry.ts --url http://10.x.y.1:8080 --transport webtransport|websocket --arm <id>
 *                 --count N --seed S --chat-interval-ms M --report <file.json>
 *
 * N GameClients (the browser's client/net code, with Node's WebSocket and NodeWebTransport
 * injected) join, walk in seeded random directions and, during the measured window only, chat.
 * Phases, driven by the harness (see child.ts for the line protocol):
 *   1. connect every bot, then print {"event":"connected"};
 *   2. on stdin `start <windowMs> <graceMs>`: record every snapshot and chat line for windowMs,
 *      print {"event":"measured"}; stop chatting, wait up to graceMs for lines in flight (early
 *      once every line reached every other bot); write the report file; print {"event":"done"}.
 * It samples with the same epoch clock the server stamps snapshots with.
 */
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import { GameClient } from '../client/net/game-client.js';
import type { WebSocketConstructor } from '../client/net/transport-types.js';
import { NodeWebTransportConstructor } from '../server/bots/node-webtransport.js';
import { mintDevTicket, seededRandom } from '../server/bots/bot-fleet.js';
import { emit, parseArgs } from './child.js';
import { unwrapTime32 } from '../shared/time32.js';
import type { ChatReceived, ChatSent } from './metrics.js';
import type { ArmId, BotsReport, SnapshotSample } from './types.js';

/** Every bot must have its welcome within this time or the arm is reported as failed. */
const CONNECT_TIMEOUT_MS = 45_000;
/** Snapshot samples kept per bot: 10 minutes at 20 Hz; more is dropped (and counted). */
const SNAPSHOT_SAMPLES_PER_BOT_LIMIT = 12_000;
/** Chat receipts kept in all: bounded by lines x bots anyway, this only guards a runaway. */
const CHAT_RECEIPTS_LIMIT = 1_000_000;
/** Error messages kept for the report. */
const ERROR_LIMIT = 20;
/** How often a bot changes direction, ms (seeded). */
const TURN_EVERY_MS: [number, number] = [500, 2500];
/** Chat text marker, so lines from anything else (history, other tools) are recognisable. */
const CHAT_TAG = 'exp';
/** Marker of the warm-up chat lines sent before the window (not counted). */
const WARM_TAG = 'warm';
/** Longest wait for the warm-up lines to go round. */
const WARM_CHAT_TIMEOUT_MS = 5_000;
/** Event-loop delay sampling resolution: fine enough to see a 5 ms stall. */
const LOOP_DELAY_RESOLUTION_MS = 5;

const epochNow = (): number => performance.timeOrigin + performance.now();

const args = parseArgs(process.argv.slice(2));
const url = args.get('url') ?? '';
const transport = args.get('transport') === 'websocket' ? 'websocket' : 'webtransport';
const arm = (args.get('arm') ?? 'wt-datagram') as ArmId;
const count = Number(args.get('count') ?? 4);
const seed = Number(args.get('seed') ?? 1);
const chatIntervalMs = Number(args.get('chat-interval-ms') ?? 2000);
const reportFile = args.get('report') ?? '';

interface Bot {
  index: number;
  client: GameClient;
  entityId: number | null;
  welcomed: boolean;
  transport: string;
  newestId: number;
  timers: Array<ReturnType<typeof setTimeout>>;
}

const rand = seededRandom(seed);
const between = ([lo, hi]: [number, number]) => lo + rand() * (hi - lo);
const errors: string[] = [];
let errorCount = 0;
const noteError = (msg: string) => {
  errorCount++;
  if (errors.length < ERROR_LIMIT) errors.push(msg);
};

/** Snapshot rate from `welcome` (the same for every bot of a server). */
let announcedHz = 20;
let recording = false;
let chatting = false;
let snapshotSamplesDropped = 0;
const snapshots: SnapshotSample[] = [];
const perBotSamples = new Array<number>(count).fill(0);
const chatSent: ChatSent[] = [];
const chatReceived: ChatReceived[] = [];
let chatRejected = 0;
let warmChatReceived = 0;

const bots: Bot[] = [];
for (let i = 0; i < count; i++) {
  const name = `exp${i + 1}`;
  const client = new GameClient({
    baseUrl: url,
    // GameClient reuses a ticket across reconnects and asks again only when it expired.
    ticket: () => mintDevTicket(globalThis.fetch.bind(globalThis), url, name),
    transport,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    WebTransport: NodeWebTransportConstructor,
    now: epochNow,
  });
  const bot: Bot = { index: i, client, entityId: null, welcomed: false, transport: 'none', newestId: -1, timers: [] };
  bots.push(bot);
  client.on('welcome', (w) => {
    announcedHz = w.snapshotHz;
    bot.entityId = w.entityId;
    bot.welcomed = true;
    bot.transport = w.transport;
    if (w.resumed) bot.newestId = -1;
  });
  client.on('snapshot', (s) => {
    if (!recording) return;
    // Receipt time taken here, in the handler, on the shared epoch clock.
    const at = epochNow();
    const isNew = s.id > bot.newestId ? 1 : 0;
    if (isNew) bot.newestId = s.id;
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
  client.on('error', (e) => noteError(`${name}: ${e.code ?? ''} ${e.message}`.trim()));
  client.on('close', (c) => {
    if (recording) noteError(`${name}: closed ${c.code} ${c.reason}`);
  });
  const turn = () => {
    const a = rand() * 2 * Math.PI;
    client.setInput(Math.cos(a), Math.sin(a));
    bot.timers.push(setTimeout(turn, between(TURN_EVERY_MS)));
  };
  turn();
}

/** Each bot's chat: one line per interval (+/- 25 %, seeded), first at a random phase. */
function startChat(): void {
  chatting = true;
  for (const bot of bots) {
    let seq = 0;
    const talk = () => {
      if (!chatting) return;
      if (bot.client.connected) {
        const n = ++seq;
        chatSent.push({ key: `${bot.index}:${n}`, sender: bot.index, sentAt: epochNow() });
        bot.client.sendChat(`${CHAT_TAG}|${bot.index}|${n}|${arm}`);
      }
      bot.timers.push(setTimeout(talk, between([chatIntervalMs * 0.75, chatIntervalMs * 1.25])));
    };
    bot.timers.push(setTimeout(talk, rand() * chatIntervalMs));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function appBytes(dir: 'bytesDown' | 'bytesUp'): number {
  return bots.reduce((s, b) => {
    const st = b.client.stats();
    return s + st[dir].reliable + st[dir].unreliable;
  }, 0);
}

async function measure(windowMs: number, graceMs: number): Promise<void> {
  const reconnects0 = bots.reduce((s, b) => s + b.client.stats().reconnects, 0);
  const down0 = appBytes('bytesDown');
  const up0 = appBytes('bytesUp');
  const loop = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const windowStart = epochNow();
  recording = true;
  startChat();
  await sleep(windowMs);
  const windowEnd = epochNow();
  loop.disable();
  const cpu = process.cpuUsage(cpu0);
  chatting = false;
  const down1 = appBytes('bytesDown');
  const up1 = appBytes('bytesUp');
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
    transports: bots.map((b) => b.transport),
    snapshotHz: announcedHz,
    windowStart,
    windowEnd,
    snapshots,
    chatSent,
    chatReceived,
    appBytesDown: down1 - down0,
    appBytesUp: up1 - up0,
    reconnects: bots.reduce((s, b) => s + b.client.stats().reconnects, 0) - reconnects0,
    chatRejected,
    errors,
    snapshotSamplesDropped,
    errorCount,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    cpuPerSec: (cpu.user + cpu.system) / 1e3 / (windowEnd - windowStart),
  };
  writeFileSync(reportFile, JSON.stringify(report));
  emit('done', { snapshots: snapshots.length, chatSent: chatSent.length, chatReceived: chatReceived.length });
}

function shutdown(code: number): void {
  recording = false;
  chatting = false;
  for (const b of bots) {
    for (const t of b.timers) clearTimeout(t);
    b.client.close('experiment finished');
  }
  // Give close frames a moment to leave, then go.
  setTimeout(() => process.exit(code), 200).unref();
}

async function main(): Promise<void> {
  if (!url || !reportFile || !(count >= 1)) {
    emit('fatal', { message: 'usage: bots-entry --url U --transport T --arm A --count N --report FILE' });
    process.exit(2);
  }
  await Promise.race([
    Promise.all(bots.map((b) => b.client.connect().catch((e: unknown) => noteError(`connect: ${e instanceof Error ? e.message : String(e)}`)))),
    sleep(CONNECT_TIMEOUT_MS),
  ]);
  const deadline = epochNow() + CONNECT_TIMEOUT_MS;
  while (bots.some((b) => !b.welcomed) && epochNow() < deadline) await sleep(50);
  const missing = bots.filter((b) => !b.welcomed).length;
  if (missing) {
    emit('fatal', { message: `${missing} of ${count} bots got no welcome within ${CONNECT_TIMEOUT_MS} ms: ${errors.slice(0, 3).join('; ')}` });
    shutdown(1);
    return;
  }
  // One chat line per bot before the window: the first use of the chat path (JIT, first
  // encodings) then happens outside the measurement, which should see steady play only.
  for (const b of bots) b.client.sendChat(`${WARM_TAG}|${b.index}`);
  const warmUntil = epochNow() + WARM_CHAT_TIMEOUT_MS;
  while (warmChatReceived < count * count && epochNow() < warmUntil) await sleep(50);
  emit('connected', { transports: bots.map((b) => b.transport), warmChatReceived });
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [cmd, a, b] = line.trim().split(/\s+/);
    if (cmd === 'start') {
      measure(Number(a), Number(b)).then(
        () => shutdown(0),
        (err: unknown) => {
          emit('fatal', { message: `measure failed: ${err instanceof Error ? err.message : String(err)}` });
          shutdown(1);
        },
      );
    }
  });
}

process.on('SIGTERM', () => shutdown(143));
void main();
