/**
 * Planning, the encoder's second step (docs/protocol.md, "Layout" and "Budget and priority"):
 * against one baseline, what each entity would be on the wire (entered, unchanged or a delta),
 * what sending it costs in bits, the short delta width of this snapshot, and the bits every
 * snapshot of this baseline pays whatever it sends. A selection strategy then marks which
 * entities go (`Plan.selected`: select-by-priority.ts, select-by-cell.ts), and the writer
 * writes them (write.ts).
 */
import { U32_MAX } from '../limits.js';
import { expGolombBits } from './bits.js';
import {
  ANGLE_BITS, ENTITY_ID_BITS, SHORT_DELTA_MAX_BITS, SHORT_DELTA_MIN_BITS, SHORT_DELTA_WIDTH_FIELD_BITS,
  positionDeltaBits, signedBitsNeeded, type SnapshotFormat,
} from './format.js';
import type { PreparedEntities } from './prepare.js';
import type { SnapshotView } from './view.js';

// Module-local copies: hot loops below read these per entity, and imported bindings may be
// property getters once transpiled.
const A_BITS = ANGLE_BITS;
const ID_BITS = ENTITY_ID_BITS;
const W_MIN = SHORT_DELTA_MIN_BITS;
const W_MAX = SHORT_DELTA_MAX_BITS;
const W_FIELD = SHORT_DELTA_WIDTH_FIELD_BITS;
const needBits = signedBitsNeeded;
const posBits = positionDeltaBits;

/** Entity kinds against the baseline (`Plan.kind`). */
export const KIND_ENTER = 0;
export const KIND_UNCHANGED = 1;
export const KIND_DELTA = 2;

/** Bits of an entered entity's id given the previous entered id (docs/protocol.md, "Layout"). */
export const idBits = (id: number, prev: number): number => (id === prev + 1 ? 1 : 1 + ID_BITS);

/**
 * One snapshot's plan. Per-entity arrays are indexed like the prepared list and only their first
 * `n` entries are meaningful; they are working arrays shared by every call (see `work`), valid
 * until the next planSnapshot.
 */
export interface Plan {
  /** Baseline coded against, or null: a full snapshot. */
  base: SnapshotView | null;
  /** The baselineDelta field: snapshotId - base.id modulo 2^32, 0 without a baseline. */
  delta: number;
  /** Short delta width of this snapshot (written only with a baseline). */
  width: number;
  format: SnapshotFormat;
  /** Prepared entities. */
  n: number;
  /**
   * Bits paid whatever is sent: header, one code per baseline entity (2 bits each, as if
   * omitted; 3 for one that left) and the enter count.
   */
  fixed: number;
  /** `fixed` plus every entity's `extra`: the whole snapshot when everything goes. */
  total: number;
  /** Bits of an entity's absolute state (x, y, angle). */
  stateBits: number;
  /** Per entity: index in the baseline, or -1 (entering). */
  baseIndex: Int32Array;
  /** Per entity: KIND_ENTER, KIND_UNCHANGED or KIND_DELTA. */
  kind: Uint8Array;
  /**
   * Per entity: bits it adds when sent, beyond the 2-bit omitted code already in `fixed`. For an
   * entering one, with the previous entering candidate as its id predecessor (exact when every
   * candidate enters).
   */
  extra: Float64Array;
  /** Per entity: 1 when sent. Cleared by planSnapshot; set by a selection strategy. */
  selected: Uint8Array;
}

/**
 * Working arrays of the encoder, reused from call to call (encodeSnapshot is synchronous and
 * never re-entered). A server encodes hundreds of snapshots per tick, and in V8 every typed
 * array over 64 bytes gets a backing store of its own outside the heap: allocating them per call
 * cost more than the loops that fill them. Grown to the largest entity count seen.
 */
const work = {
  baseIndex: new Int32Array(0),
  kind: new Uint8Array(0),
  /** Per delta entity: the signed width its position delta needs. */
  need: new Uint8Array(0),
  extra: new Float64Array(0),
  selected: new Uint8Array(0),
  /** Delta entities by the width they need (index = width, at most 17 for a 16-bit axis). */
  needCount: new Float64Array(18),
};

/** Grows the per-entity working arrays (all of one length) to hold at least `n`. */
function reserve(n: number): void {
  if (n <= work.baseIndex.length) return;
  const cap = Math.max(n, work.baseIndex.length * 2, 64);
  work.baseIndex = new Int32Array(cap);
  work.kind = new Uint8Array(cap);
  work.need = new Uint8Array(cap);
  work.extra = new Float64Array(cap);
  work.selected = new Uint8Array(cap);
}

