/**
 * Read-only feeds benchmark (issue 13). Prints JSON lines.
 *
 * `chat`: N SSE subscribers (default 1,000, in a child process: bench/feeds-subscribers-entry.ts)
 * on one room's chat stream; this process runs the server and posts lines at a fixed rate. It
 * reports the server's CPU per delivered line (gross, and net of the same subscribers connected
 * with no chat), the latency of a line to all subscribers (the last reader to get it) and of
 * single deliveries, p50/p99, and every line missing or duplicated (there must be none).
 *
 * `spectators`: the standard scene with `--players` players (default 64, light bots in one
 * process: bench/standard-scene/load-entry.ts), the server in its own process
 * (bench/spectators-server-entry.ts). Three measured windows of `--seconds` each: the players
 * alone; with `--viewers` spectators more (default 100, another process); then, those gone, with
 * as many extra players instead. It reports the server's CPU and bytes sent in each, and what
 * the extra viewers cost as spectators against as players.
 *
 *   npx tsx bench/feeds.ts                                  # both: chat (1000 subscribers, 20 lines/s, 10 s), spectators
 *   npx tsx bench/feeds.ts --scenario chat --subscribers 200 --rate 50 --seconds 5
 *   npx tsx bench/feeds.ts --scenario spectators --players 64 --viewers 100 --transport websocket
 *   npx tsx bench/feeds.ts --runs 3                         # medians over three runs
 */
import { createGameServer, type GameServer } from '../server/index.js';
import { cliArgs, flag, parseFlags } from '../tools/lib/args.js';
import { ToolChild } from '../tools/lib/child.js';
import { CleanupStack } from '../tools/lib/cleanup.js';
import { epochNow, sleep } from '../tools/lib/clock.js';
import { writeJsonLine } from '../tools/lib/json-lines.js';
import { median } from '../tools/lib/stats.js';
import { gameServerInternals } from '../server/internals.js';

const USAGE = `usage: npx tsx bench/feeds.ts [--scenario chat,spectators] [--subscribers 1000] [--rate 20] [--seconds 10] [--runs 1]
                                 [--players 64] [--viewers 100] [--transport websocket|webtransport]`;

type Scenario = 'chat' | 'spectators';

const FLAGS = {
  scenario: flag.choices(['chat', 'spectators'] as const),
  subscribers: flag.int(1, 5000),
  rate: flag.int(1, 1000),
  seconds: flag.number(1, 120),
  runs: flag.int(1, 9),
  players: flag.int(1, 512),
  viewers: flag.int(1, 1000),
  transport: flag.choice(['websocket', 'webtransport'] as const),
};

interface Args {
  help: boolean;
  scenarios: Scenario[];
  subscribers: number;
  rate: number;
  seconds: number;
  runs: number;
  players: number;
  viewers: number;
  transport: 'websocket' | 'webtransport';
}

function parseArgs(argv: readonly string[]): Args {
  const { values: v, help } = parseFlags(argv, FLAGS);
  return {
    help,
    scenarios: v.scenario ?? ['chat', 'spectators'],
    subscribers: v.subscribers ?? 1000,
    rate: v.rate ?? 20,
    seconds: v.seconds ?? 10,
    runs: v.runs ?? 1,
    players: v.players ?? 64,
    viewers: v.viewers ?? 100,
    transport: v.transport ?? 'websocket',
  };
}

/** Bound on one phase (connecting 1000 streams, a report). */
const PHASE_TIMEOUT_MS = 120_000;
/** Time after the last line for the last reader to get it before the report. */
const SETTLE_MS = 2_000;
const ROOM = 'bench';

interface ChatRun {
  grossCpuUsPerDelivery: number;
  netCpuUsPerDelivery: number;
  toAllP50Ms: number | null;
  toAllP99Ms: number | null;
}

/** A server for the feeds alone: no WebTransport, limits raised for one client address holding every stream. */
function feedsServer(streams: number): GameServer {
  return createGameServer({
    ticketSecret: 'bench-feeds-secret-0123456789',
    httpPort: 0,
    feeds: { limits: { maxStreamsPerAddress: streams + 10, maxStreams: streams + 10 } },
  });
}

