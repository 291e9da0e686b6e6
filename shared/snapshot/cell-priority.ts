/**
 * Shareable sending order (docs/protocol.md, "Budget and priority" and "Sharing"): when a
 * snapshot cannot carry every entity, which entities go depends only on the viewer's cell and a
 * round-robin cursor the server keeps per cell, never on what one client holds.
 *
 * Order: the viewer (when named), then every entity inside the cell, then all others in id order
 * starting after the cursor and wrapping around. The encoder sends the first K of them, K being
 * what always fits the budget whatever the baseline (entitiesPerSnapshot), and the next snapshot
 * of that cell continues after the last id sent. So every entity outside the cell is refreshed
 * at least once every ceil(outside / (K - inside)) snapshots of that cell, and every entity
 * inside it in every snapshot.
 *
 * Why not "oldest in this client's baseline first" (a per-client priority): it makes what a
 * client holds depend on its own history, so two clients of one cell never hold the same view
 * again once they differ (one joined later, one came from another cell), and the server can
 * share an encoding only between clients holding the same view. With a per-cell schedule, any
 * two clients that spend one rotation in the same cell and ack the same snapshots end up holding
 * identical views, and from then on get one shared encoding (shared/snapshot/tick-encoder.ts).
 * Clients that ack late or lose snapshots get catch-up entities first (see scheduleOrder), so
 * their views are served too; those encodings are their own until they are back in step.
 */
import type { EntityState, SnapshotView } from './view.js';

/** A rectangle of the world, [x0, x1) x [y0, y1), whose entities all go first. */
export interface ViewerCell {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/** Sending order, and where in it the round-robin part starts. */
export interface Schedule {
  readonly order: number[];
  readonly roundRobinFrom: number;
}

/**
 * What the client holds, for the catch-up rule: `baseIndex[j]` is entity j's index in `base` or
 * -1 (entering), `sinceBase` the snapshot ids from the baseline to this snapshot.
 */
export interface HeldAges {
  readonly base: SnapshotView | null;
  readonly baseIndex: Int32Array;
  readonly sinceBase: number;
}

/**
 * Working arrays reused between calls (scheduleOrder is synchronous; one encoding per call, many
 * per tick): see shared/snapshot/plan.ts `work` for why.
 */
const scratch = { inCell: new Uint8Array(64), ageOf: new Float64Array(64) };

/**
 * Indices into `list` (sorted by id) in sending order: `viewerId` first when given and present,
 * then the entities inside `cell` in id order, then catch-up: entities whose held state is older
 * than the cell's rotation allows (see below), oldest first, then the rest in id order starting
 * at the first id greater than `after` (wrapping). `k`, about how many the snapshot takes, sets
 * the rotation length R below.
 *
 * Catch-up: a client that acks every snapshot in time holds every entity at most one rotation,
 * R = ceil(outside / (k - inside)) snapshots, old, so for it nothing is ever caught up and the
 * order stays a function of the cell and the cursor. A client that acks late or lost a snapshot
 * builds on an older view, in which entities sent meanwhile are older still; with a pure
 * rotation, a client acking every other snapshot would never get an entity whose turns all fall
 * on the snapshots it skips. Entities held R + 2 or more snapshots old go first, so every chain
 * of views is served.
 */
export function scheduleOrder(
  list: readonly EntityState[], cell: ViewerCell, after: number, k: number, held: HeldAges | null, viewerId?: number,
): Schedule {
  const n = list.length;
  const out: number[] = [];
  if (n > scratch.inCell.length) {
    const cap = Math.max(n, scratch.inCell.length * 2);
    scratch.inCell = new Uint8Array(cap);
    scratch.ageOf = new Float64Array(cap);
  }
  const inCell = scratch.inCell;
  inCell.fill(0, 0, n);
  let viewer = -1;
  for (let j = 0; j < n; j++) {
    const e = list[j];
    if (e.id === viewerId) {
      viewer = j;
      inCell[j] = 1;
    } else if (e.x >= cell.x0 && e.x < cell.x1 && e.y >= cell.y0 && e.y < cell.y1) {
      inCell[j] = 1;
    }
  }
  if (viewer >= 0) out.push(viewer);
  for (let j = 0; j < n; j++) if (inCell[j] && j !== viewer) out.push(j);
  const inside = out.length;
  const rotation = Math.ceil((n - inside) / Math.max(1, k - inside));
  const forceAge = rotation + 2;
  // Catch-up entities, oldest first (ties by id).
  const caught: number[] = [];
  const ageOf = scratch.ageOf; // read only where set below
  if (held) {
    const heldAge = held.base?.heldAge;
    for (let j = 0; j < n; j++) {
      if (inCell[j]) continue;
      const i = held.baseIndex[j];
      // Not in the baseline: the client has never held it (it entered or was never sent).
      const age = i < 0 ? Number.POSITIVE_INFINITY : held.sinceBase + (heldAge ? heldAge[i] : 0);
      if (age >= forceAge) {
        ageOf[j] = age;
        caught.push(j);
      }
    }
    caught.sort((a, b) => ageOf[b] - ageOf[a] || a - b);
    for (const j of caught) inCell[j] = 1; // out of the rotation below
  }
  for (const j of caught) out.push(j);
  const roundRobinFrom = out.length;
  // First index past the cursor (binary search: ids increase with the index).
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid].id > after) hi = mid;
    else lo = mid + 1;
  }
  for (let t = 0; t < n; t++) {
    const j = lo + t < n ? lo + t : lo + t - n;
    if (!inCell[j]) out.push(j);
  }
  return { order: out, roundRobinFrom };
}
