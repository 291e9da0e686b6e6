/**
 * The soak's honest players, run by the harness (in the clients' namespace in netns mode):
 *
 *   bots-entry.ts --url U --wt-addresses a,b --ws-addresses c,d --probe-addresses e,f
 *                 --room arena --reconnect-every-ms 120000,240000 --chat-every-ms 4000,8000
 *                 --probe-every-ms 5000 --seed S
 *
 * Two bot fleets (tools/bots/fleet.ts: full GameClients, the browser's client/net code), one per
 * transport, each bot sending from an address of its own (bound-clients.ts), walking about and
 * chatting. Every few minutes (`--reconnect-every-ms`) each bot drops its connection on purpose
 * (WebSocket: the TCP connection cut without a close frame; WebTransport: the session closed
 * with code 0, as a client whose network changed) and its GameClient reconnects and resumes.
 *
 * What is checked, per bot, across every drop: chat ids arrive exactly once and in order (a gap
 * is a lost line, a second sight a repeated one: GameClient's `chatRepeated` counts those it
 * drops), every reconnect is a resume (same entity), snapshots keep coming. Probes: a fresh
 * player joins every `--probe-every-ms` (alternating transports, from a rotating probe address),
 * timed from the dev-ticket request to the welcome, then leaves; each prints {"event":"probe"}.
 *
 * Commands (tools/lib/child.ts protocol): `progress` -> {"event":"progress"} (BotsProgress);
 * `finish` -> stop dropping, chatting and probing, wait for the last lines, every bot leaves,
 * {"event":"report"} (BotsReport), exit.
 */
import type WebSocket from 'ws';
import type { GameClient } from '../../client/net/game-client.js';
import { mintDevTicket } from '../../client/net/dev-ticket.js';
import { GameClient as GameClientImpl } from '../../client/net/game-client.js';
import type { NodeWebTransport, QuicEndpoint } from '../../server/h3/index.js';
import { seededRandom } from '../../shared/random.js';
import { BotFleet, type FleetBot } from '../../tools/bots/fleet.js';
import { flag, parseFlags } from '../../tools/lib/args.js';
import { emit, fail, serveCommands } from '../../tools/lib/child-entry.js';
import { epochNow, sleep, withTimeout } from '../../tools/lib/clock.js';
import { median } from '../../tools/lib/stats.js';
import { EndpointsByAddress, bindEndpoint, boundFetch, boundWebSocket, boundWebTransport } from './bound-clients.js';
import type { BotsProgress, BotsReport, ProbeResult } from './samples.js';

/** Every bot must be in within this; a bot not in is reported, not waited for. */
const JOIN_TIMEOUT_MS = 60_000;
/** Joins in flight at once (a burst of handshakes only measures the accept queue). */
const JOIN_CONCURRENCY = 8;
/** A probe that has no welcome after this long failed. */
const PROBE_TIMEOUT_MS = 15_000;
/** After chat stops, lines in flight get this long to arrive before the report. */
const CHAT_SETTLE_MS = 3_000;
/** At the end every bot should be connected; one that is reconnecting gets this long. */
const RECONNECT_SETTLE_MS = 15_000;
/** Samples of failures kept for the report. */
const SAMPLE_LIMIT = 10;
/** Chat text tag: `soak|<bot name>|<n>`. */
const CHAT_TAG = 'soak';