async function runChat(args: Args, run: number, cleanup: CleanupStack): Promise<ChatRun> {
  const server = feedsServer(args.subscribers);
  const { httpUrl } = await server.listen();
  const lookup = await gameServerInternals(server).rooms.acquire(ROOM);
  if (lookup.kind !== 'local') throw new Error('no bench room');
  const room = lookup.room;
  const child = ToolChild.script('bench/feeds-subscribers-entry.ts', [], { label: 'subscribers', echo: true, cleanup });
  try {
    child.send({ cmd: 'start', url: httpUrl, room: ROOM, count: args.subscribers });
    const ready = await child.waitFor('ready', PHASE_TIMEOUT_MS);
    if (Number(ready.connected) !== args.subscribers) throw new Error(`only ${String(ready.connected)} of ${args.subscribers} subscribers connected`);

    // Idle: the same streams open, no chat (heartbeats, the room's empty tick loop).
    await sleep(500);
    let cpu0 = process.cpuUsage();
    let t0 = performance.now();
    await sleep(args.seconds * 1000);
    let cpu = process.cpuUsage(cpu0);
    const idleCpuPerSec = (cpu.user + cpu.system) / ((performance.now() - t0) / 1000);

    child.send({ cmd: 'reset' });
    await child.waitFor('reset', PHASE_TIMEOUT_MS);
    const lines = Math.round(args.rate * args.seconds);
    const interval = 1000 / args.rate;
    const delivered0 = server.feeds!.chatStats.delivered;
    cpu0 = process.cpuUsage();
    t0 = performance.now();
    for (let seq = 1; seq <= lines; seq++) {
      // Paced against the start, so a late timer does not stretch the run.
      const due = t0 + (seq - 1) * interval;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      room.chat.announce(`b ${seq} ${epochNow().toFixed(3)}`, epochNow());
    }
    await sleep(SETTLE_MS);
    cpu = process.cpuUsage(cpu0);
    const wallS = (performance.now() - t0) / 1000;
    const delivered = server.feeds!.chatStats.delivered - delivered0;
    child.send({ cmd: 'report', lines });
    const report = await child.waitFor('report', PHASE_TIMEOUT_MS);
    const cpuUs = cpu.user + cpu.system;
    const netUs = Math.max(0, cpuUs - idleCpuPerSec * wallS);
    const toAll = report.toAllMs as { p50: number | null; p99: number | null; max: number | null };
    const result: ChatRun = {
      grossCpuUsPerDelivery: +(cpuUs / delivered).toFixed(3),
      netCpuUsPerDelivery: +(netUs / delivered).toFixed(3),
      toAllP50Ms: toAll.p50 === null ? null : +toAll.p50.toFixed(2),
      toAllP99Ms: toAll.p99 === null ? null : +toAll.p99.toFixed(2),
    };
    writeJsonLine({
      bench: 'feeds', scenario: 'chat', run, subscribers: args.subscribers, linesPerSec: args.rate, seconds: args.seconds,
      linesPosted: lines, deliveries: delivered,
      serverCpuPerSec: +(cpuUs / 1e6 / wallS).toFixed(3),
      serverIdleCpuPerSec: +(idleCpuPerSec / 1e6).toFixed(3),
      serverCpuUsPerDelivery: result.grossCpuUsPerDelivery,
      serverNetCpuUsPerDelivery: result.netCpuUsPerDelivery,
      serverCpuUsPerLine: +(cpuUs / lines).toFixed(1),
      latencyToAllMs: toAll,
      latencyDeliveryMs: report.deliveryMs,
      linesToAll: report.linesToAll,
      missingDeliveries: report.missingDeliveries,
      duplicates: report.duplicates,
      slowConsumersDropped: server.feeds!.slowConsumers,
      subscriberLoad: report.subscriberLoad,
    });
    return result;
  } finally {
    await child.stop();
    await server.close();
  }
}

