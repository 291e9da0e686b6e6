/**
 * Read-only feeds benchmark (issue 13). Prints JSON lines.
 *
 * `chat`: N SSE subscribers (default 1,000, in a child process: bench/feeds-subscribers-entry.ts)
 * on one room's chat stream; this process runs the server and posts lines at a fixed rate. It
 * reports the server's CPU per delivered line (gross, and net of the same subscribers connected
 * with no chat), the latency of a line to all subscribers (the last reader to get it) and of
 * single deliveries, p50/p99, and every line missing or duplicated (there must be none).
 *
 *   npx tsx bench/feeds.ts                                  # chat: 1000 subscribers, 20 lines/s, 10 s
 *   npx tsx bench/feeds.ts --subscribers 200 --rate 50 --seconds 5
 *   npx tsx bench/feeds.ts --runs 3                         # medians over three runs
 */
import { createGameServer, type GameServer } from '../server/index.js';
import { cliArgs, flag, parseFlags } from '../tools/lib/args.js';
import { ToolChild } from '../tools/lib/child.js';
import { CleanupStack } from '../tools/lib/cleanup.js';
import { epochNow, sleep } from '../tools/lib/clock.js';
import { writeJsonLine } from '../tools/lib/json-lines.js';
import { median } from '../tools/lib/stats.js';

const USAGE = `usage: npx tsx bench/feeds.ts [--scenario chat] [--subscribers 1000] [--rate 20] [--seconds 10] [--runs 1]`;

const FLAGS = {
  scenario: flag.choices(['chat'] as const),
  subscribers: flag.int(1, 5000),
  rate: flag.int(1, 1000),
  seconds: flag.number(1, 120),
  runs: flag.int(1, 9),
};

interface Args {
  help: boolean;
  scenarios: Array<'chat'>;
  subscribers: number;
  rate: number;
  seconds: number;
  runs: number;
}

function parseArgs(argv: readonly string[]): Args {
  const { values: v, help } = parseFlags(argv, FLAGS);
  return {
    help,
    scenarios: v.scenario ?? ['chat'],
    subscribers: v.subscribers ?? 1000,
    rate: v.rate ?? 20,
    seconds: v.seconds ?? 10,
    runs: v.runs ?? 1,
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
  const lookup = await server.rooms.acquire(ROOM);
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

async function main(): Promise<void> {
  const args = cliArgs(() => parseArgs(process.argv.slice(2)), USAGE);
  const cleanup = new CleanupStack();
  cleanup.installProcessHandlers();
  const chat: ChatRun[] = [];
  try {
    for (let run = 0; run < args.runs; run++) {
      if (args.scenarios.includes('chat')) chat.push(await runChat(args, run, cleanup));
    }
  } finally {
    await cleanup.runAll();
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
