/**
 * Argument parsing for the bots CLI, kept apart from cli.ts so it can be tested without
 * spawning a process.
 */
import type { BotTransport } from './bot-fleet.js';

export interface BotCliArgs {
  url: string;
  transport: BotTransport;
  count: number;
  durationS: number;
  seed: number;
  room?: string;
  verbose: boolean;
}

/** Upper bounds that keep a typo from starting something the machine cannot hold. */
export const MAX_BOT_COUNT = 2_000;
export const MAX_BOT_DURATION_S = 3_600;

export const BOT_USAGE = `usage: npm run bots -- --url http://127.0.0.1:8080 --transport ws|wt|auto --count N --duration S [--seed N] [--room ID] [--verbose]`;

/** Parses `--key value` pairs; throws an Error with a usage hint on anything invalid. */
export function parseBotArgs(argv: readonly string[]): BotCliArgs {
  const out: BotCliArgs = { url: 'http://127.0.0.1:8080', transport: 'ws', count: 2, durationS: 5, seed: 1, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${key} needs a value\n${BOT_USAGE}`);
      return v;
    };
    const int = (lo: number, hi: number): number => {
      const raw = value();
      const n = Number(raw);
      if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`${key} must be an integer in [${lo}, ${hi}], got ${raw}`);
      return n;
    };
    switch (key) {
      case '--url': {
        const u = value();
        const parsed = new URL(u);
        if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('--url must be an http(s) origin');
        out.url = parsed.origin;
        break;
      }
      case '--transport': {
        const t = value();
        if (t !== 'ws' && t !== 'wt' && t !== 'auto') throw new Error(`--transport must be ws, wt or auto, got ${t}`);
        out.transport = t;
        break;
      }
      case '--count':
        out.count = int(1, MAX_BOT_COUNT);
        break;
      case '--duration': {
        const raw = value();
        const d = Number(raw);
        if (!(d > 0 && d <= MAX_BOT_DURATION_S)) throw new Error(`--duration must be seconds in (0, ${MAX_BOT_DURATION_S}], got ${raw}`);
        out.durationS = d;
        break;
      }
      case '--seed':
        out.seed = int(0, 2 ** 32 - 1);
        break;
      case '--room':
        out.room = value();
        break;
      case '--verbose':
        out.verbose = true;
        break;
      case '--help':
      case '-h':
        throw new Error(BOT_USAGE);
      default:
        throw new Error(`unknown argument ${key}\n${BOT_USAGE}`);
    }
  }
  return out;
}
