/**
 * `npm run bench:cluster [--quick] [--clients N] [--rooms R]` (docs/cluster.md): a cluster of
 * `npm start` nodes on a local redis-server, clients (GameClient over WebSocket) in this
 * process. Prints JSON lines:
 *
 * - `drain`: SIGTERM to node-1, which runs every room -> each client resumed on node-2 or node-3
 *   (p50/p99/max ms; the drain notice spreads the reconnects over 3 s), and `drainAdmission`: what
 *   the admission limit did meanwhile (accepts per second per node, refusals);
 * - `crash`: SIGKILL to the node running the most rooms -> each of its clients back (lease
 *   expiry, checkpoint restore, resume);
 * - `storm`: every client at once onto one node. A fresh node joins, the last survivor drains
 *   with no reconnect jitter, so all N clients ask the fresh node at the same instant: far over
 *   its hello limit (TICKWIRE_HELLO_RATE/BURST, 50/s and 20 here) and, above 200 clients, over its
 *   connect-info burst. Who got in at once, who was refused with which code and retry time, and
 *   whether every refused client got in (bounded by BACK_TIMEOUT_MS);
 * - `chat`: one chatter per room throughout: lines lost (a gap in a client's ids, or a line
 *   accepted and never seen) and repeated (a text seen twice), expected 0;
 * - `chatLatency` for `cluster` (two fresh nodes, nothing else running) and `single` (a node
 *   without Redis): send -> own echo per line (p50/p99), and for the cluster the Redis commands
 *   per delivered line (chat-latency.ts, redis-commands.ts).
 *
 * --quick: 120 clients in 6 rooms (about two minutes); default 300 clients in 10 rooms.
 */
import { createClient } from 'redis';
import WebSocket from 'ws';
import { GameClient } from '../../client/net/game-client.js';
import type { WelcomeEvent } from '../../client/net/game-client-types.js';
import type { FetchLike, WebSocketConstructor } from '../../client/net/transport-types.js';
import { mintTicket } from '../../server/index.js';
import { flag, parseFlags, cliArgs } from '../../tools/lib/args.js';
import { CleanupStack } from '../../tools/lib/cleanup.js';
import { writeJsonLine } from '../../tools/lib/json-lines.js';
import { localOrigins, localTicketSecret, startLocalNode, startLocalRedis, type LocalNode } from '../../tools/lib/local-cluster.js';
import { percentile } from '../../tools/lib/stats.js';
import { boundFetch, boundWebSocket } from '../soak/bound-clients.js';
import { parseGauges } from '../soak/samples.js';
import { CHAT_EVERY_MS, chatLatency } from './chat-latency.js';
import { parseCommandStats } from './redis-commands.js';
import { summarizeStorm, type StormClient } from './storm.js';

const USAGE = 'npm run bench:cluster -- [--quick] [--clients N] [--rooms R] [--base-port P]';
/** Hello admission per node, low on purpose so that the storm meets it with a few hundred clients. */
const HELLO_RATE = 50;
const HELLO_BURST = 20;
const LEASE_MS = 5_000;
/** The drain notice's reconnect window for node-1's drain (the server's default). */
const DRAIN_JITTER_MS = 3_000;
/** Bound on every wait for clients to come back. */
const BACK_TIMEOUT_MS = 90_000;
/**
 * Clients per source address (127.0.0.2, 127.0.0.3, ...: all of 127/8 is local on Linux). The
 * server keeps per-address limits (128 TCP connections on the HTTP port, 32 hellos pending, 64
 * live sessions): a few hundred clients on one address would meet those instead of the node's
 * admission limit, which is what the storm is about. 25 is a household or a small NAT.
 */
const CLIENTS_PER_ADDRESS = 25;
/** A node sees another after its next heartbeat (1 s); two to be sure. */
const HEARTBEATS_MS = 2_000;

const log = (s: string) => process.stderr.write(`${s}\n`);
const emit = (o: object) => writeJsonLine(o);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ORIGIN_PORTS = (base: number) => [base, base + 1, base + 2, base + 3];

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

function summary(ms: number[]): { n: number; p50: number; p99: number; max: number } {
  return { n: ms.length, p50: Math.round(percentile(ms, 50) ?? 0), p99: Math.round(percentile(ms, 99) ?? 0), max: Math.round(Math.max(0, ...ms)) };
}

interface Bot {
  client: GameClient;
  room: string;
  welcomes: Array<{ at: number; w: WelcomeEvent }>;
  chat: Array<{ id: number; text: string }>;
  /** The game's `error` messages that carried a code (hello refusals: SERVER_BUSY, WRONG_NODE...). */
  errors: Array<{ at: number; code: number; retryAfterMs: number | null }>;
  /** connect-info answers other than 200 (seen through the client's fetch). */
  httpRefusals: Array<{ at: number; status: number; retryAfterSeconds: number | null }>;
}

