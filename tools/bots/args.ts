/**
 * Flags of the bots CLI (`npm run bots`), kept apart from cli.ts so they can be tested without
 * spawning a process.
 */
import { flag, parseFlags } from '../lib/args.js';
import type { BotTransport } from './bot-run.js';

export interface BotCliArgs {
  url: string;
  transport: BotTransport;
  count: number;
  durationS: number;
  seed: number;
  room?: string;
  verbose: boolean;
  help: boolean;
}

/** Upper bounds that keep a typo from starting something the machine cannot hold. */
export const MAX_BOT_COUNT = 2_000;
export const MAX_BOT_DURATION_S = 3_600;

export const BOT_USAGE = `usage: npm run bots -- --url http://127.0.0.1:8080 --transport ws|wt|auto --count N --duration S [--seed N] [--room ID] [--verbose]`;

const SPEC = {
  url: flag.origin(),
  transport: flag.choice(['ws', 'wt', 'auto'] as const),
  count: flag.int(1, MAX_BOT_COUNT),
  // Seconds, a fraction allowed; the smallest useful window is a few snapshot intervals.
  duration: flag.number(0.001, MAX_BOT_DURATION_S),
  seed: flag.int(0, 2 ** 32 - 1),
  room: flag.string(),
  verbose: flag.boolean(),
};

/** Parses the CLI's argv; throws a UsageError naming the flag on anything invalid. */
export function parseBotArgs(argv: readonly string[]): BotCliArgs {
  const { values: v, help } = parseFlags(argv, SPEC);
  return {
    url: v.url ?? 'http://127.0.0.1:8080',
    transport: v.transport ?? 'ws',
    count: v.count ?? 2,
    durationS: v.duration ?? 5,
    seed: v.seed ?? 1,
    ...(v.room !== undefined ? { room: v.room } : {}),
    verbose: v.verbose ?? false,
    help,
  };
}
