// Server snapshot CPU at the standard scene, in process (no network): P players in a 1000 x 1000
// world each walk 5 units per snapshot (100 units/s at 20 Hz) in a NEW random direction every
// snapshot (every client sends a new random input 20 times a second), and every client gets
// every snapshot through the server's real path (server/session/snapshot-sender.ts, one frame per
// snapshot tick, shared through the frame's encode cache). Clients ack with a realistic lag: 80 %
// ack the previous snapshot, 15 % two behind, 5 % three behind; 3 % of snapshots are lost. Each
// client decodes what it receives (shared/snapshot decode), which checks every datagram decodes
// alone given its baseline and measures entity staleness: for every entity at every received
// snapshot, how many snapshots old its state is in the client's view.
//   npx tsx bench/snapshot-encode-scene.ts [--players 64,256,512] [--snapshots 100] [--budget 1199] [--loss 0.03]
// Prints one JSON line per P: microseconds of snapshot CPU per client-snapshot (wall clock of the
// build calls on a shared machine: indicative), distinct encodings per tick, bytes per snapshot
// p50/max, staleness p99/max in snapshots. Everything but the microseconds is deterministic.
import { SnapshotSender } from '../server/session/snapshot-sender.js';
import type { WorldFrame } from '../server/rooms/types.js';
import { SnapshotHistory, decodeSnapshot, type DecodedSnapshot } from '../shared/snapshot/index.js';
import { STANDARD_WORLD, wrapCoord } from '../shared/scene.js';
import { seededRandom } from '../shared/random.js';
import { flag, parseFlags } from '../tools/lib/args.js';
import { writeJsonLine } from '../tools/lib/json-lines.js';
import { percentile } from '../tools/lib/stats.js';

const { values: args } = parseFlags(process.argv.slice(2), {
  players: flag.ints(1, 4096),
  snapshots: flag.int(1, 1000),
  budget: flag.int(64, 65_535),
  loss: flag.number(0, 1),
});
const PLAYERS = args.players ?? [64, 256, 512];
const SNAPSHOTS = args.snapshots ?? 100;
const BUDGET = args.budget ?? 1199;
const WARMUP = 10;
const LOSS = args.loss ?? 0.03;

/** Nearest-rank percentile of the run's samples, 0 when there are none. */
const pct = (xs: ArrayLike<number>, p: number): number => percentile(xs, p) ?? 0;

interface Client {
  entityId: number;
  sender: SnapshotSender;
  lag: number;
  /** Snapshot ids received, whose acks reach the server `lag` snapshots later. */
  pendingAcks: { id: number; at: number }[];
  history: SnapshotHistory<DecodedSnapshot>;
  /** Per received snapshot id: the snapshot id at which each entity's state was refreshed. */
  refreshed: Map<number, Int32Array>;
}

function run(players: number): void {
  const r = seededRandom(players * 7919);
  const world = { ...STANDARD_WORLD };
  const ents = Array.from({ length: players }, (_, i) => ({ id: i + 1, x: r() * 1000, y: r() * 1000, angle: 0 }));
  const clients: Client[] = ents.map((e) => {
    const u = r();
    return {
      entityId: e.id, sender: new SnapshotSender(() => BUDGET), lag: u < 0.8 ? 1 : u < 0.95 ? 2 : 3,
      pendingAcks: [], history: new SnapshotHistory<DecodedSnapshot>(), refreshed: new Map(),
    };
  });
  const cpuUs: number[] = [];
  const distinct: number[] = [];
  const sizes: number[] = [];
  const staleness: number[] = [];
  let decodeFailures = 0;
  let overBudget = 0;
  let ownMissing = 0;
  const encodeState = new Map<string, unknown>();
  for (let id = 1; id <= SNAPSHOTS; id++) {
    for (const e of ents) {
      e.angle = r() * 2 * Math.PI - Math.PI;
      e.x = wrapCoord(e.x + Math.cos(e.angle) * 5, STANDARD_WORLD.width);
      e.y = wrapCoord(e.y + Math.sin(e.angle) * 5, STANDARD_WORLD.height);
    }
    // Acks that arrived before this snapshot tick.
    for (const c of clients) {
      while (c.pendingAcks.length && c.pendingAcks[0].at <= id) c.sender.ack(c.pendingAcks.shift()!.id);
    }
    const frame: WorldFrame = {
      roomId: 'bench', snapshotId: id, tick: id * 3, time: id * 50, world,
      entities: ents.map((e) => ({ ...e })), encodeCache: new Map(), encodeState,
    };
    const before = clients.reduce((a, c) => a + c.sender.stats.encoded, 0);
    const out: (Uint8Array | null)[] = new Array(players);
    const t0 = performance.now();
    for (let k = 0; k < players; k++) out[k] = clients[k].sender.build(frame, clients[k].entityId, id);
    const t1 = performance.now();
    const encodings = clients.reduce((a, c) => a + c.sender.stats.encoded, 0) - before;
    if (id > WARMUP) {
      cpuUs.push(((t1 - t0) * 1000) / players);
      distinct.push(encodings);
    }
    for (let k = 0; k < players; k++) {
      const c = clients[k];
      const bytes = out[k];
      if (!bytes) { decodeFailures++; continue; }
      if (bytes.length > BUDGET) overBudget++;
      if (id > WARMUP) sizes.push(bytes.length);
      if (r() < LOSS) continue;
      const dec = decodeSnapshot(bytes, (b) => c.history.get(b));
      if (!dec.ok) { decodeFailures++; continue; }
      const s = dec.snapshot;
      c.history.put(s);
      const base = s.baselineId ? c.refreshed.get(s.baselineId) : undefined;
      const ref = new Int32Array(players + 1);
      const omitted = new Set(s.omitted);
      for (const e of s.entities) ref[e.id] = omitted.has(e.id) && base ? base[e.id] : id;
      if (omitted.has(c.entityId) || !s.entities.some((e) => e.id === c.entityId)) ownMissing++;
      c.refreshed.set(id, ref);
      c.refreshed.delete(id - 40);
      if (id > WARMUP + 5) for (const e of s.entities) staleness.push(id - ref[e.id]);
      c.pendingAcks.push({ id, at: id + c.lag });
    }
  }
  writeJsonLine({
    bench: 'snapshot-encode-scene', players, budget: BUDGET, snapshots: SNAPSHOTS,
    usPerClientSnapshot: +pct(cpuUs, 50).toFixed(1),
    cpuSecondsPerSecondAt20Hz: +((pct(cpuUs, 50) * players * 20) / 1e6).toFixed(3),
    distinctEncodingsPerTickP50: pct(distinct, 50), distinctEncodingsPerTickMax: pct(distinct, 100),
    bytesP50: pct(sizes, 50), bytesMax: pct(sizes, 100),
    stalenessP99: pct(staleness, 99), stalenessMax: pct(staleness, 100),
    decodeFailures, overBudget, ownMissing,
  });
}

for (const p of PLAYERS) run(p);