/** What each of `bots` went through from `t0` (epoch ms) to its first welcome after `welcomesBefore`. */
function stormClients(bots: readonly Bot[], t0: number, welcomesBefore: ReadonlyMap<Bot, number>): StormClient[] {
  return bots.map((b) => {
    const welcome = b.welcomes[welcomesBefore.get(b)!] ?? null;
    const end = welcome?.at ?? Infinity;
    const inWindow = (r: { at: number }) => r.at >= t0 && r.at <= end;
    return {
      welcomeAt: welcome?.at ?? null,
      resumed: welcome?.w.resumed ?? false,
      helloRefusals: b.errors.filter(inWindow),
      httpRefusals: b.httpRefusals.filter(inWindow),
    };
  });
}

/** `tickwire_refusals_total` of one node, by `layer reason` (a fresh node: the totals are the run's). */
async function nodeRefusals(node: LocalNode): Promise<Record<string, number>> {
  const text = await (await fetch(`${node.httpUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const [key, v] of Object.entries(parseGauges(text, ['tickwire_refusals_total']))) {
    const m = /layer="([^"]*)",reason="([^"]*)"/.exec(key);
    if (m && v > 0) out[`${m[1]} ${m[2]}`] = v;
  }
  return out;
}

async function main(): Promise<void> {
  const args = cliArgs(() => {
    const p = parseFlags(process.argv.slice(2), {
      quick: flag.boolean(), clients: flag.int(1, 1000), rooms: flag.int(1, 100), 'base-port': flag.int(1024, 60_000),
    });
    const quick = p.values.quick ?? false;
    return {
      quick, help: p.help,
      clients: p.values.clients ?? (quick ? 120 : 300), rooms: p.values.rooms ?? (quick ? 6 : 10), basePort: p.values['base-port'] ?? 18_480,
    };
  }, USAGE);
  const cleanup = new CleanupStack();
  cleanup.installProcessHandlers();
  const redis = await startLocalRedis(cleanup);
  const secret = localTicketSecret();
  const origins = localOrigins(ORIGIN_PORTS(args.basePort));
  const origin = origins[0];
  class OriginWebSocket extends WebSocket {
    constructor(url: string) { super(url, { origin }); }
  }
  const WS = OriginWebSocket as unknown as WebSocketConstructor;
  const nodeEnv = { TICKWIRE_LEASE_MS: String(LEASE_MS), TICKWIRE_HELLO_RATE: String(HELLO_RATE), TICKWIRE_HELLO_BURST: String(HELLO_BURST), TICKWIRE_WT: '0', TICKWIRE_DRAIN_MS: '30000' };
  /** Node `id` on the `port`-th of the origin ports (a port is reused only after its node exited). */
  const start = (id: number, port: number, env: Record<string, string> = {}, cluster = true) => startLocalNode({
    redisUrl: cluster ? redis.url : '', nodeId: `node-${id}`, httpPort: args.basePort + port, wtPort: 0,
    ticketSecret: secret, origins, cleanup, baseEnv: process.env, env: { ...nodeEnv, ...env },
  });
  const admin = createClient({ socket: { path: redis.socketPath, tls: false }, RESP: 2 });
  admin.on('error', () => {});
  await admin.connect();
  const bots: Bot[] = [];
  try {
    log(`starting node-1; ${args.clients} clients in ${args.rooms} rooms`);
    const first = await start(1, 0, { TICKWIRE_DRAIN_JITTER_MS: String(DRAIN_JITTER_MS) });
    for (let i = 0; i < args.clients; i++) {
      const room = `bench-${i % args.rooms}`;
      const bot: Bot = { room, welcomes: [], chat: [], errors: [], httpRefusals: [], client: null as unknown as GameClient };
      const address = `127.0.0.${2 + Math.floor(i / CLIENTS_PER_ADDRESS)}`;
      const fetchFrom = boundFetch(address);
      const recordingFetch: FetchLike = async (url, init) => {
        const res = await fetchFrom(url, init);
        if (res.status !== 200) {
          const retryAfter = res.headers.get('retry-after');
          bot.httpRefusals.push({ at: Date.now(), status: res.status, retryAfterSeconds: retryAfter === null ? null : Number(retryAfter) });
        }
        return res;
      };
      bot.client = new GameClient({
        baseUrl: first.httpUrl, ticket: mintTicket(secret, { playerId: `b${i}`, name: `b${i}`, room }),
        transport: 'websocket', WebSocket: boundWebSocket(address, origin), fetch: recordingFetch,
        reconnect: { baseMs: 250, maxMs: 5_000, maxAttempts: 200 },
      });
      bot.client.on('welcome', (w) => bot.welcomes.push({ at: Date.now(), w }));
      bot.client.on('chat', (m) => bot.chat.push({ id: m.id, text: m.text }));
      bot.client.on('error', (e) => { if (e.code !== undefined) bot.errors.push({ at: Date.now(), code: e.code, retryAfterMs: e.retryAfterMs ?? null }); });
      bots.push(bot);
    }
    await Promise.all(bots.map((b) => b.client.connect()));
    log('everyone joined node-1; starting node-2 and node-3');
    // node-2 and node-3 drain with no reconnect jitter: whichever survives the crash is drained
    // last, and its clients must all come at once (the storm).
    const stormEnv = { TICKWIRE_DRAIN_JITTER_MS: '0' };
    const others = await Promise.all([start(2, 1, stormEnv), start(3, 2, stormEnv)]);
    await sleep(HEARTBEATS_MS);

    // One chatter per room, all along (lines refused while a room moves are counted as such).
    const sent = new Map<string, string>(); // text -> room
    const rejected = new Set<string>();
    const chatters = bots.filter((_, i) => i < args.rooms);
    const pending = chatters.map(() => [] as string[]);
    chatters.forEach((b, k) => b.client.on('chatRejected', () => { const t = pending[k].shift(); if (t) rejected.add(t); }));
    chatters.forEach((b, k) => b.client.on('chat', (m) => { const j = pending[k].indexOf(m.text); if (j >= 0) pending[k].splice(j, 1); }));
    let line = 0;
    const talk = setInterval(() => {
      chatters.forEach((b, k) => {
        const text = `${b.room}#${line}`;
        if (b.client.connected && b.client.sendChat(text)) { sent.set(text, b.room); pending[k].push(text); }
      });
      line++;
    }, CHAT_EVERY_MS);
    await sleep(4_000); // a checkpoint of every room

    // --- drain ---------------------------------------------------------------------------
    const before = new Map(bots.map((b) => [b, b.welcomes.length]));
    const t0 = Date.now();
    log('SIGTERM node-1 (drain)');
    const drained = first.child.stop(35_000);
    await until('every client resumed after the drain', () => bots.every((b) => b.welcomes.length > before.get(b)! && b.client.connected), BACK_TIMEOUT_MS);
    const resumedAt = bots.map((b) => b.welcomes[before.get(b)!]);
    emit({
      kind: 'drain', clients: bots.length, rooms: args.rooms, ...summary(resumedAt.map((r) => r.at - t0)),
      allResumed: resumedAt.every((r) => r.w.resumed), reconnectJitterMs: DRAIN_JITTER_MS, unit: 'ms from SIGTERM to the resumed welcome',
    });
    const perSecond = new Map<string, number[]>();
    for (const r of resumedAt) {
      const s = Math.floor((r.at - t0) / 1000);
      const arr = perSecond.get(r.w.nodeId!) ?? [];
      arr[s] = (arr[s] ?? 0) + 1;
      perSecond.set(r.w.nodeId!, arr);
    }
    const drainStorm = summarizeStorm(stormClients(bots, t0, before), t0, { ratePerSecond: HELLO_RATE, burst: HELLO_BURST });
    emit({
      kind: 'drainAdmission', helloRatePerSecond: HELLO_RATE, helloBurst: HELLO_BURST,
      acceptsPerSecondByNode: Object.fromEntries([...perSecond].map(([n, a]) => [n, Array.from(a, (x) => x ?? 0)])),
      admittedFirstTry: drainStorm.admittedFirstTry, refusedClients: drainStorm.refusedClients, hello: drainStorm.hello, connectInfo: drainStorm.connectInfo,
    });
    await drained;

    // --- crash -----------------------------------------------------------------------------
    const countOn = (id: string) => bots.filter((b) => b.client.welcome?.nodeId === id).length;
    const victim = others[countOn('node-2') >= countOn('node-3') ? 0 : 1];
    const survivor = others.find((n) => n !== victim)!;
    const onVictim = bots.filter((b) => b.client.welcome?.nodeId === victim.nodeId);
    const before2 = new Map(onVictim.map((b) => [b, b.welcomes.length]));
    await sleep(3_500); // a checkpoint after the moves
    const t1 = Date.now();
    log(`SIGKILL ${victim.nodeId} (${onVictim.length} clients)`);
    victim.child.killNow();
    await until('every client of the killed node back', () => onVictim.every((b) => b.welcomes.length > before2.get(b)! && b.client.connected), BACK_TIMEOUT_MS);
    const backMs = onVictim.map((b) => b.welcomes[before2.get(b)!].at - t1);
    emit({
      kind: 'crash', clients: onVictim.length, leaseMs: LEASE_MS, ...summary(backMs),
      allResumed: onVictim.every((b) => b.welcomes[before2.get(b)!].w.resumed), unit: 'ms from SIGKILL to the welcome on another node',
    });

    // --- storm: every client at once onto a fresh node ---------------------------------------
    log(`starting node-4; then SIGTERM ${survivor.nodeId} with no reconnect jitter (${bots.length} clients at once)`);
    const fresh = await start(4, 0); // node-1's port: node-1 has exited
    await sleep(HEARTBEATS_MS); // the survivor must see node-4 to hand its rooms to it
    const before3 = new Map(bots.map((b) => [b, b.welcomes.length]));
    const t2 = Date.now();
    const survivorDrained = survivor.child.stop(35_000);
    await until('every client back after the storm', () => bots.every((b) => b.welcomes.length > before3.get(b)! && b.client.connected), BACK_TIMEOUT_MS)
      .catch((e: unknown) => log(`storm: ${(e as Error).message}`)); // reported as allIn: false
    emit({
      kind: 'storm', node: fresh.nodeId, helloRatePerSecond: HELLO_RATE, helloBurst: HELLO_BURST, reconnectJitterMs: 0,
      ...summarizeStorm(stormClients(bots, t2, before3), t2, { ratePerSecond: HELLO_RATE, burst: HELLO_BURST }),
      nodeRefusals: await nodeRefusals(fresh), unit: 'ms from SIGTERM of the last old node',
    });
    await survivorDrained;
    await sleep(3 * CHAT_EVERY_MS);
    clearInterval(talk);
    await sleep(1_500);

    // --- chat integrity ----------------------------------------------------------------------
    let gaps = 0;
    let repeated = 0;
    let neverSeen = 0;
    for (const b of bots) {
      const ids = b.chat.map((m) => m.id);
      for (let i = 1; i < ids.length; i++) if (ids[i] !== ids[i - 1] + 1) gaps += Math.max(1, ids[i] - ids[i - 1] - 1);
      repeated += b.chat.length - new Set(b.chat.map((m) => m.text)).size;
    }
    for (const [text, room] of sent) {
      if (rejected.has(text)) continue;
      const member = bots.find((b) => b.room === room && b.client.connected)!;
      if (!member.chat.some((m) => m.text === text)) neverSeen++;
    }
    emit({ kind: 'chat', linesSent: sent.size, linesRefused: rejected.size, lost: gaps + neverSeen, gaps, neverSeen, repeated });
    for (const b of bots) b.client.close();
    bots.length = 0;
    await fresh.child.stop(35_000); // every room ends with its node: nothing of the bench runs on

    // --- chat latency and Redis commands per line: a quiet two-node cluster, then a single node --
    log('chat latency: node-5 and node-6, then a single node');
    const quiet = await Promise.all([start(5, 1), start(6, 2)]);
    await sleep(HEARTBEATS_MS);
    const readStats = async () => parseCommandStats(await admin.sendCommand(['INFO', 'commandstats']) as string);
    const cluster = await chatLatency(quiet.map((n) => n.httpUrl), secret, WS, readStats);
    emit({
      kind: 'chatLatency', mode: 'cluster', nodes: quiet.length, lines: cluster.lines, ...summary(cluster.latencies),
      redisCommandsPerLine: cluster.commands?.perLine ?? null, redisScriptsPerLine: cluster.commands?.scriptsPerLine ?? null,
      redisCommandsPerLineByCommand: cluster.commands?.byCommand ?? null,
      redisBackgroundCommandsPerSecond: cluster.commands?.backgroundPerSecond ?? null,
    });
    await Promise.all(quiet.map((n) => n.child.stop()));
    const single = await start(7, 3, {}, false);
    const alone = await chatLatency([single.httpUrl], secret, WS);
    emit({ kind: 'chatLatency', mode: 'single', lines: alone.lines, ...summary(alone.latencies) });
    const c = summary(cluster.latencies);
    const s = summary(alone.latencies);
    emit({ kind: 'chatAddedLatency', p50: c.p50 - s.p50, p99: c.p99 - s.p99, unit: 'ms, cluster minus single node' });
  } finally {
    for (const b of bots) b.client.close();
    await admin.quit().catch(() => {});
    await cleanup.runAll();
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  log(`bench:cluster failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
