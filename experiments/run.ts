/**
 * `npm run experiment -- --loss 0,5,10 --duration 10 [--bots 16] [--seed N] [--rtt 20,50,150]
 *  [--arms wt-datagram,wt-stream,websocket] [--warmup 2] [--out DIR] [--quick]`
 *
 * Compares snapshot freshness over WebTransport datagrams, a reliable WebTransport stream and
 * WebSocket under packet loss, with the server and bots in separate network namespaces. Needs
 * root. Writes raw CSV, summary JSON/CSV, SVG plots and a Markdown report into a timestamped
 * folder under experiments/out/ and prints the folder's path last.
 */
import { join } from 'node:path';
import { cliArgs, flag, parseFlags } from '../tools/lib/args.js';
import { REPO_ROOT } from '../tools/lib/child.js';
import { CleanupStack } from '../tools/lib/cleanup.js';
import { runExperiment, type ExperimentOptions } from './experiment.js';
import { EnvironmentError } from './netns.js';
import { ALL_ARMS } from './types.js';

const USAGE = `usage: npm run experiment -- [--loss 0,1,2,5,10,15] [--duration 20] [--bots 16] [--seed N]
       [--rtt 0[,20,50,150]] [--jitter 0] (netem only) [--arms ${ALL_ARMS.join(',')}] [--warmup 2]
       [--chat-interval 2] [--nice 0] [--rt 0] [--out DIR] [--quick]
  --quick: loss 0,5,10, 5 s per condition, 6 bots (unless given explicitly)
  --nice: nice value for the server and bots processes (negative: less delay from other load)
  --rt N: run the server and bots under SCHED_FIFO priority N (1..99): no delay from other load`;

/** Defaults from issue 6: loss 0/1/2/5/10/15 %, 16 bots, 20 s per condition. */
const DEFAULTS = { loss: [0, 1, 2, 5, 10, 15], durationS: 20, bots: 16, warmupS: 2, chatIntervalS: 2 };
const QUICK = { loss: [0, 5, 10], durationS: 5, bots: 6 };

const FLAGS = {
  loss: flag.numbers(0, 100),
  rtt: flag.numbers(0, 10_000),
  jitter: flag.number(0, 10_000),
  duration: flag.number(1, 3600),
  bots: flag.int(2, 1000),
  seed: flag.int(0, 2 ** 31 - 1),
  warmup: flag.number(0, 600),
  // Kept above the server's chat rate limit.
  'chat-interval': flag.number(1.25, 600),
  arms: flag.choices(ALL_ARMS),
  nice: flag.int(-20, 19),
  rt: flag.int(0, 99),
  out: flag.string(),
  quick: flag.boolean(),
};

/** The options of a run (and whether --help was asked for); throws UsageError on a bad command line. */
export function parseCli(argv: readonly string[], now: Date = new Date()): ExperimentOptions & { help: boolean } {
  const { values: v, help } = parseFlags(argv, FLAGS);
  const quick = v.quick ?? false;
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return {
    lossPcts: v.loss ?? (quick ? QUICK.loss : DEFAULTS.loss),
    rttMs: v.rtt ?? [0],
    jitterMs: v.jitter ?? 0,
    durationS: v.duration ?? (quick ? QUICK.durationS : DEFAULTS.durationS),
    bots: v.bots ?? (quick ? QUICK.bots : DEFAULTS.bots),
    seed: v.seed ?? 1,
    warmupS: v.warmup ?? DEFAULTS.warmupS,
    chatIntervalS: v['chat-interval'] ?? DEFAULTS.chatIntervalS,
    arms: v.arms ?? [...ALL_ARMS],
    nice: v.nice ?? 0,
    realtime: v.rt ?? 0,
    outDir: v.out ?? join(REPO_ROOT, 'experiments', 'out', stamp),
    command: `npm run experiment -- ${argv.join(' ')}`.trim(),
    help,
  };
}

async function main(): Promise<void> {
  const opts = cliArgs(() => parseCli(process.argv.slice(2)), USAGE);
  const cleanup = new CleanupStack();
  cleanup.installProcessHandlers((signal) => `\n${signal}: removing namespaces and stopping children...`);
  try {
    const summary = await runExperiment(opts, cleanup);
    process.stderr.write(`report: ${join(opts.outDir, 'report.md')} (${summary.results.length} arm runs, ${summary.info.method})\n`);
    process.stdout.write(`${opts.outDir}\n`);
  } catch (err) {
    await cleanup.runAll();
    if (err instanceof EnvironmentError) {
      process.stderr.write(`experiment: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`experiment failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  }
}

// Only when run as the CLI, so tests can import parseCli.
if (process.argv[1] && /run\.ts$/.test(process.argv[1])) void main();
