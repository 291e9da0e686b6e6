// Snapshot size at the standard scene (../shared/DESIGN.md): P players in a 1000 x 1000 world,
// each moving at 100 units/s, snapshots at 20 Hz. Two heading patterns: a new random direction
// every snapshot (turnPerSnapshot 1, the worst case for angles), and the bot fleet's default
// (tools/bots: a new heading every 0.5-2.5 s, so about 1 snapshot in 30). Prints JSON lines: full-snapshot and delta sizes, bytes per entity, and, when the
// datagram budget binds, entities per snapshot and the refresh gap.
//   npx tsx bench/snapshot-size.ts [--budget 1199] [--snapshots 200]
// Sizes are deterministic (seeded), so they measure the codec, not the machine. The encode and
// decode microseconds are medians of wall-clock batches on a shared machine: indicative only.
import {
  PriorityAccumulator, SnapshotHistory, decodeSnapshot, encodeSnapshot, prepareEntities, refreshBound, STANDARD_FORMAT,
  type DecodedSnapshot, type EntityState,
} from '../shared/snapshot/index.js';
import { seededRandom } from '../shared/random.js';
import { STANDARD_WORLD, wrapCoord } from '../shared/scene.js';
import { flag, parseFlags } from '../tools/lib/args.js';
import { writeJsonLine } from '../tools/lib/json-lines.js';
import { mean, percentile } from '../tools/lib/stats.js';

const { values: args } = parseFlags(process.argv.slice(2), { budget: flag.int(64, 65_535), snapshots: flag.int(11, 2000) }); // the first 10 are skipped
const BUDGET = args.budget ?? 1199; // Chromium's reported maxDatagramSize
const SNAPSHOTS = args.snapshots ?? 200;

/** The standard scene: every snapshot interval each player walks 5 units, turning with chance `turn`. */
function scene(players: number, seed: number, turn: number) {
  const r = seededRandom(seed);
  const ents: EntityState[] = Array.from({ length: players }, (_, id) => ({ id, x: r() * 1000, y: r() * 1000, angle: r() * 2 * Math.PI - Math.PI }));
  return {
    ents,
    advance() {
      for (const e of ents) {
        if (r() < turn) e.angle = r() * 2 * Math.PI - Math.PI;
        e.x = wrapCoord(e.x + Math.cos(e.angle) * 5, STANDARD_WORLD.width);
        e.y = wrapCoord(e.y + Math.sin(e.angle) * 5, STANDARD_WORLD.height);
      }
    },
  };
}

for (const turn of [1, 1 / 30]) for (const players of [16, 64, 256, 512]) {
  // Full snapshot with no budget pressure (what a new client gets first), where it fits.
  const sc = scene(players, players, turn);
  const full = encodeSnapshot({ snapshotId: 1, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: sc.ents }, BUDGET);
  if (!full.ok) throw new Error(full.detail);
  writeJsonLine({
    bench: 'snapshot-size', kind: 'full', players, turnPerSnapshot: +turn.toFixed(3), budget: BUDGET, bytes: full.bytes.length,
    entitiesSent: full.sent.length, bytesPerEntity: +(full.bytes.length / full.sent.length).toFixed(3),
  });

  // Steady state: the client acks with a lag of `lag` snapshots (1 = the previous snapshot).
  for (const lag of [1, 2, 3]) {
    const s = scene(players, players, turn);
    const history = new SnapshotHistory();
    const clientHistory = new SnapshotHistory<DecodedSnapshot>();
    const acc = new PriorityAccumulator();
    const sizes: number[] = [];
    const sentCounts: number[] = [];
    const encodeUs: number[] = [];
    const decodeUs: number[] = [];
    const lastSent = new Map<number, number>();
    let maxGap = 0;
    let complete = 0;
    for (let id = 1; id <= SNAPSHOTS; id++) {
      s.advance();
      const baseline = id > lag ? history.get(id - lag) ?? null : null;
      const prepared = prepareEntities(s.ents);
      const t0 = performance.now();
      const res = encodeSnapshot({ snapshotId: id, serverTick: id * 3, serverTime: id * 50, lastInputSeq: id, entities: prepared, baseline, viewerId: 0, priority: acc }, BUDGET);
      const t1 = performance.now();
      if (!res.ok) throw new Error(res.detail);
      history.put(res.view);
      const dec = decodeSnapshot(res.bytes, (b) => clientHistory.get(b));
      const t2 = performance.now();
      if (!dec.ok) throw new Error(dec.detail);
      clientHistory.put(dec.snapshot);
      if (id <= 10) continue; // past the first full snapshots
      encodeUs.push((t1 - t0) * 1000);
      decodeUs.push((t2 - t1) * 1000);
      sizes.push(res.bytes.length);
      sentCounts.push(res.sent.length);
      if (res.complete) complete++;
      for (const e of res.sent) {
        if (lastSent.has(e)) maxGap = Math.max(maxGap, id - lastSent.get(e)!);
        lastSent.set(e, id);
      }
    }
    const meanBytes = mean(sizes)!;
    const meanSent = mean(sentCounts)!;
    writeJsonLine({
      bench: 'snapshot-size', kind: 'delta', players, turnPerSnapshot: +turn.toFixed(3), budget: BUDGET, ackLag: lag,
      bytesMean: +meanBytes.toFixed(1), bytesP99: percentile(sizes, 99), entitiesSentMean: +meanSent.toFixed(1),
      bytesPerSentEntity: +(meanBytes / meanSent).toFixed(3),
      completeShare: +(complete / sizes.length).toFixed(3),
      refreshGapMax: maxGap, refreshBound: refreshBound(STANDARD_FORMAT, BUDGET, players - 1),
      appBytesPerSecAt20Hz: Math.round(meanBytes * 20),
      encodeMicrosP50: +percentile(encodeUs, 50)!.toFixed(1), decodeMicrosP50: +percentile(decodeUs, 50)!.toFixed(1),
    });
  }
}
