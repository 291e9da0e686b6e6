/**
 * `npm run bench:cluster [--quick] [--clients N] [--rooms R]` (docs/cluster.md): a cluster of
 * three `npm start` nodes on a local redis-server, clients (GameClient over WebSocket) in this
 * process. Prints JSON lines:
 *
 * - `drain`: SIGTERM to the node running every room -> each client resumed on another node
 *   (p50/p99/max ms), with `storm`: accepted hellos per second on each node (the admission limit
 *   TICKWIRE_HELLO_RATE/BURST is set low on purpose so the storm meets it);
 * - `crash`: SIGKILL to the node running the most rooms -> each of its clients back (lease
 *   expiry, checkpoint restore, resume);
 * - `chat`: one chatter per room throughout: lines lost (a gap in a client's ids, or a line
 *   accepted and never seen) and repeated (a text seen twice), expected 0;
 * - `chatLatency` for `cluster` and `single` (a node without Redis): send -> own echo per line
 *   (p50/p99), and Redis commands per chat line (INFO commandstats, minus an idle window).
 *
 * --quick: 120 clients in 6 rooms (about two minutes); default 300 clients in 10 rooms.
 */
import { createClient } from 'redis';
import WebSocket from 'ws';
import { GameClient } from '../../client/net/game-client.js';
import type { WelcomeEvent } from '../../client/net/game-client-types.js';
import type { WebSocketConstructor } from '../../client/net/transport-types.js';
import { mintTicket } from '../../server/index.js';
import { flag, parseFlags, cliArgs } from '../../tools/lib/args.js';
import { CleanupStack } from '../../tools/lib/cleanup.js';
import { writeJsonLine } from '../../tools/lib/json-lines.js';
import { localOrigins, localTicketSecret, startLocalNode, startLocalRedis, type LocalNode } from '../../tools/lib/local-cluster.js';
import { percentile } from '../../tools/lib/stats.js';

