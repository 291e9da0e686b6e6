/**
 * `npm run soak` flags and the schedule they make (pure: parsing, validation and arithmetic).
 *
 *   --minutes 30          length of the play (default 30; 0.25 to 240)
 *   --smoke               a short run for `npm test`: 3+3 bots, one 10 s attack wave with every
 *                         attack in one process, short server timeouts, ~30 s in all
 *   --net auto|netns|loopback
 *                         netns (root): server and clients in two namespaces over a veth pair,
 *                         TCP loss by nftables; loopback: TCP without loss. auto (default):
 *                         netns when root, else loopback
 *   --bots 12             honest bots per transport
 *   --loss 5              packet loss in percent (UDP: the server's link simulator; TCP: netns)
 *   --attacks a,b         attack kinds of the mix (default: all)
 *   --wave-every 180      seconds between attack waves; --wave-seconds 90: each wave's length
 *   --out FILE            also write the JSON lines to FILE
 *   --seed 1
 *   --help
 */
import { flag, parseFlags, UsageError } from '../../tools/lib/args.js';
import { ATTACK_KINDS } from './attacks/index.js';

export type NetChoice = 'auto' | 'netns' | 'loopback';

export interface SoakPlan {
  smoke: boolean;
  net: NetChoice;
  /** Play time (ms), from every bot joined to the finish. */
  playMs: number;
  botsPerTransport: number;
  /** Addresses probes rotate over. */
  probeAddresses: number;
  probeEveryMs: number;
  /** Each bot drops its connection every [lo, hi] ms. */
  reconnectEveryMs: [number, number];
  /** Each bot chats every [lo, hi] ms. */
  chatEveryMs: [number, number];
  lossPct: number;
  attacks: string[];
  /** Addresses each attack kind sends from. */
  sourcesPerAttack: number;
  /** Wave starts (ms from the start of play), each `waveMs` long. */
  waves: number[];
  waveMs: number;
  /** One attack process per kind (full soak) or one for all kinds (smoke: process starts are slow). */
  processPerAttack: boolean;
  sampleEveryMs: number;
  progressEveryMs: number;
  /** Memory is compared between the `memoryWindowMs` after `warmupMs` and the last `memoryWindowMs` of play. */
  warmupMs: number;
  memoryWindowMs: number;
  /** After every client left, the server gets this long to drop to zero everywhere. */
  quiesceTimeoutMs: number;
  /** Short server timeouts (hello, resume window, handshake) for the smoke test. */
  shortTimings: boolean;
  /** Rooms the dev tickets may name: the bots' room first, then the churn rooms. */
  rooms: string[];
  seed: number;
  out: string | null;
  help: boolean;
}

export const USAGE = `usage: npm run soak -- [--minutes 30] [--smoke] [--net auto|netns|loopback] [--bots 12] [--loss 5]
                      [--attacks ${ATTACK_KINDS.join(',')}]
                      [--wave-every 180] [--wave-seconds 90] [--out FILE] [--seed 1]
JSON lines on stdout (kind: config | sample | progress | probe | attack | bots | final | summary),
progress and a Markdown summary on stderr; exit 1 when an invariant failed.`;

const MAX_MINUTES = 240;
/** Churn rooms beside the bots' room. */
const CHURN_ROOMS = 4;

function rooms(): string[] {
  return ['arena', ...Array.from({ length: CHURN_ROOMS }, (_, i) => `churn${i + 1}`)];
}

/** Wave starts: the first after `firstMs`, then every `everyMs`, each ending before `playMs`. */
export function waveStarts(playMs: number, firstMs: number, everyMs: number, waveMs: number): number[] {
  const out: number[] = [];
  for (let t = firstMs; t + waveMs <= playMs; t += everyMs) out.push(t);
  return out;
}

/**
 * What the kind of run fixes, as [smoke, full soak]: the defaults of the flags, and the pacing
 * no flag sets. The smoke (`npm test`) is short with short timeouts, one process for all attacks.
 */
