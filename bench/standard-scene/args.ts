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
 *   --profile-server DIR      V8 CPU and sampling heap profiles of every server over the window
 *                             (window-profile.ts), and a CPU profile of the load process, into DIR
 *   --perf-server DIR         run the server with --perf-basic-prof and record it with Linux perf
 *                             (`perf record -g`) over the window into DIR (docs/profiling.md)
 *   --pin SERVER:CLIENTS      taskset: the server on CPUs SERVER, observer and load (and the peer's
 *                             clients) on CPUs CLIENTS, e.g. --pin 0:1 (tools/lib/pin.ts)
 *   --load-client light|full  load players: light (ack snapshots without decoding them, like the
 *                             peer's load clients) or full GameClients; the observer is always full
 *   --wt-workers N            our server's `webTransport.workers` (0 = the QUIC endpoint on the
 *                             main thread); default: the server's default
 *   --help
 */
import { flag, parseFlags, UsageError } from '../../tools/lib/args.js';
import { pinFlag, type PinPlan } from '../../tools/lib/pin.js';
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
  /** Folder for the window's server CPU and heap profiles; null = no profiling. */
  profileServerDir: string | null;
  /** `webTransport.workers` of our server; null = its default (DEFAULT_WEBTRANSPORT_WORKERS). */
  wtWorkers: number | null;
  /** Folder for `perf record` data of the server over the window; null = no perf. */
  perfServerDir: string | null;
  /** `--pin`: CPUs of the server and of the clients; null = no pinning. */
  pin: PinPlan | null;
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
  wtWorkers: null,
  perfServerDir: null,
  pin: null,
  quick: false,
  help: false,
});

export const USAGE = `usage: npm run bench:scene -- [--ps 16,64,256,512] [--runs 2] [--warmup 3] [--window 10]
                              [--transports wt,ws] [--no-peer] [--peer-only] [--load-client light|full]
                              [--profile-server DIR] [--perf-server DIR] [--pin SERVER:CLIENTS]
                              [--wt-workers N] [--quick]
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
  'perf-server': flag.string(),
  pin: flag.string(),
  'load-client': flag.choice(['light', 'full'] as const),
  'wt-workers': flag.int(0, 16),
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
    wtWorkers: v['wt-workers'] ?? null,
    perfServerDir: v['perf-server'] ?? null,
    pin: null,
    quick: v.quick ?? false,
    help,
  };
  if (v.pin !== undefined) out.pin = pinFlag(v.pin);
  if (out.peerOnly && !out.peer) throw new UsageError('--peer-only and --no-peer leave nothing to run');
  if (out.quick) {
    if (!given.has('ps')) out.ps = [64];
    if (!given.has('runs')) out.runs = 1;
    if (!given.has('window')) out.windowS = 3;
  }
  return out;
}