const USAGE = 'npm run bench:cluster -- [--quick] [--clients N] [--rooms R] [--base-port P]';
const HELLO_RATE = 50;
const HELLO_BURST = 20;
const LEASE_MS = 5_000;
/** Bound on every wait for clients to come back. */
const BACK_TIMEOUT_MS = 90_000;
const CHAT_EVERY_MS = 1_100;
const LATENCY_SENDERS = 10;
const LATENCY_WINDOW_MS = 10_000;

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
  // Every client comes from 127.0.0.1: lift the per-address session share (64) above the run's clients.
  const nodeEnv = { TICKWIRE_MAX_SESSIONS_PER_ADDRESS: String(args.clients + 10), TICKWIRE_LEASE_MS: String(LEASE_MS), TICKWIRE_HELLO_RATE: String(HELLO_RATE), TICKWIRE_HELLO_BURST: String(HELLO_BURST), TICKWIRE_WT: '0', TICKWIRE_DRAIN_MS: '30000' };
  const start = (i: number, cluster = true) => startLocalNode({
    redisUrl: cluster ? redis.url : '', nodeId: `node-${i + 1}`, httpPort: args.basePort + i, wtPort: 0,
    ticketSecret: secret, origins, cleanup, baseEnv: process.env, env: nodeEnv,
  });
  const admin = createClient({ socket: { path: redis.socketPath, tls: false }, RESP: 2 });
  admin.on('error', () => {});
  await admin.connect();
  const bots: Bot[] = [];
  try {
    log(`starting node-1; ${args.clients} clients in ${args.rooms} rooms`);
    const first = await start(0);
    for (let i = 0; i < args.clients; i++) {
      const room = `bench-${i % args.rooms}`;
      const bot: Bot = {
        room, welcomes: [], chat: [],
        client: new GameClient({
          baseUrl: first.httpUrl, ticket: mintTicket(secret, { playerId: `b${i}`, name: `b${i}`, room }),
          transport: 'websocket', WebSocket: OriginWebSocket as unknown as WebSocketConstructor,
          reconnect: { baseMs: 250, maxMs: 5_000, maxAttempts: 200 },
        }),
      };
      bot.client.on('welcome', (w) => bot.welcomes.push({ at: Date.now(), w }));
      bot.client.on('chat', (m) => bot.chat.push({ id: m.id, text: m.text }));
      bots.push(bot);
    }
    await Promise.all(bots.map((b) => b.client.connect()));
    log('everyone joined node-1; starting node-2 and node-3');
    const others = await Promise.all([start(1), start(2)]);
    const nodes: LocalNode[] = [first, ...others];
    await sleep(2_000); // two heartbeats: node-1 sees the others

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
    const drainMs = resumedAt.map((r) => r.at - t0);
    emit({
      kind: 'drain', clients: bots.length, rooms: args.rooms, ...summary(drainMs),
      allResumed: resumedAt.every((r) => r.w.resumed), reconnectJitterMs: 3_000, unit: 'ms from SIGTERM to the resumed welcome',
    });
    const perSecond = new Map<string, number[]>();
    for (const r of resumedAt) {
      const s = Math.floor((r.at - t0) / 1000);
      const arr = perSecond.get(r.w.nodeId!) ?? [];
      arr[s] = (arr[s] ?? 0) + 1;
      perSecond.set(r.w.nodeId!, arr);
    }
    emit({
      kind: 'storm', helloRatePerSecond: HELLO_RATE, helloBurst: HELLO_BURST,
      acceptsPerSecond: Object.fromEntries([...perSecond].map(([n, a]) => [n, Array.from(a, (x) => x ?? 0)])),
      maxPerSecond: Math.max(...[...perSecond.values()].flatMap((a) => Array.from(a, (x) => x ?? 0))),
    });
    await drained;

    // --- crash -----------------------------------------------------------------------------
    const countOn = (id: string) => bots.filter((b) => b.client.welcome?.nodeId === id).length;
    const victim = others[countOn('node-2') >= countOn('node-3') ? 0 : 1];
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

    // --- chat latency and Redis commands per line: cluster, then a single node ---------------
    const survivor = nodes.find((n) => n !== first && n !== victim)!;
    const commandCalls = async (): Promise<number> => {
      const info = await admin.sendCommand(['INFO', 'commandstats']) as string;
      return [...info.matchAll(/calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    };
    const idle0 = await commandCalls();
    await sleep(LATENCY_WINDOW_MS);
    const idleCalls = (await commandCalls()) - idle0;
    const cluster = await chatLatency(survivor.httpUrl, secret, OriginWebSocket as unknown as WebSocketConstructor, commandCalls);
    const perLine = cluster.lines > 0 ? (cluster.calls - idleCalls) / cluster.lines : null;
    emit({ kind: 'chatLatency', mode: 'cluster', lines: cluster.lines, ...summary(cluster.latencies), redisCommandsPerLine: perLine === null ? null : Math.round(perLine * 10) / 10, idleCommandsPerWindow: idleCalls });
    const single = await start(3, false);
    const alone = await chatLatency(single.httpUrl, secret, OriginWebSocket as unknown as WebSocketConstructor, async () => 0);
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

/** LATENCY_SENDERS players in a fresh room each send a line every CHAT_EVERY_MS; send -> own echo. */
async function chatLatency(baseUrl: string, secret: string, WS: WebSocketConstructor, calls: () => Promise<number>): Promise<{ lines: number; latencies: number[]; calls: number }> {
  const room = `latency-${Date.now()}`;
  const senders = Array.from({ length: LATENCY_SENDERS }, (_, i) => new GameClient({
    baseUrl, ticket: mintTicket(secret, { playerId: `l${i}`, name: `l${i}`, room }), transport: 'websocket', WebSocket: WS,
  }));
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  senders.forEach((c, i) => c.on('chat', (m) => {
    const t = sentAt.get(m.text);
    if (t !== undefined && m.text.startsWith(`l${i}:`)) latencies.push(performance.now() - t);
  }));
  try {
    await Promise.all(senders.map((c) => c.connect()));
    await sleep(500);
    const calls0 = await calls();
    let k = 0;
    const end = Date.now() + LATENCY_WINDOW_MS;
    while (Date.now() < end) {
      senders.forEach((c, i) => {
        const text = `l${i}:${k}`;
        sentAt.set(text, performance.now());
        c.sendChat(text);
      });
      k++;
      await sleep(CHAT_EVERY_MS);
    }
    await sleep(500);
    return { lines: latencies.length, latencies, calls: (await calls()) - calls0 };
  } finally {
    for (const c of senders) c.close();
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  log(`bench:cluster failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