const BY_KIND = {
  minutes: [0.3, 30],
  waveSeconds: [10, 90],
  bots: [3, 12],
  probeAddresses: [4, 16],
  probeEveryMs: [1_500, 5_000],
  reconnectEveryMs: [[4_000, 8_000], [120_000, 240_000]],
  chatEveryMs: [[700, 1_500], [4_000, 8_000]],
  sourcesPerAttack: [1, 2],
  processPerAttack: [false, true],
  sampleEveryMs: [2_000, 10_000],
  progressEveryMs: [4_000, 30_000],
  quiesceTimeoutMs: [20_000, 90_000],
  shortTimings: [true, false],
} as const;

export function parsePlan(argv: readonly string[]): SoakPlan {
  const { values: v, help } = parseFlags(argv, {
    minutes: flag.number(0.25, MAX_MINUTES),
    smoke: flag.boolean(),
    net: flag.choice(['auto', 'netns', 'loopback'] as const),
    bots: flag.int(1, 200),
    loss: flag.number(0, 50),
    attacks: flag.choices(ATTACK_KINDS),
    'wave-every': flag.number(5, 3_600),
    'wave-seconds': flag.number(1, 3_600),
    out: flag.string(),
    seed: flag.int(0, 2 ** 32 - 1),
  });
  const smoke = v.smoke === true;
  const ofKind = <K extends keyof typeof BY_KIND>(k: K): (typeof BY_KIND)[K][number] => BY_KIND[k][smoke ? 0 : 1];
  const playMs = (v.minutes ?? ofKind('minutes')) * 60_000;
  const waveMs = (v['wave-seconds'] ?? ofKind('waveSeconds')) * 1000;
  let waves: number[];
  let warmupMs: number;
  let memoryWindowMs: number;
  if (smoke) {
    if (waveMs + 2_000 > playMs) throw new UsageError('--wave-seconds must leave 2 s of the play');
    // One wave after 2 s. Too short for memory windows: warm is the last sample before the wave,
    // end the one after every client left (verdict.ts), so the smoke checks that memory comes back.
    waves = [2_000];
    warmupMs = 0;
    memoryWindowMs = 0;
  } else {
    const waveEveryMs = (v['wave-every'] ?? 180) * 1000;
    if (waveMs > waveEveryMs) throw new UsageError('--wave-seconds must not exceed --wave-every');
    waves = waveStarts(playMs, Math.min(90_000, Math.round(playMs / 20)), waveEveryMs, waveMs);
    // Memory: a warm-up of a sixth of the play (5 min of 30), then windows of one wave cycle.
    warmupMs = Math.round(playMs / 6);
    memoryWindowMs = Math.min(waveEveryMs, Math.round((playMs - warmupMs) / 3));
  }
  // In the order the config line has always printed them.
  return {
    net: v.net ?? 'auto',
    lossPct: v.loss ?? 5,
    attacks: v.attacks ?? [...ATTACK_KINDS],
    rooms: rooms(),
    seed: v.seed ?? 1,
    out: v.out ?? null,
    help,
    smoke,
    playMs,
    botsPerTransport: v.bots ?? ofKind('bots'),
    probeAddresses: ofKind('probeAddresses'),
    probeEveryMs: ofKind('probeEveryMs'),
    reconnectEveryMs: [...ofKind('reconnectEveryMs')],
    chatEveryMs: [...ofKind('chatEveryMs')],
    sourcesPerAttack: ofKind('sourcesPerAttack'),
    waves,
    waveMs,
    processPerAttack: ofKind('processPerAttack'),
    sampleEveryMs: ofKind('sampleEveryMs'),
    progressEveryMs: ofKind('progressEveryMs'),
    warmupMs,
    memoryWindowMs,
    quiesceTimeoutMs: ofKind('quiesceTimeoutMs'),
    shortTimings: ofKind('shortTimings'),
  };
}