const range = (min: number, max: number) => flag.ints(min, max);
const { values: args } = parseFlags(process.argv.slice(2), {
  url: flag.origin(),
  'wt-addresses': flag.string(),
  'ws-addresses': flag.string(),
  'probe-addresses': flag.string(),
  room: flag.string(),
  'reconnect-every-ms': range(1_000, 3_600_000),
  'chat-every-ms': range(100, 600_000),
  'probe-every-ms': flag.int(500, 600_000),
  seed: flag.int(0, 2 ** 32 - 1),
});
const url = args.url ?? '';
const origin = url ? new URL(url).origin : '';
const list = (s: string | undefined) => (s ? s.split(',').filter(Boolean) : []);
const wtAddresses = list(args['wt-addresses']);
const wsAddresses = list(args['ws-addresses']);
const probeAddresses = list(args['probe-addresses']);
const room = args.room ?? 'arena';
const reconnectEvery = (args['reconnect-every-ms'] ?? [120_000, 240_000]) as number[];
const chatEvery = (args['chat-every-ms'] ?? [4_000, 8_000]) as number[];
const probeEveryMs = args['probe-every-ms'] ?? 5_000;
const random = seededRandom(args.seed ?? 1);

/** What the soak tracks per bot, beside its GameClient. */
interface BotState {
  name: string;
  transport: 'webtransport' | 'websocket';
  /** The live transport objects, to drop on purpose. */
  ws: WebSocket | null;
  wt: NodeWebTransport | null;
  welcomes: number;
  /** Newest chat id seen over all of this bot's connections (0 before any). */
  lastChatId: number;
  droppedAt: number | null;
  lastLossReason: string;
  snapshots: number;
  snapshotsAtProgress: number;
  dropTimer: NodeJS.Timeout | null;
}

const report: BotsReport = {
  bots: wtAddresses.length + wsAddresses.length,
  byTransport: { webtransport: wtAddresses.length, websocket: wsAddresses.length },
  initialJoinMs: [],
  initialJoinFailures: 0,
  drops: 0,
  resumes: 0,
  resumeFailures: 0,
  resumeFailureSamples: [],
  reconnectMs: [],
  chat: { sent: 0, rejected: 0, sessionLost: 0, refusedForNow: 0, resent: 0, outboxFull: 0, ownEchoed: 0, received: 0, missing: 0, repeated: 0 },
  connectedAtEnd: 0,
  snapshots: 0,
  errors: 0,
  errorSamples: [],
};
const states: BotState[] = [];
const endpoints: QuicEndpoint[] = [];
let finishing = false;

function note(list: string[], line: string): void {
  if (list.length < SAMPLE_LIMIT) list.push(line);
}

function track(st: BotState, client: GameClient): void {
  // The first join is timed from this client's own connect() (the fleet queues joins).
  const connect = client.connect.bind(client);
  let connectAt = 0;
  client.connect = () => {
    connectAt = epochNow();
    return connect();
  };
  client.on('welcome', (w) => {
    st.welcomes++;
    if (st.welcomes === 1) report.initialJoinMs.push(epochNow() - connectAt);
    if (st.welcomes > 1) {
      if (w.resumed) report.resumes++;
      else {
        report.resumeFailures++;
        note(report.resumeFailureSamples, `${st.name} (${st.transport}): new session after "${st.lastLossReason}"`);
      }
      if (st.droppedAt !== null) report.reconnectMs.push(epochNow() - st.droppedAt);
    }
    st.droppedAt = null;
  });
  client.on('reconnecting', (r) => {
    if (r.attempt === 1) st.lastLossReason = `${r.code} ${r.reason}`;
  });
  client.on('snapshot', () => {
    st.snapshots++;
  });
  // The outbox (client/net/chat-outbox.ts) resends a line refused for now; only its final
  // answer (chatUnsent) means the line will not be shown.
  client.on('chatRejected', (r) => {
    if (r.reason === 'rate_limited' || r.reason === 'unavailable') report.chat.refusedForNow++;
  });
  client.on('chatUnsent', (u) => {
    if (u.reason === 'session_lost') report.chat.sessionLost++;
    else report.chat.rejected++;
  });
  client.on('chat', (c) => {
    report.chat.received++;
    // Exactly once, in order, across every connection of this bot: ids are per room and
    // consecutive (server/chat), so a skipped id is a lost line and a second sight a repeat.
    if (c.id <= st.lastChatId) report.chat.repeated++;
    else {
      if (st.lastChatId > 0) report.chat.missing += c.id - st.lastChatId - 1;
      st.lastChatId = c.id;
    }
    if (c.text.startsWith(`${CHAT_TAG}|${st.name}|`)) report.chat.ownEchoed++;
  });
}

