/**
 * The one command-line parser of the tools (bots, bench/, experiments/, and the entry scripts
 * their harnesses start). A tool declares its flags once, with their types and bounds; the parser
 * checks every value and says plainly what is wrong with which flag.
 *
 *   const spec = { count: flag.int(1, 2000), transport: flag.choice(['ws', 'wt']), quick: flag.boolean() };
 *   const { values, given, help } = parseFlags(argv, spec);
 *
 * Syntax: `--name value` or `--name=value`; boolean flags take no value; `--help` / `-h` set
 * `help` (the tool prints its usage). Anything else (an unknown flag, a stray word, a missing or
 * bad value) throws a `UsageError` whose message names the flag. Bounds keep a typo from starting
 * something the machine cannot hold.
 */

/** Bad command line; the message is meant for the user, without a stack. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** How one flag's value is read. `parse` gets the raw text and the flag (for messages). */
export interface FlagSpec<T> {
  /** Boolean flags take no value: their presence means true. */
  readonly takesValue: boolean;
  parse(raw: string, flag: string): T;
}

function quoted(raw: string): string {
  return JSON.stringify(raw);
}

function numberIn(raw: string, flag: string, min: number, max: number, integer: boolean): number {
  const n = Number(raw);
  const ok = raw.trim() !== '' && Number.isFinite(n) && (!integer || Number.isInteger(n)) && n >= min && n <= max;
  if (!ok) throw new UsageError(`${flag} needs ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${quoted(raw)}`);
  return n;
}

function listOf<T>(raw: string, flag: string, item: (s: string) => T, what: string): T[] {
  const parts = raw.split(',').map((s) => s.trim());
  if (raw.trim() === '' || parts.some((s) => s === '')) throw new UsageError(`${flag} needs a comma-separated list of ${what}, got ${quoted(raw)}`);
  return parts.map(item);
}

/** Flag kinds. Each validates fully; a tool's own rules across flags come after parsing. */
export const flag = {
  boolean: (): FlagSpec<boolean> => ({ takesValue: false, parse: () => true }),
  string: (): FlagSpec<string> => ({
    takesValue: true,
    parse: (raw, f) => {
      if (raw === '') throw new UsageError(`${f} needs a value`);
      return raw;
    },
  }),
  int: (min: number, max: number): FlagSpec<number> => ({ takesValue: true, parse: (raw, f) => numberIn(raw, f, min, max, true) }),
  number: (min: number, max: number): FlagSpec<number> => ({ takesValue: true, parse: (raw, f) => numberIn(raw, f, min, max, false) }),
  /** Comma-separated integers, each in [min, max]. */
  ints: (min: number, max: number): FlagSpec<number[]> => ({
    takesValue: true,
    parse: (raw, f) => listOf(raw, f, (s) => numberIn(s, f, min, max, true), `integers in [${min}, ${max}]`),
  }),
  /** Comma-separated numbers, each in [min, max]. */
  numbers: (min: number, max: number): FlagSpec<number[]> => ({
    takesValue: true,
    parse: (raw, f) => listOf(raw, f, (s) => numberIn(s, f, min, max, false), `numbers in [${min}, ${max}]`),
  }),
  /** One of `names`; `aliases` maps other spellings (compared case-insensitively) onto them. */
  choice: <T extends string>(names: readonly T[], aliases: Readonly<Record<string, T>> = {}): FlagSpec<T> => ({
    takesValue: true,
    parse: (raw, f) => pick(raw, f, names, aliases),
  }),
  /** Comma-separated choices (duplicates removed, first-seen order). */
  choices: <T extends string>(names: readonly T[], aliases: Readonly<Record<string, T>> = {}): FlagSpec<T[]> => ({
    takesValue: true,
    parse: (raw, f) => [...new Set(listOf(raw, f, (s) => pick(s, f, names, aliases), names.join(', ')))],
  }),
  /** An http(s) URL, returned as its origin. */
  origin: (): FlagSpec<string> => ({
    takesValue: true,
    parse: (raw, f) => {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw new UsageError(`${f} needs an http(s) origin, got ${quoted(raw)}`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`${f} needs an http(s) origin, got ${quoted(raw)}`);
      return u.origin;
    },
  }),
};

function pick<T extends string>(raw: string, f: string, names: readonly T[], aliases: Readonly<Record<string, T>>): T {
  const key = raw.trim();
  const found = names.find((n) => n === key) ?? aliases[key.toLowerCase()] ?? names.find((n) => n.toLowerCase() === key.toLowerCase());
  if (found === undefined) {
    const all = [...names, ...Object.keys(aliases)];
    throw new UsageError(`${f} needs one of ${all.join(', ')}, got ${quoted(raw)}`);
  }
  return found;
}

export type FlagSpecs = Record<string, FlagSpec<unknown>>;
export type FlagValues<S extends FlagSpecs> = { [K in keyof S]?: S[K] extends FlagSpec<infer T> ? T : never };

export interface ParsedFlags<S extends FlagSpecs> {
  /** The flags given, parsed; absent ones are undefined (each tool applies its defaults). */
  values: FlagValues<S>;
  /** Names of the flags given (for "explicit flags win over --quick"). */
  given: Set<keyof S & string>;
  /** `--help` or `-h` was given. */
  help: boolean;
}

/** Parses argv (without node and script) against `spec`; throws UsageError on anything invalid. */
export function parseFlags<S extends FlagSpecs>(argv: readonly string[], spec: S): ParsedFlags<S> {
  const values: Record<string, unknown> = {};
  const given = new Set<keyof S & string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${quoted(arg)}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq > 0 ? eq : undefined);
    const s = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!s) throw new UsageError(`unknown flag ${quoted(eq > 0 ? arg.slice(0, eq) : arg)}`);
    const f = `--${name}`;
    let raw: string;
    if (!s.takesValue) {
      if (eq > 0) throw new UsageError(`${f} takes no value`);
      raw = '';
    } else if (eq > 0) {
      raw = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`${f} needs a value`);
      raw = next;
      i++;
    }
    values[name] = s.parse(raw, f);
    given.add(name as keyof S & string);
  }
  return { values: values as FlagValues<S>, given, help };
}

/**
 * A CLI's command line, or the end of the process: on a UsageError prints the message and
 * `usage` to stderr and exits 2; on `--help` prints `usage` to stderr and exits 0. Every CLI of
 * the tools answers a bad command line the same way.
 */
export function cliArgs<T extends { help: boolean }>(parse: () => T, usage: string): T {
  let parsed: T;
  try {
    parsed = parse();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${usage}\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stderr.write(`${usage}\n`);
    process.exit(0);
  }
  return parsed;
}
