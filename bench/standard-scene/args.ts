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
 *   --perf-server DIR         run the server with --perf-basic-prof and record it with Linux perf
 *                             (`perf record -g`) over the window into DIR (docs/profiling.md)
 *   --pin [SERVER:CLIENTS]    taskset: the server on CPUs SERVER, observer and load (and the peer's
 *                             clients) on CPUs CLIENTS; default 0:1 (pin.ts)
 *   --load-client light|full  load players: light (ack snapshots without decoding them, like the
 *                             peer's load clients) or full GameClients; the observer is always full
 *   --help
 */
import { DEFAULT_PIN, parsePin, type PinPlan } from './pin.js';
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
  perfServerDir: null,
  pin: null,
  quick: false,
  help: false,
});

export const USAGE = `usage: npm run bench:scene -- [--ps 16,64,256,512] [--runs 2] [--warmup 3] [--window 10]
                              [--transports wt,ws] [--no-peer] [--peer-only] [--load-client light|full]
                              [--profile-server DIR] [--perf-server DIR]
                              [--pin [SERVER:CLIENTS]] [--quick]
JSON lines on stdout (kind: run | median | ratio | target), progress and a Markdown table on stderr.
--quick = --ps 64 --runs 1 --window 3 (the peer runs at the same P).`;

export class ArgsError extends Error {
  override readonly name = 'ArgsError';
}

function positiveInt(flag: string, raw: string | undefined, max: number): number {
  const n = Number(raw);
  if (raw === undefined || raw === '' || !Number.isInteger(n) || n < 1 || n > max) {
    throw new ArgsError(`${flag} needs an integer in [1, ${max}], got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`);
  }
  return n;
}

function seconds(flag: string, raw: string | undefined, min: number, max: number): number {
  const n = Number(raw);
  if (raw === undefined || raw === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new ArgsError(`${flag} needs seconds in [${min}, ${max}], got ${raw === undefined ? 'nothing' : JSON.stringify(raw)}`);
  }
  return n;
}

function transportOf(name: string): BenchTransport {
  switch (name.trim().toLowerCase()) {
    case 'wt': case 'webtransport': return 'webtransport';
    case 'ws': case 'websocket': return 'websocket';
    default: throw new ArgsError(`unknown transport ${JSON.stringify(name)} (use wt or ws)`);
  }
}

/**
 * Parses argv (without node and script). `--quick` sets P=64, 1 run, 3 s window; flags given
 * explicitly after or before it still win. Throws ArgsError with a message fit for the user.
 */
export function parseArgs(argv: readonly string[]): BenchArgs {
  const out: BenchArgs = { ...DEFAULT_ARGS, ps: [...DEFAULT_ARGS.ps], transports: [...DEFAULT_ARGS.transports] };
  const explicit = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--ps': {
        const raw = value();
        if (!raw) throw new ArgsError('--ps needs a comma-separated list such as 16,64');
        const ps = raw.split(',').map((s) => positiveInt('--ps', s.trim(), MAX_BENCH_PLAYERS));
        if (ps.some((p) => p < 2)) throw new ArgsError('--ps: each P must be at least 2 (an observer and one load client)');
        out.ps = [...new Set(ps)];
        explicit.add('ps');
        break;
      }
      case '--runs': out.runs = positiveInt('--runs', value(), MAX_RUNS); explicit.add('runs'); break;
      case '--warmup': out.warmupS = seconds('--warmup', value(), 0, MAX_WARMUP_S); explicit.add('warmup'); break;
      case '--window': out.windowS = seconds('--window', value(), 1, MAX_WINDOW_S); explicit.add('window'); break;
      case '--transports': {
        const raw = value();
        if (!raw) throw new ArgsError('--transports needs wt, ws or wt,ws');
        out.transports = [...new Set(raw.split(',').map(transportOf))];
        break;
      }
      case '--no-peer': out.peer = false; break;
      case '--quick': out.quick = true; break;
      case '--peer-only': out.peerOnly = true; break;
      case '--profile-server': {
        const raw = value();
        if (!raw) throw new ArgsError('--profile-server needs a folder');
        out.profileServerDir = raw;
        break;
      }
      case '--perf-server': {
        const raw = value();
        if (!raw) throw new ArgsError('--perf-server needs a folder');
        out.perfServerDir = raw;
        break;
      }
      case '--pin': {
        // The CPU lists are optional: `--pin` alone (or followed by another flag) is 0:1.
        const raw = inline ?? (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : undefined);
        const plan = raw === undefined ? { ...DEFAULT_PIN } : parsePin(raw);
        if (!plan) throw new ArgsError(`--pin needs SERVER:CLIENTS taskset CPU lists such as 0:1, got ${JSON.stringify(raw)}`);
        out.pin = plan;
        break;
      }
      case '--load-client': {
        const raw = value();
        if (raw !== 'light' && raw !== 'full') throw new ArgsError(`--load-client needs light or full, got ${JSON.stringify(raw ?? '')}`);
        out.loadClient = raw;
        break;
      }
      case '--help': case '-h': out.help = true; break;
      default: throw new ArgsError(`unknown flag ${JSON.stringify(arg)}\n${USAGE}`);
    }
  }
  if (out.peerOnly && !out.peer) throw new ArgsError('--peer-only and --no-peer leave nothing to run');
  if (out.quick) {
    if (!explicit.has('ps')) out.ps = [64];
    if (!explicit.has('runs')) out.runs = 1;
    if (!explicit.has('window')) out.windowS = 3;
  }
  return out;
}