/** The one plan object, refilled by every call. */
const plan: Plan = {
  base: null, delta: 0, width: W_MIN, format: null as unknown as SnapshotFormat, n: 0, fixed: 0, total: 0, stateBits: 0,
  baseIndex: work.baseIndex, kind: work.kind, extra: work.extra, selected: work.selected,
};

/**
 * `baseline` when it can back snapshot `snapshotId`: an earlier snapshot, at most 2^31 - 1 ids
 * back (modulo 2^32), never this one; else null (a full snapshot).
 */
export function usableBaseline(baseline: SnapshotView | null | undefined, snapshotId: number): SnapshotView | null {
  if (!baseline) return null;
  const back = (snapshotId - baseline.id + 2 ** 32) % 2 ** 32;
  if (!(Number.isInteger(baseline.id) && baseline.id >= 1 && baseline.id <= U32_MAX) || back === 0 || back >= 2 ** 31) return null;
  return baseline;
}

/**
 * Plans snapshot `snapshotId` of `prep` against `base` (null: full). Returns null when not even
 * the fixed part fits `budgetBits` (the caller falls back to a full snapshot, or gives up).
 * Nothing is selected yet.
 */
export function planSnapshot(prep: PreparedEntities, base: SnapshotView | null, snapshotId: number, budgetBits: number): Plan | null {
  const { list, qx: cx, qy: cy, qa: ca, format: fmt } = prep;
  const n = list.length;
  reserve(n);
  const b = base;
  const delta = b ? (snapshotId - b.id + 2 ** 32) % 2 ** 32 : 0;
  const m = b ? b.count : 0;
  const baseIndex = work.baseIndex;
  const kind = work.kind;
  const need = work.need;
  const needCount = work.needCount;
  needCount.fill(0);
  const stateBits = fmt.xBits + fmt.yBits + A_BITS;
  let fixed = 8 + 32 + 32 + expGolombBits(delta) + 32 + 32 + (b ? W_FIELD : 0) + 2 * m;
  let enterCandidates = 0;
  let i = 0;
  for (let j = 0; j < n; j++) {
    const id = list[j].id;
    while (b && i < m && b.ids[i] < id) { fixed += 1; i++; } // left: 111 instead of 10
    need[j] = 0;
    if (b && i < m && b.ids[i] === id) {
      baseIndex[j] = i;
      if (b.qx[i] === cx[j] && b.qy[i] === cy[j] && b.qa[i] === ca[j]) {
        kind[j] = KIND_UNCHANGED;
      } else {
        kind[j] = KIND_DELTA;
        const nx = needBits(cx[j] - b.qx[i]);
        const ny = needBits(cy[j] - b.qy[i]);
        need[j] = nx > ny ? nx : ny;
        needCount[need[j]]++;
      }
      i++;
    } else {
      baseIndex[j] = -1;
      kind[j] = KIND_ENTER;
      enterCandidates++;
    }
  }
  if (b) fixed += m - i; // trailing baseline entities all left
  fixed += expGolombBits(enterCandidates); // the count actually written is never larger
  if (fixed > budgetBits) return null;

  // The short delta width that makes the position deltas of this snapshot smallest.
  let width = W_MIN;
  let bestCost = Number.POSITIVE_INFINITY;
  for (let w = W_MIN; w <= W_MAX; w++) {
    let cost = 0;
    for (let k = 1; k < needCount.length; k++) if (needCount[k]) cost += needCount[k] * posBits(fmt, w, k);
    if (cost < bestCost) { bestCost = cost; width = w; }
  }

  const extra = work.extra;
  let total = fixed;
  let prevEnter = -1;
  for (let j = 0; j < n; j++) {
    if (kind[j] === KIND_UNCHANGED) {
      extra[j] = 1; // 110
    } else if (kind[j] === KIND_DELTA) {
      extra[j] = 1 + posBits(fmt, width, need[j]) + (ca[j] === b!.qa[baseIndex[j]] ? 1 : 1 + A_BITS) - 2; // 0 + payload
    } else {
      extra[j] = idBits(list[j].id, prevEnter) + stateBits;
      prevEnter = list[j].id;
    }
    total += extra[j];
  }
  work.selected.fill(0, 0, n);

  plan.base = b;
  plan.delta = delta;
  plan.width = width;
  plan.format = fmt;
  plan.n = n;
  plan.fixed = fixed;
  plan.total = total;
  plan.stateBits = stateBits;
  plan.baseIndex = baseIndex;
  plan.kind = kind;
  plan.extra = extra;
  plan.selected = work.selected;
  return plan;
}

/** Marks every entity sent (the snapshot fits whole). */
export function selectAll(p: Plan): void {
  p.selected.fill(1, 0, p.n);
}