/** Drops `st`'s connection on purpose, then schedules the next drop. */
function scheduleDrop(st: BotState, bot: FleetBot): void {
  const delay = reconnectEvery[0] + random() * ((reconnectEvery[1] ?? reconnectEvery[0]) - reconnectEvery[0]);
  st.dropTimer = setTimeout(() => {
    st.dropTimer = null;
    if (finishing) return;
    if (bot.client?.connected) {
      report.drops++;
      st.droppedAt = epochNow();
      st.lastLossReason = 'dropped by the soak';
      if (st.transport === 'websocket') st.ws?.terminate();
      else st.wt?.close({ closeCode: 0, reason: 'soak: network dropped' });
    }
    scheduleDrop(st, bot);
  }, delay);
}

async function makeFleet(transport: 'webtransport' | 'websocket', addresses: string[]): Promise<BotFleet | null> {
  if (addresses.length === 0) return null;
  // The states first, before any await: the two fleets are made concurrently, and each must
  // know where its own bots start in `states`.
  const base = states.length;
  for (let i = 0; i < addresses.length; i++) {
    states.push({
      name: `${transport === 'webtransport' ? 'wt' : 'ws'}${i + 1}`, transport, ws: null, wt: null, welcomes: 0, lastChatId: 0,
      droppedAt: null, lastLossReason: '', snapshots: 0, snapshotsAtProgress: 0, dropTimer: null,
    });
  }
  const wtEndpoints = transport === 'webtransport' ? await Promise.all(addresses.map((a) => bindEndpoint(a))) : [];
  endpoints.push(...wtEndpoints);
  return new BotFleet({
    url,
    transport,
    count: addresses.length,
    room,
    name: (i) => states[base + i].name,
    random,
    errorLimit: SAMPLE_LIMIT,
    perBot: (i) => {
      const st = states[base + i];
      return {
        fetch: boundFetch(addresses[i]),
        WebSocket: boundWebSocket(addresses[i], origin, (ws) => { st.ws = ws; }),
        WebTransport: transport === 'webtransport' ? boundWebTransport(wtEndpoints[i], origin, (wt) => { st.wt = wt; }) : undefined,
      };
    },
    onClient: (bot, client) => track(states[base + bot.index], client),
  });
}

/** WebTransport endpoints of the probe addresses, bound on first use. */
const probeEndpoints = new EndpointsByAddress();
let probeCount = 0;
let probeTimer: NodeJS.Timeout | null = null;

async function probe(n: number): Promise<void> {
  const address = probeAddresses[n % probeAddresses.length];
  const transport = n % 2 === 0 ? 'webtransport' : 'websocket';
  const fetch = boundFetch(address);
  let endpoint: QuicEndpoint | undefined;
  if (transport === 'webtransport') endpoint = await probeEndpoints.get(address);
  const client = new GameClientImpl({
    baseUrl: url,
    ticket: () => mintDevTicket(fetch, url, `probe${n}`, room),
    transport,
    fetch,
    WebSocket: boundWebSocket(address, origin),
    WebTransport: endpoint ? boundWebTransport(endpoint, origin) : undefined,
    now: epochNow,
    reconnect: { maxAttempts: 3 },
  });
  const t = epochNow();
  const result: ProbeResult = { t, transport, ok: false, latencyMs: null };
  try {
    await withTimeout(client.connect(), PROBE_TIMEOUT_MS, 'probe welcome');
    result.ok = true;
    result.latencyMs = epochNow() - t;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    client.close('probe done');
  }
  emit('probe', { ...result });
}