/** What one window of the spectators scenario measured at the server (spectators-server-entry.ts). */
interface ServerWindow {
  wallS: number;
  cpuPerWallS: number;
  players: { sessions: number; bytesPerSec: number; bytesPerSecPerSession: number | null; encodesPerSec: number; sharedPerSec: number };
  spectators: { sessions: number; bytesPerSec: number; bytesPerSecPerSession: number | null; encodesPerSec: number; sharedPerSec: number };
}

interface SpectatorsRun {
  extraCpuSpectators: number;
  extraCpuPlayers: number;
  cpuRatio: number | null;
  extraBytesSpectators: number;
  extraBytesPlayers: number;
  bytesRatio: number | null;
}

/** Joining the players and viewers (light bots over a loaded box). */
const JOIN_TIMEOUT_MS = 170_000;
/** Settling after a join or a leave before a window starts. */
const WARMUP_MS = 2_000;

async function runSpectators(args: Args, run: number, cleanup: CleanupStack): Promise<SpectatorsRun> {
  const children: ToolChild[] = [];
  const start = (script: string, argv: string[], label: string) => {
    const c = ToolChild.script(script, argv, { label, echo: true, cleanup });
    children.push(c);
    return c;
  };
  try {
    const server = start('bench/spectators-server-entry.ts', [], 'server');
    const { baseUrl } = await server.waitFor<{ event: string; baseUrl: string }>('ready', PHASE_TIMEOUT_MS);
    const load = (count: number, spectate: boolean, label: string) => start('bench/standard-scene/load-entry.ts',
      ['--url', baseUrl, '--transport', args.transport, '--count', String(count), '--client', 'light', ...(spectate ? ['--spectate'] : [])], label);
    const players = load(args.players, false, 'players');
    await players.waitFor('joined', JOIN_TIMEOUT_MS);
    /** One measured window on the server (and on the viewers' process, when there is one). */
    const window = async (phase: string, viewers: ToolChild | null): Promise<ServerWindow> => {
      await sleep(WARMUP_MS);
      const measured = [server, ...(viewers ? [viewers] : [])];
      for (const c of measured) c.send({ cmd: 'start' });
      await Promise.all(measured.map((c) => c.waitFor('started', PHASE_TIMEOUT_MS)));
      await sleep(args.seconds * 1000);
      for (const c of measured) c.send({ cmd: 'stop' });
      const [s, v] = await Promise.all(measured.map((c) => c.waitFor('stopped', PHASE_TIMEOUT_MS)));
      const report = s.report as ServerWindow;
      const viewerReport = v?.report as { connected: number; downAppBpsMean: number | null } | undefined;
      writeJsonLine({
        bench: 'feeds', scenario: 'spectators', phase, run, transport: args.transport, seconds: args.seconds,
        serverCpuPerSec: +report.cpuPerWallS.toFixed(3),
        players: report.players, spectators: report.spectators,
        serverBytesPerSec: report.players.bytesPerSec + report.spectators.bytesPerSec,
        viewersConnected: viewerReport?.connected ?? null,
        viewerDownBytesPerSecMean: viewerReport?.downAppBpsMean == null ? null : Math.round(viewerReport.downAppBpsMean),
      });
      return report;
    };
    const base = await window('players', null);
    const watching = load(args.viewers, true, 'spectators');
    await watching.waitFor('joined', JOIN_TIMEOUT_MS);
    const withSpectators = await window(`players+${args.viewers} spectators`, watching);
    await watching.stop();
    const playing = load(args.viewers, false, 'extra players');
    await playing.waitFor('joined', JOIN_TIMEOUT_MS);
    const withPlayers = await window(`players+${args.viewers} players`, playing);
    const bytes = (w: ServerWindow) => w.players.bytesPerSec + w.spectators.bytesPerSec;
    const r: SpectatorsRun = {
      extraCpuSpectators: +(withSpectators.cpuPerWallS - base.cpuPerWallS).toFixed(3),
      extraCpuPlayers: +(withPlayers.cpuPerWallS - base.cpuPerWallS).toFixed(3),
      cpuRatio: null,
      extraBytesSpectators: bytes(withSpectators) - bytes(base),
      extraBytesPlayers: bytes(withPlayers) - bytes(base),
      bytesRatio: null,
    };
    r.cpuRatio = r.extraCpuPlayers > 0 ? +(r.extraCpuSpectators / r.extraCpuPlayers).toFixed(3) : null;
    r.bytesRatio = r.extraBytesPlayers > 0 ? +(r.extraBytesSpectators / r.extraBytesPlayers).toFixed(3) : null;
    writeJsonLine({
      bench: 'feeds', scenario: 'spectators', summary: true, run, players: args.players, viewers: args.viewers, transport: args.transport,
      serverCpuPerSec: { players: base.cpuPerWallS, withSpectators: withSpectators.cpuPerWallS, withExtraPlayers: withPlayers.cpuPerWallS },
      serverBytesPerSec: { players: bytes(base), withSpectators: bytes(withSpectators), withExtraPlayers: bytes(withPlayers) },
      extraCpuPerSecSpectators: r.extraCpuSpectators,
      extraCpuPerSecPlayers: r.extraCpuPlayers,
      cpuRatioSpectatorsToPlayers: r.cpuRatio,
      extraBytesPerSecSpectators: r.extraBytesSpectators,
      extraBytesPerSecPlayers: r.extraBytesPlayers,
      bytesRatioSpectatorsToPlayers: r.bytesRatio,
      snapshotSharing: {
        withSpectators: { encodesPerSec: withSpectators.players.encodesPerSec + withSpectators.spectators.encodesPerSec, sharedPerSec: withSpectators.players.sharedPerSec + withSpectators.spectators.sharedPerSec },
        withExtraPlayers: { encodesPerSec: withPlayers.players.encodesPerSec, sharedPerSec: withPlayers.players.sharedPerSec },
      },
    });
    return r;
  } finally {
    await Promise.all(children.map((c) => c.stop()));
  }
}

