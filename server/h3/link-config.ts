/**
 * The configuration of the seeded link simulator (netsim.ts): impairments per direction, their
 * defaults and ranges, and the text spec ("loss=0.05,delay=40,jitter=10,up.loss=0.1") that
 * options, the CLI and experiment reports use, parsed and formatted back. I/O-free.
 */

/** Impairments of one direction. */
export interface LinkDirectionConfig {
  /** Drop probability, 0..1. */
  loss: number;
  /** Base one-way delay, ms. */
  delayMs: number;
  /** Uniform jitter amplitude, ms: each packet's delay is delayMs ± jitterMs (never below 0). */
  jitterMs: number;
  /** Probability of delivering a packet twice, 0..1. */
  duplicate: number;
  /** Probability of holding a packet back so later ones overtake it, 0..1. */
  reorder: number;
  /** Extra delay of a reordered packet, ms. */
  reorderDelayMs: number;
  /** Link speed in bytes per second; 0 means unlimited. */
  rateBytesPerSec: number;
  /** Bytes allowed to wait for the rate-limited link before tail drop. */
  queueLimitBytes: number;
}

export type Direction = 'up' | 'down';

export interface LinkConfig {
  up: LinkDirectionConfig;
  down: LinkDirectionConfig;
}

/** Default bytes that may wait for a rate-limited link (a small router buffer): 64 KiB. */
export const DEFAULT_RATE_QUEUE_LIMIT_BYTES = 64 * 1024;
/** Default extra delay for reordered packets, ms. */
export const DEFAULT_REORDER_DELAY_MS = 20;

/** A direction with no impairment. */
export function perfectDirection(): LinkDirectionConfig {
  return {
    loss: 0, delayMs: 0, jitterMs: 0, duplicate: 0, reorder: 0,
    reorderDelayMs: DEFAULT_REORDER_DELAY_MS, rateBytesPerSec: 0, queueLimitBytes: DEFAULT_RATE_QUEUE_LIMIT_BYTES,
  };
}

/** A link with no impairment in either direction. */
export function perfectLink(): LinkConfig {
  return { up: perfectDirection(), down: perfectDirection() };
}

/** True when a direction changes nothing (the caller may then bypass the simulator). */
export function isPerfectDirection(d: LinkDirectionConfig): boolean {
  return d.loss === 0 && d.delayMs === 0 && d.jitterMs === 0 && d.duplicate === 0 && d.reorder === 0 && d.rateBytesPerSec === 0;
}

/** True when the whole link changes nothing. */
export function isPerfectLink(c: LinkConfig): boolean {
  return isPerfectDirection(c.up) && isPerfectDirection(c.down);
}

/** Throws RangeError when a configuration value is out of range (a programming error; specs go through parseLinkSpec). */
export function validateLinkConfig(c: LinkConfig): void {
  for (const dir of ['up', 'down'] as const) {
    const problem = directionProblem(c[dir]);
    if (problem) throw new RangeError(`netsim ${dir}: ${problem}`);
  }
}

function directionProblem(d: LinkDirectionConfig): string | null {
  for (const k of ['loss', 'duplicate', 'reorder'] as const) {
    if (!(d[k] >= 0 && d[k] <= 1)) return `${k} must be a probability in [0, 1], got ${d[k]}`;
  }
  for (const k of ['delayMs', 'jitterMs', 'reorderDelayMs', 'rateBytesPerSec'] as const) {
    if (!(Number.isFinite(d[k]) && d[k] >= 0)) return `${k} must be a finite number >= 0, got ${d[k]}`;
  }
  if (!(Number.isFinite(d.queueLimitBytes) && d.queueLimitBytes > 0)) return `queueLimitBytes must be > 0, got ${d.queueLimitBytes}`;
  return null;
}

/** Spec keys and the config field each sets. */
const SPEC_KEYS: Record<string, keyof LinkDirectionConfig> = {
  loss: 'loss',
  delay: 'delayMs',
  jitter: 'jitterMs',
  dup: 'duplicate',
  reorder: 'reorder',
  reorderdelay: 'reorderDelayMs',
  rate: 'rateBytesPerSec',
  queue: 'queueLimitBytes',
};
const PROBABILITY_KEYS = new Set(['loss', 'dup', 'reorder']);

