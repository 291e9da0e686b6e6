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
import { CleanupStack } from './cleanup.js';
import { REPO_ROOT } from './child.js';
import { runExperiment, type ExperimentOptions } from './experiment.js';
import { EnvironmentError } from './netns.js';
import { ALL_ARMS, type ArmId } from './types.js';

const USAGE = `usage: npm run experiment -- [--loss 0,1,2,5,10,15] [--duration 20] [--bots 16] [--seed N]
       [--rtt 0[,20,50,150]] [--jitter 0] (netem only) [--arms ${ALL_ARMS.join(',')}] [--warmup 2]
       [--chat-interval 2] [--nice 0] [--rt 0] [--out DIR] [--quick]
  --quick: loss 0,5,10, 5 s per condition, 6 bots (unless given explicitly)
  --nice: nice value for the server and bots processes (negative: less delay from other load)
  --rt N: run the server and bots under SCHED_FIFO priority N (1..99): no delay from other load`;

/** Defaults from issue 6: loss 0/1/2/5/10/15 %, 16 bots, 20 s per condition. */
const DEFAULTS = { loss: [0, 1, 2, 5, 10, 15], durationS: 20, bots: 16, warmupS: 2, chatIntervalS: 2 };
const QUICK = { loss: [0, 5, 10], durationS: 5, bots: 6 };

function numberList(flag: string, v: string, min: number, max: number): number[] {
  const list = v.split(',').map((x) => Number(x.trim()));
  if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n < min || n > max)) {
    throw new UsageError(`${flag} wants comma-separated numbers within ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return list;
}

class UsageError extends Error {}

export function parseCli(argv: readonly string[], now: Date = new Date()): ExperimentOptions {
  const flags = new Map<string, string>();
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') {
      quick = true;
      continue;
    }
    if (a === '--help' || a === '-h') throw new UsageError('');
    if (!a.startsWith('--') || i + 1 >= argv.length) throw new UsageError(`unexpected argument ${JSON.stringify(a)}`);
    flags.set(a.slice(2), argv[++i]);
  }
  const known = new Set(['loss', 'duration', 'bots', 'seed', 'rtt', 'arms', 'warmup', 'chat-interval', 'nice', 'rt', 'jitter', 'out']);
  for (const k of flags.keys()) if (!known.has(k)) throw new UsageError(`unknown option --${k}`);
  const one = (flag: string, dflt: number, min: number, max: number) => (flags.has(flag) ? numberList(`--${flag}`, flags.get(flag)!, min, max)[0] : dflt);
  const arms = (flags.get('arms')?.split(',') ?? [...ALL_ARMS]) as ArmId[];
  for (const a of arms) if (!ALL_ARMS.includes(a)) throw new UsageError(`unknown arm ${JSON.stringify(a)}; arms are ${ALL_ARMS.join(', ')}`);
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return {
    lossPcts: flags.has('loss') ? numberList('--loss', flags.get('loss')!, 0, 100) : quick ? QUICK.loss : DEFAULTS.loss,
    rttMs: flags.has('rtt') ? numberList('--rtt', flags.get('rtt')!, 0, 10_000) : [0],
    jitterMs: one('jitter', 0, 0, 10_000),
    durationS: one('duration', quick ? QUICK.durationS : DEFAULTS.durationS, 1, 3600),
    bots: Math.round(one('bots', quick ? QUICK.bots : DEFAULTS.bots, 2, 1000)),
    seed: Math.round(one('seed', 1, 0, 2 ** 31 - 1)),
    warmupS: one('warmup', DEFAULTS.warmupS, 0, 600),
    chatIntervalS: one('chat-interval', DEFAULTS.chatIntervalS, 1.25, 600),
    arms,
    nice: Math.round(one('nice', 0, -20, 19)),
    realtime: Math.round(one('rt', 0, 0, 99)),
    outDir: flags.get('out') ?? join(REPO_ROOT, 'experiments', 'out', stamp),
    command: `npm run experiment -- ${argv.join(' ')}`.trim(),
  };
}

async function main(): Promise<void> {
  let opts: ExperimentOptions;
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.message) process.stderr.write(`${err.message}\n`);
      process.stderr.write(`${USAGE}\n`);
      process.exit(err.message ? 2 : 0);
    }
    throw err;
  }
  const cleanup = new CleanupStack();
  cleanup.installProcessHandlers();
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
