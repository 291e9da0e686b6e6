/**
 * Shareable sending order (docs/protocol.md, "Budget and priority" and "Sharing"): when a
 * snapshot cannot carry every entity, the order depends only on the baseline view, the snapshot
 * id and a coarse viewer cell, never on one client's history. So every client with the same
 * baseline view and the same cell gets the very same bytes, and the server encodes once per
 * (baseline view, cell) instead of once per client.
 *
 * "Not sent recently" is read from the baseline view itself: `SnapshotView.heldAge` holds, per
 * entity, how old the state the client holds was at that view (in snapshot ids). That is the
 * age of what the client actually has (acked), so a lost or unacked send never counts as a
 * refresh, whatever the ack lag.
 *
 * Order: every entity inside the cell first (the viewer is in its cell, so its own entity always
 * goes), then entities aged FORCE_AFTER snapshots or more (oldest first), then by age times a
 * nearness weight (NEAR_WEIGHT at the cell centre falling to 1 at NEAR_RADIUS from it). Ties go
 * in id order rotated by the snapshot id, so entities never acked (a client that loses every
 * snapshot gets full snapshots) are still covered in turn.
 */
import { FORCE_AFTER, NEAR_RADIUS, NEAR_WEIGHT } from './priority.js';
import type { EntityState, SnapshotView } from './view.js';

/** A rectangle of the world, [x0, x1) x [y0, y1), whose entities all go first. */
export interface ViewerCell {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/**
 * Counting-sort buckets (few, as the sort clears and scans all of them per encoding): a
 * non-forced entity has age < FORCE_AFTER, so age x weight < FORCE_AFTER x NEAR_WEIGHT, compared
 * at 1/PRIORITY_SCALE; forced ages beyond AGE_BUCKETS past FORCE_AFTER tie (then rotate).
 */
const PRIORITY_SCALE = 16;
const PRIORITY_BUCKETS = FORCE_AFTER * NEAR_WEIGHT * PRIORITY_SCALE + 1;
const AGE_BUCKETS = 64;
/** Bucket of entities inside the cell: above every age; the viewer (when named) above that. */
const CELL_BUCKET = PRIORITY_BUCKETS + AGE_BUCKETS;
const VIEWER_BUCKET = CELL_BUCKET + 1;


/**
 * Indices into `list` in sending order. `baseIndex[j]` is entity j's index in `base` or -1;
 * `rotate` shifts the tie order (pass snapshotId times the entities that always fit, so ties
 * cover everyone in turn). `viewerId`, when given, goes before everything (an encoding for one
 * client; a shared one leaves it out and relies on every member being inside the cell).
 */
export function cellOrder(
  list: readonly EntityState[], base: SnapshotView | null, baseIndex: Int32Array, snapshotId: number, cell: ViewerCell, rotate: number,
  viewerId?: number,
): number[] {
  const n = list.length;
  const cx = (cell.x0 + cell.x1) / 2;
  const cy = (cell.y0 + cell.y1) / 2;
  const r = NEAR_RADIUS;
  const r2 = r * r;
  const extra = NEAR_WEIGHT - 1;
  const heldAge = base?.heldAge;
  // Snapshot ids from the baseline to this snapshot, modulo 2^32.
  const sinceBase = base ? (snapshotId - base.id + 2 ** 32) % 2 ** 32 : 0;
  const bucket = new Uint16Array(n);
  let maxBucket = 0;
  for (let j = 0; j < n; j++) {
    const e = list[j];
    let b: number;
    if (e.id === viewerId) {
      b = VIEWER_BUCKET;
    } else if (e.x >= cell.x0 && e.x < cell.x1 && e.y >= cell.y0 && e.y < cell.y1) {
      b = CELL_BUCKET;
    } else {
      const i = baseIndex[j];
      // Entering entities (not in the baseline) are as urgent as the youngest forced ones.
      const age = i < 0 ? FORCE_AFTER : sinceBase + (heldAge ? heldAge[i] : 0);
      if (age >= FORCE_AFTER) {
        b = PRIORITY_BUCKETS + Math.min(age - FORCE_AFTER, AGE_BUCKETS - 1);
      } else {
        const dx = e.x - cx;
        const dy = e.y - cy;
        const d2 = dx * dx + dy * dy;
        let w = 1;
        if (d2 < r2) w += extra * (1 - Math.sqrt(d2) / r);
        if (!(w >= 1)) w = 1; // NaN positions: no bonus
        b = Math.min(Math.round(age * w * PRIORITY_SCALE), PRIORITY_BUCKETS - 1);
      }
    }
    bucket[j] = b;
    if (b > maxBucket) maxBucket = b;
  }
  // Stable counting sort, highest bucket first, ties in id order starting at `rotate`.
  const start = new Uint32Array(maxBucket + 2);
  for (let j = 0; j < n; j++) start[bucket[j]]++;
  let acc = 0;
  for (let b = maxBucket; b >= 0; b--) {
    const c = start[b];
    start[b] = acc;
    acc += c;
  }
  const out: number[] = new Array(n);
  const rot = n > 0 ? rotate % n : 0;
  for (let k = 0; k < n; k++) {
    const j = k + rot < n ? k + rot : k + rot - n;
    out[start[bucket[j]]++] = j;
  }
  return out;
}