async function main(): Promise<void> {
  const args = cliArgs(() => parseArgs(process.argv.slice(2)), USAGE);
  const cleanup = new CleanupStack();
  cleanup.installProcessHandlers();
  const chat: ChatRun[] = [];
  const spectators: SpectatorsRun[] = [];
  try {
    for (let run = 0; run < args.runs; run++) {
      if (args.scenarios.includes('chat')) chat.push(await runChat(args, run, cleanup));
      if (args.scenarios.includes('spectators')) spectators.push(await runSpectators(args, run, cleanup));
    }
  } finally {
    await cleanup.runAll();
  }
  if (args.runs > 1 && spectators.length > 0) {
    writeJsonLine({
      bench: 'feeds', scenario: 'spectators', median: true, runs: args.runs, players: args.players, viewers: args.viewers, transport: args.transport,
      extraCpuSpectators: median(spectators.map((r) => r.extraCpuSpectators)),
      extraCpuPlayers: median(spectators.map((r) => r.extraCpuPlayers)),
      cpuRatioSpectatorsToPlayers: median(spectators.map((r) => r.cpuRatio)),
      extraBytesPerSecSpectators: median(spectators.map((r) => r.extraBytesSpectators)),
      extraBytesPerSecPlayers: median(spectators.map((r) => r.extraBytesPlayers)),
      bytesRatioSpectatorsToPlayers: median(spectators.map((r) => r.bytesRatio)),
    });
  }
  if (args.runs > 1 && chat.length > 0) {
    writeJsonLine({
      bench: 'feeds', scenario: 'chat', median: true, runs: args.runs, subscribers: args.subscribers,
      serverCpuUsPerDelivery: median(chat.map((c) => c.grossCpuUsPerDelivery)),
      serverNetCpuUsPerDelivery: median(chat.map((c) => c.netCpuUsPerDelivery)),
      latencyToAllP50Ms: median(chat.map((c) => c.toAllP50Ms)),
      latencyToAllP99Ms: median(chat.map((c) => c.toAllP99Ms)),
    });
  }
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