export type LinkSpecResult = { ok: true; config: LinkConfig } | { ok: false; error: string };

/**
 * Parses a link spec such as `"loss=0.05,delay=40,jitter=10,dup=0.01,reorder=0.02,rate=200000,up.loss=0.1"`.
 * Keys: loss, dup, reorder (probabilities, `0.05` or `5%`), delay, jitter, reorderdelay (ms),
 * rate (bytes/s, 0 = unlimited), queue (bytes). A bare key sets both directions; `up.` or `down.`
 * sets one, and wins over a bare key wherever it appears. An empty spec is a perfect link.
 * Never throws: errors name the offending entry.
 */
export function parseLinkSpec(spec: string): LinkSpecResult {
  const config = perfectLink();
  const both: Array<[keyof LinkDirectionConfig, number]> = [];
  const single: Array<[Direction, keyof LinkDirectionConfig, number]> = [];
  const seen = new Set<string>();
  for (const raw of spec.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq <= 0) return { ok: false, error: `netsim: "${entry}" is not key=value` };
    const fullKey = entry.slice(0, eq).trim().toLowerCase();
    const valueText = entry.slice(eq + 1).trim();
    if (seen.has(fullKey)) return { ok: false, error: `netsim: "${fullKey}" given twice` };
    seen.add(fullKey);
    let dir: Direction | null = null;
    let key = fullKey;
    const dot = fullKey.indexOf('.');
    if (dot >= 0) {
      const prefix = fullKey.slice(0, dot);
      if (prefix !== 'up' && prefix !== 'down') return { ok: false, error: `netsim: unknown direction "${prefix}" in "${entry}" (use up. or down.)` };
      dir = prefix;
      key = fullKey.slice(dot + 1);
    }
    const field = SPEC_KEYS[key];
    if (field === undefined) return { ok: false, error: `netsim: unknown key "${key}" in "${entry}" (known: ${Object.keys(SPEC_KEYS).join(', ')})` };
    let value: number;
    const percent = valueText.endsWith('%');
    const numText = percent ? valueText.slice(0, -1).trim() : valueText;
    if (!/^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(numText)) return { ok: false, error: `netsim: "${valueText}" is not a number in "${entry}"` };
    value = Number(numText);
    if (percent) {
      if (!PROBABILITY_KEYS.has(key)) return { ok: false, error: `netsim: "%" only applies to loss, dup and reorder, in "${entry}"` };
      value /= 100;
    }
    if (PROBABILITY_KEYS.has(key) && value > 1) return { ok: false, error: `netsim: ${key} must be in [0, 1] (or 0%..100%), got "${valueText}"` };
    if (!Number.isFinite(value)) return { ok: false, error: `netsim: "${valueText}" is not finite in "${entry}"` };
    if (key === 'queue' && value <= 0) return { ok: false, error: `netsim: queue must be > 0 bytes, in "${entry}"` };
    if (dir) single.push([dir, field, value]);
    else both.push([field, value]);
  }
  for (const [field, value] of both) {
    config.up[field] = value;
    config.down[field] = value;
  }
  for (const [dir, field, value] of single) config[dir][field] = value;
  return { ok: true, config };
}

/** Formats a config back into a spec (for logs and reports); `parseLinkSpec(formatLinkSpec(c))` gives `c` back. */
export function formatLinkSpec(c: LinkConfig): string {
  const parts: string[] = [];
  const def = perfectDirection();
  const keys = Object.entries(SPEC_KEYS) as Array<[string, keyof LinkDirectionConfig]>;
  for (const [key, field] of keys) {
    if (c.up[field] === c.down[field]) {
      if (c.up[field] !== def[field]) parts.push(`${key}=${c.up[field]}`);
    } else {
      if (c.up[field] !== def[field]) parts.push(`up.${key}=${c.up[field]}`);
      if (c.down[field] !== def[field]) parts.push(`down.${key}=${c.down[field]}`);
    }
  }
  return parts.join(',');
}
