/**
 * One attack process of the soak, run by the harness (in the clients' namespace in netns mode):
 *
 *   attack-entry.ts --kinds quic-initials,garbage --url U --wt-url W --cert-sha256 B64
 *                   --rooms arena,churn1 --sources a,b,c --seconds S --seed N
 *
 * Runs the named attacks (attacks/) in parallel, each from its own slice of `--sources`, each
 * bounded by its own rate and count and by `--seconds`; prints {"event":"attack",...}
 * (AttackReport) per attack and exits. It also stops when the harness goes away.
 */
import { seededRandom } from '../../shared/random.js';
import { flag, parseFlags } from '../../tools/lib/args.js';
import { emit, endWithHarness, fail } from '../../tools/lib/child-entry.js';
import { epochNow } from '../../tools/lib/clock.js';
import type { AttackContext } from './attacks/attack.js';
import { attackOf } from './attacks/index.js';
import type { AttackReport } from './samples.js';

/** Notes kept per attack. */
const NOTE_LIMIT = 10;
/** After `--seconds`, what an attack still has open gets this long to close. */
const WIND_DOWN_MS = 25_000;

const { values: args } = parseFlags(process.argv.slice(2), {
  kinds: flag.string(),
  url: flag.origin(),
  'wt-url': flag.string(),
  'cert-sha256': flag.string(),
  rooms: flag.string(),
  sources: flag.string(),
  seconds: flag.number(0.5, 3_600),
  seed: flag.int(0, 2 ** 32 - 1),
});

async function main(): Promise<void> {
  const kinds = (args.kinds ?? '').split(',').filter(Boolean);
  const sources = (args.sources ?? '').split(',').filter(Boolean);
  if (!args.url || !args['wt-url'] || !args['cert-sha256'] || kinds.length === 0 || sources.length < kinds.length) {
    fail('usage: attack-entry --kinds a,b --url U --wt-url W --cert-sha256 B64 --sources s1,s2 (one source per kind at least) --seconds S', 2);
    return;
  }
  endWithHarness();
  const wt = new URL(args['wt-url']);
  const until = Date.now() + (args.seconds ?? 10) * 1000;
  const per = Math.floor(sources.length / kinds.length);
  const random = seededRandom(args.seed ?? 1);
  // Hard stop: an attack that does not wind down in time is cut (its report says so).
  const hardStop = setTimeout(() => fail(`attacks ${kinds.join(',')} still running ${WIND_DOWN_MS} ms after their time`), until - Date.now() + WIND_DOWN_MS);
  hardStop.unref();
  await Promise.all(kinds.map(async (kind, k) => {
    const attack = attackOf(kind);
    const report: AttackReport = { kind, startedAt: epochNow(), endedAt: 0, sources: sources.slice(k * per, (k + 1) * per), counts: {}, notes: [] };
    const ctx: AttackContext = {
      httpUrl: args.url!,
      origin: new URL(args.url!).origin,
      wtUrl: args['wt-url']!,
      wtHost: wt.hostname.replace(/^\[|\]$/g, ''),
      wtPort: Number(wt.port),
      certSha256: new Uint8Array(Buffer.from(args['cert-sha256']!, 'base64')),
      rooms: (args.rooms ?? 'arena').split(','),
      sources: report.sources,
      until,
      random,
      count: (name, n = 1) => { report.counts[name] = (report.counts[name] ?? 0) + n; },
      note: (line) => { if (report.notes.length < NOTE_LIMIT) report.notes.push(line); },
    };
    try {
      await attack.run(ctx);
    } catch (err) {
      ctx.note(`failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    report.endedAt = epochNow();
    emit('attack', { ...report });
  }));
  clearTimeout(hardStop);
  // Let the last close frames and CONNECTION_CLOSEs leave.
  setTimeout(() => process.exit(0), 200);
}

main().catch((err: unknown) => fail(err instanceof Error ? err.stack ?? err.message : String(err)));
