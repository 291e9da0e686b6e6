/**
 * `npm run experiment -- --loss 0,5,10 --duration 10 [--bots 16] [--seed N] [--rtt 0,50,100,200]
 *  [--jitter 5] [--cc cubic|bbr] [--browser 100:5] [--arms wt-datagram,wt-stream,websocket]
 *  [--warmup 2] [--out DIR] [--quick]`
 *
 * Compares snapshot freshness and rendered-position error over WebTransport datagrams, a
 * reliable WebTransport stream and WebSocket under added delay, jitter and packet loss, with the
 * server and bots in separate network namespaces. Needs root. Writes raw CSV, summary JSON/CSV,
 * SVG plots and a Markdown report into a timestamped folder under experiments/out/ and prints
 * the folder's path last.
 */
import { join } from 'node:path';
import { UsageError, cliArgs, flag, parseFlags } from '../tools/lib/args.js';
import { REPO_ROOT } from '../tools/lib/child.js';
import { CleanupStack } from '../tools/lib/cleanup.js';
import { runExperiment, type ExperimentOptions } from './experiment.js';
import { EnvironmentError, netnsTag } from './netns.js';
import { ALL_ARMS, type Condition } from './types.js';
import { JITTER_MODES, TCP_CONGESTION } from './delay/params.js';

const USAGE = `usage: npm run experiment -- [--loss 0,1,2,5,10,15] [--duration 20] [--bots 16] [--seed N]
       [--rtt 0[,50,100,200]] [--jitter 0] [--jitter-mode order|reorder] [--cc cubic|bbr]
       [--mechanism auto|netem|nfqueue] [--browser RTT:LOSS[,RTT:LOSS]] [--arms ${ALL_ARMS.join(',')}]
       [--warmup 2] [--chat-interval 2] [--nice 0] [--rt 0] [--out DIR] [--keep-raw] [--quick]
       [--interp-base N] [--interp-residual R] [--lossy-warmup]
  --quick: loss 0,5,10, 5 s per condition, 6 bots (unless given explicitly)
  --rtt: added round-trip times in ms (netem where the kernel has it, else the NFQUEUE delay stage)
  --jitter: ms per direction, capped at each condition's one-way delay (default 0)
  --cc: TCP congestion control in both namespaces (default cubic)
  --browser: conditions at which a headless Chromium page joins every arm (needs client/dist)
  --keep-raw: keep every arm's frame and ground-truth logs under logs/
  --nice: nice value for the server and bots processes (negative: less delay from other load)
  --rt N: run the server and bots under SCHED_FIFO priority N (1..99): no delay from other load
  --interp-base, --interp-residual: the bots' interpolation delay rule instead of the client's own
      (base delay in snapshot intervals; loss residual, 1 = no extra delay for loss)
  --lossy-warmup: loss on from the warm-up (after joining), so the buffers have settled at the window`;

/** Defaults from issue 6: loss 0/1/2/5/10/15 %, 16 bots, 20 s per condition. */
const DEFAULTS = { loss: [0, 1, 2, 5, 10, 15], durationS: 20, bots: 16, warmupS: 2, chatIntervalS: 2 };
const QUICK = { loss: [0, 5, 10], durationS: 5, bots: 6 };

const FLAGS = {
  loss: flag.numbers(0, 100),
  rtt: flag.numbers(0, 10_000),
  jitter: flag.number(0, 10_000),
  'jitter-mode': flag.choice(JITTER_MODES),
  cc: flag.choice(TCP_CONGESTION),
  mechanism: flag.choice(['auto', 'netem', 'nfqueue'] as const),
  browser: flag.string(),
  'keep-raw': flag.boolean(),
  duration: flag.number(1, 3600),
  bots: flag.int(2, 1000),
  seed: flag.int(0, 2 ** 31 - 1),
  warmup: flag.number(0, 600),
  // Kept above the server's chat rate limit.
  'chat-interval': flag.number(1.25, 600),
  arms: flag.choices(ALL_ARMS),
  nice: flag.int(-20, 19),
  rt: flag.int(0, 99),
  'interp-base': flag.number(1, 10),
  'interp-residual': flag.number(1e-9, 1),
  'lossy-warmup': flag.boolean(),
  out: flag.string(),
  quick: flag.boolean(),
};

/** `100:5,0:0` -> conditions; throws UsageError on anything else. */
export function parseConditions(text: string): Condition[] {
  return text.split(',').map((pair) => {
    const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(pair.trim());
    if (!m) throw new UsageError(`--browser wants RTT:LOSS pairs like 100:5, got ${JSON.stringify(pair)}`);
    return { rttMs: Number(m[1]), lossPct: Number(m[2]) };
  });
}

/** The options of a run (and whether --help was asked for); throws UsageError on a bad command line. */
export function parseCli(argv: readonly string[], now: Date = new Date()): ExperimentOptions & { help: boolean } {
  const { values: v, help } = parseFlags(argv, FLAGS);
  const quick = v.quick ?? false;
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return {
    lossPcts: v.loss ?? (quick ? QUICK.loss : DEFAULTS.loss),
    rttMs: v.rtt ?? [0],
    jitterMs: v.jitter ?? 0,
    jitterMode: v['jitter-mode'],
    tcpCongestion: v.cc,
    mechanism: v.mechanism,
    browserAt: v.browser ? parseConditions(v.browser) : [],
    keepRaw: v['keep-raw'] ?? false,
    nsTag: netnsTag(process.env),
    durationS: v.duration ?? (quick ? QUICK.durationS : DEFAULTS.durationS),
    bots: v.bots ?? (quick ? QUICK.bots : DEFAULTS.bots),
    seed: v.seed ?? 1,
    warmupS: v.warmup ?? DEFAULTS.warmupS,
    chatIntervalS: v['chat-interval'] ?? DEFAULTS.chatIntervalS,
    arms: v.arms ?? [...ALL_ARMS],
    nice: v.nice ?? 0,
    realtime: v.rt ?? 0,
    ...(v['interp-base'] !== undefined || v['interp-residual'] !== undefined
      ? { interp: { ...(v['interp-base'] !== undefined ? { baseIntervals: v['interp-base'] } : {}), ...(v['interp-residual'] !== undefined ? { lossResidual: v['interp-residual'] } : {}) } }
      : {}),
    lossyWarmup: v['lossy-warmup'] ?? false,
    outDir: v.out ?? join(REPO_ROOT, 'experiments', 'out', stamp),
    command: `npm run experiment -- ${argv.join(' ')}`.trim(),
    help,
  };
}

async function main(): Promise<void> {
  let opts: ReturnType<typeof parseCli>;
  try {
    opts = cliArgs(() => parseCli(process.argv.slice(2)), USAGE);
  } catch (err) {
    // A bad TICKWIRE_NETNS_TAG: the same plain message and exit code as the run's other environment checks.
    if (!(err instanceof EnvironmentError)) throw err;
    process.stderr.write(`experiment: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  const cleanup = new CleanupStack();
  cleanup.installProcessHandlers((signal) => `\n${signal}: removing namespaces and stopping children...`);
  try {
    const summary = await runExperiment(opts, cleanup);
    process.stderr.write(`report: ${join(opts.outDir, 'report.md')} (${summary.results.length} arm runs, delay ${summary.info.mechanism.delay}, loss ${summary.info.mechanism.loss})\n`);
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