function scheduleProbe(): void {
  if (probeAddresses.length === 0) return;
  probeTimer = setTimeout(() => {
    probeTimer = null;
    if (finishing) return;
    void probe(probeCount++).finally(() => {
      if (!finishing) scheduleProbe();
    });
  }, probeEveryMs);
}

function progress(fleets: BotFleet[]): BotsProgress {
  const since = states.map((s) => s.snapshots - s.snapshotsAtProgress);
  for (const s of states) s.snapshotsAtProgress = s.snapshots;
  return {
    t: epochNow(),
    bots: states.length,
    connected: fleets.reduce((n, f) => n + f.connected, 0),
    snapshotsMin: since.length ? Math.min(...since) : 0,
    snapshotsMedian: median(since) ?? 0,
    reconnects: report.resumes + report.resumeFailures,
    resumeFailures: report.resumeFailures,
  };
}

async function finish(fleets: BotFleet[]): Promise<void> {
  finishing = true;
  if (probeTimer) clearTimeout(probeTimer);
  for (const s of states) if (s.dropTimer) clearTimeout(s.dropTimer);
  for (const f of fleets) f.stopChat();
  const total = () => fleets.reduce((n, f) => n + f.connected, 0);
  const until = epochNow() + RECONNECT_SETTLE_MS;
  while (total() < states.length && epochNow() < until) await sleep(100);
  await sleep(CHAT_SETTLE_MS);
  report.connectedAtEnd = total();
  for (const f of fleets) {
    for (const b of f.bots) {
      const s = b.client?.stats();
      if (s) {
        report.chat.repeated += s.chatRepeated;
        report.chat.sent += s.chatSent;
        report.chat.resent += s.chatResent;
        report.chat.outboxFull += s.chatOutboxFull;
      }
    }
    report.errors += f.errors.count;
    for (const e of f.errors.samples) note(report.errorSamples, e);
  }
  report.snapshots = states.reduce((n, s) => n + s.snapshots, 0);
  for (const f of fleets) f.close('soak finished');
  // The leaves and close frames leave before the sockets go.
  await sleep(1_000);
  for (const e of endpoints) await e.close().catch(() => undefined);
  await probeEndpoints.closeAll();
  emit('report', { ...report });
}

async function main(): Promise<void> {
  if (!url || wtAddresses.length + wsAddresses.length === 0) {
    fail('usage: bots-entry --url U --wt-addresses a,b --ws-addresses c,d [--probe-addresses ...]', 2);
    return;
  }
  const fleets = (await Promise.all([makeFleet('webtransport', wtAddresses), makeFleet('websocket', wsAddresses)])).filter((f): f is BotFleet => f !== null);
  serveCommands(async (c) => {
    if (c.cmd === 'progress') emit('progress', { ...progress(fleets) });
    else if (c.cmd === 'finish') {
      await finish(fleets);
      process.exit(0);
    }
  }, { onStop: () => finish(fleets) });
  const t0 = epochNow();
  const results = await Promise.all(fleets.map((f) => f.join({ timeoutMs: JOIN_TIMEOUT_MS, concurrency: JOIN_CONCURRENCY, attempts: 3 })));
  report.initialJoinFailures = states.length - results.reduce((n, r) => n + r.joined, 0);
  for (const f of fleets) {
    f.startChat({
      firstMs: () => random() * chatEvery[0],
      everyMs: [chatEvery[0], chatEvery[1] ?? chatEvery[0]],
      // Counted from each client's stats at the end (chatSent: lines its outbox took).
      line: (bot, n) => `${CHAT_TAG}|${bot.name}|${n}`,
    });
    for (const b of f.bots) scheduleDrop(states.find((s) => s.name === b.name)!, b);
  }
  scheduleProbe();
  emit('joined', { joined: states.length - report.initialJoinFailures, bots: states.length, elapsedMs: epochNow() - t0 });
}

main().catch((err: unknown) => fail(err instanceof Error ? err.stack ?? err.message : String(err)));
