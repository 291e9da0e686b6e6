/**
 * The shape of one soak attack and what every attack is given. An attack is bounded three ways,
 * each by a named constant in its own module: a rate (operations per second), a count (the most
 * operations it ever makes) and a time (`until`, set by the harness); it stops by itself at the
 * first bound reached and closes everything it opened before it returns, so the soak's leak check
 * sees only what the server itself kept.
 */

/** Where the server is and what its clients need to reach it. */
export interface AttackTarget {
  /** `http://host:port` of the HTTP/WebSocket listener. */
  httpUrl: string;
  /** The server's own origin (allowed by `allowedOrigins: 'self'`). */
  origin: string;
  /** `https://host:port/wt`. */
  wtUrl: string;
  wtHost: string;
  wtPort: number;
  /** SHA-256 of the server's certificate (for serverCertificateHashes). */
  certSha256: Uint8Array;
  /** Rooms a dev ticket may name; the first is where the honest bots play. */
  rooms: string[];
}

export interface AttackContext extends AttackTarget {
  /** Local addresses this attack may send from (its own: honest clients use others). */
  sources: string[];
  /** Epoch ms at which the attack stops. */
  until: number;
  random: () => number;
  /** Adds `n` to the count `name` of this attack's report. */
  count(name: string, n?: number): void;
  /** Keeps a note of something unexpected (bounded). */
  note(line: string): void;
}

export interface Attack {
  kind: string;
  /** One line for the report. */
  what: string;
  /**
   * Refusal counters (`layer reason`) this attack is expected to move on a server that defends
   * itself; the soak reports which moved.
   */
  expects: string[];
  run(ctx: AttackContext): Promise<void>;
}

/** Sleeps `ms`, or less when `until` (epoch ms) comes first. */
export function pause(ms: number, until: number): Promise<void> {
  const left = Math.max(0, Math.min(ms, until - Date.now()));
  return new Promise((resolve) => setTimeout(resolve, left));
}

/**
 * Runs `op` about `perSecond` times a second (in ticks of `tickMs`), at most `max` times, until
 * `until`; each tick starts its share without waiting for earlier ones, at most `inFlight` at
 * once. Resolves when the last started op settled.
 */
export async function paced(o: { perSecond: number; max: number; until: number; inFlight: number; tickMs?: number }, op: (i: number) => Promise<unknown>): Promise<void> {
  const tickMs = o.tickMs ?? 100;
  const perTick = o.perSecond * tickMs / 1000;
  let owed = 0;
  let started = 0;
  let running = 0;
  const all: Promise<unknown>[] = [];
  while (started < o.max && Date.now() < o.until) {
    owed += perTick;
    while (owed >= 1 && started < o.max && running < o.inFlight) {
      owed--;
      running++;
      const p = op(started++).catch(() => undefined).finally(() => { running--; });
      all.push(p);
    }
    if (running >= o.inFlight) owed = Math.min(owed, perTick);
    await pause(tickMs, o.until);
  }
  await Promise.all(all);
}

/**
 * Keeps `perSource` holds going from each of `sources`: each slot runs `hold` again
 * `reopenDelayMs` after the last one ended, until `until`, at most `maxPerSource` holds per
 * source in all (over its slots). Resolves when every slot stopped.
 */
export async function holdPerSource(
  o: { sources: readonly string[]; perSource: number; maxPerSource: number; reopenDelayMs: number; until: number },
  hold: (source: string, slot: number) => Promise<void>,
): Promise<void> {
  await Promise.all(o.sources.map(async (source) => {
    let opens = 0;
    await Promise.all(Array.from({ length: o.perSource }, async (_, slot) => {
      while (opens < o.maxPerSource && Date.now() < o.until) {
        opens++;
        await hold(source, slot);
        await pause(o.reopenDelayMs, o.until);
      }
    }));
  }));
}

/** What `open` resolves to, or null (counting `failure` in the attack's report) when it rejects. */
export async function openOrCount<T>(ctx: Pick<AttackContext, 'count'>, failure: string, open: () => Promise<T>): Promise<T | null> {
  try {
    return await open();
  } catch {
    ctx.count(failure);
    return null;
  }
}

/** The close code `closed` resolves to within `ms`, or -1 when it has not by then. */
export async function closeCodeWithin(closed: Promise<number>, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([closed, new Promise<number>((resolve) => { timer = setTimeout(() => resolve(-1), Math.max(0, ms)); })]);
  clearTimeout(timer);
  return code;
}

/** Resolves true when `p` settles within `ms`, false otherwise (never rejects). */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p.then(() => true, () => true),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); }),
  ]);
  clearTimeout(timer);
  return r;
}
