/**
 * Command-line flags of `npm run bench:scene` (pure: parsing and validation only).
 *
 *   --ps 16,64,256,512        players per room (each P is its own set of runs)
 *   --runs 2                  fresh-process runs per (P, transport) and for the peer
 *   --warmup 3                seconds between "everyone joined" and the window
 *   --window 10               measured seconds
 *   --transports wt,ws        which of our transports to run (wt = WebTransport, ws = WebSocket)
 *   --no-peer                 skip the Colyseus peer (no ratio lines then)
 *   --quick                   P=64, 1 run, 3 s window: a smoke run under a minute
 *   --peer-only               run only the Colyseus peer (checks the peer set-up)
 *   --profile-server DIR      write a V8 CPU profile of every server process (and of the load
 *                             process beside it) into DIR
 *   --load-client light|full  load players: light (ack snapshots without decoding them, like the
 *                             peer's load clients) or full GameClients; the observer is always full
 *   --help
 */
import { flag, parseFlags, UsageError } from '../../tools/lib/args.js';
import type { BenchTransport } from './report.js';

export interface BenchArgs {
  ps: number[];
  runs: number;
  warmupS: number;
  windowS: number;
  transports: BenchTransport[];
  peer: boolean;
  peerOnly: boolean;
  loadClient: 'light' | 'full';
  /** Folder for server CPU profiles (`--cpu-prof`); null = no profiling. */
  profileServerDir: string | null;
  quick: boolean;
  help: boolean;
}

/** Largest room the bench drives: the standard scene's documented maximum is 512. */
export const MAX_BENCH_PLAYERS = 1024;
/** Bounds so a typo cannot start an hour-long run. */
export const MAX_RUNS = 10;
export const MAX_WINDOW_S = 120;
export const MAX_WARMUP_S = 60;

export const DEFAULT_ARGS: Readonly<BenchArgs> = Object.freeze({
  ps: [16, 64, 256, 512],
  runs: 2,
  warmupS: 3,
  windowS: 10,
  transports: ['webtransport', 'websocket'] as BenchTransport[],
  peer: true,
  peerOnly: false,
  loadClient: 'light',
  profileServerDir: null,
  quick: false,
  help: false,
});

export const USAGE = `usage: npm run bench:scene -- [--ps 16,64,256,512] [--runs 2] [--warmup 3] [--window 10]
                              [--transports wt,ws] [--no-peer] [--peer-only] [--load-client light|full]
                              [--profile-server DIR] [--quick]
JSON lines on stdout (kind: run | median | ratio | target), progress and a Markdown table on stderr.
--quick = --ps 64 --runs 1 --window 3 (the peer runs at the same P).`;

const FLAGS = {
  ps: flag.ints(1, MAX_BENCH_PLAYERS),
  runs: flag.int(1, MAX_RUNS),
  warmup: flag.number(0, MAX_WARMUP_S),
  window: flag.number(1, MAX_WINDOW_S),
  transports: flag.choices(['webtransport', 'websocket'] as const, { wt: 'webtransport', ws: 'websocket' }),
  'no-peer': flag.boolean(),
  quick: flag.boolean(),
  'peer-only': flag.boolean(),
  'profile-server': flag.string(),
  'load-client': flag.choice(['light', 'full'] as const),
};

/**
 * Parses argv (without node and script). `--quick` sets P=64, 1 run, 3 s window; flags given
 * explicitly after or before it still win. Throws a UsageError with a message fit for the user.
 */
export function parseArgs(argv: readonly string[]): BenchArgs {
  const { values: v, given, help } = parseFlags(argv, FLAGS);
  if (v.ps?.some((p) => p < 2)) throw new UsageError('--ps: each P must be at least 2 (an observer and one load client)');
  const out: BenchArgs = {
    ps: v.ps ? [...new Set(v.ps)] : [...DEFAULT_ARGS.ps],
    runs: v.runs ?? DEFAULT_ARGS.runs,
    warmupS: v.warmup ?? DEFAULT_ARGS.warmupS,
    windowS: v.window ?? DEFAULT_ARGS.windowS,
    transports: v.transports ?? [...DEFAULT_ARGS.transports],
    peer: !v['no-peer'],
    peerOnly: v['peer-only'] ?? false,
    loadClient: v['load-client'] ?? DEFAULT_ARGS.loadClient,
    profileServerDir: v['profile-server'] ?? null,
    quick: v.quick ?? false,
    help,
  };
  if (out.peerOnly && !out.peer) throw new UsageError('--peer-only and --no-peer leave nothing to run');
  if (out.quick) {
    if (!given.has('ps')) out.ps = [64];
    if (!given.has('runs')) out.runs = 1;
    if (!given.has('window')) out.windowS = 3;
  }
  return out;
}
