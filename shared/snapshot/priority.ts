/**
 * Priority accumulator (docs/protocol.md, "Budget and priority"): when a snapshot cannot carry
 * every visible entity, it decides who goes now. One per client (it depends on the viewer).
 *
 * Each snapshot an unsent entity gains priority, more when near the viewer; a sent one drops to
 * 0. Entities unsent for `forceAfter` snapshots go before everyone else, oldest first, which is
 * what makes starvation bounded (refreshBound below) whatever the weights do.
 */
import { MAX_UNRELIABLE_MESSAGE_BYTES } from '../limits.js';
import { expGolombBits } from './bits.js';
import { SHORT_DELTA_WIDTH_FIELD_BITS, enterBitsMax, type SnapshotFormat } from './format.js';

/** Radius (world units) inside which entities gain priority faster; a quarter of the standard world. */
export const NEAR_RADIUS = 250;
/** Priority gained per snapshot by an entity at the viewer (1 at NEAR_RADIUS and beyond). */
export const NEAR_WEIGHT = 4;
/** Snapshots an entity may go unsent before it is forced ahead of every priority. */
export const FORCE_AFTER = 4;

export interface PriorityOptions {
  nearRadius?: number;
  nearWeight?: number;
  forceAfter?: number;
}

/** Position input for ordering: id and world position. */
export interface Positioned {
  id: number;
  x: number;
  y: number;
}

/**
 * Sending order is a counting sort over integer buckets (a comparison sort of 500 keys cost more
 * than the rest of an encode): priorities are compared at 1/PRIORITY_SCALE resolution, and
 * PRIORITY_BUCKETS bounds the non-forced buckets (priorities above the last one tie). A
 * non-forced entity has age < forceAfter, so its priority stays below forceAfter * nearWeight
 * (16 with the defaults, 256 buckets): the cap only matters for unusual options.
 */
const PRIORITY_SCALE = 16;
const PRIORITY_BUCKETS = 4096;
/** Forced entities sort by age above every non-forced bucket; ages beyond this many tie. */
const AGE_BUCKETS = 4096;

export class PriorityAccumulator {
  readonly nearRadius: number;
  readonly nearWeight: number;
  readonly forceAfter: number;
  // Per entity id (arrays grow to the largest id seen, at most 65536 entries): accumulated
  // priority, snapshots since last sent, and the step at which it was last visible. An entity
  // that was not visible in the previous step starts again from zero.
  private prio = new Float64Array(0);
  private ages = new Float64Array(0);
  private seen = new Float64Array(0);
  private step = 1;

  constructor(options: PriorityOptions = {}) {
    this.nearRadius = options.nearRadius ?? NEAR_RADIUS;
    this.nearWeight = options.nearWeight ?? NEAR_WEIGHT;
    this.forceAfter = options.forceAfter ?? FORCE_AFTER;
  }

  private ensure(id: number): void {
    if (id < this.prio.length) return;
    let size = Math.max(64, this.prio.length);
    while (size <= id) size *= 2;
    const grow = (a: Float64Array) => { const b = new Float64Array(size); b.set(a); return b; };
    this.prio = grow(this.prio);
    this.ages = grow(this.ages);
    this.seen = grow(this.seen);
  }

  private current(id: number): boolean {
    return id < this.seen.length && this.seen[id] === this.step;
  }

  /** Snapshots entity `id` has gone unsent (0 when sent last time or unknown). */
  age(id: number): number {
    return this.current(id) ? this.ages[id] : 0;
  }

  /** Accumulated priority of entity `id`. */
  priority(id: number): number {
    return this.current(id) ? this.prio[id] : 0;
  }

  /**
   * One snapshot's step: every visible entity ages by one and gains its weight; returns indices
   * into `visible` in sending order: the viewer (if visible), then entities forced by age
   * (oldest first), then by priority (highest first); ties by position in `visible` (the
   * encoder passes entities sorted by id). Entities not in `visible` are forgotten.
   */
  order(visible: readonly Positioned[], viewerId?: number): number[] {
    const n = visible.length;
    const prevStep = this.step;
    const step = ++this.step;
    let viewerIndex = -1;
    for (let i = 0; i < n; i++) {
      if (visible[i].id === viewerId) { viewerIndex = i; break; }
    }
    const vx = viewerIndex >= 0 ? visible[viewerIndex].x : 0;
    const vy = viewerIndex >= 0 ? visible[viewerIndex].y : 0;
    const r = this.nearRadius;
    const r2 = r * r;
    const extra = this.nearWeight - 1;
    const forceAfter = this.forceAfter;
    // Bucket per entity: higher goes first. Forced entities (by age) above all priorities.
    const bucket = new Uint16Array(n);
    let maxBucket = 0;
    let maxId = 0;
    for (let i = 0; i < n; i++) if (visible[i].id > maxId) maxId = visible[i].id;
    this.ensure(maxId);
    const prio = this.prio;
    const ages = this.ages;
    const seen = this.seen;
    for (let i = 0; i < n; i++) {
      const e = visible[i];
      const id = e.id;
      if (seen[id] !== prevStep) {
        prio[id] = 0;
        ages[id] = 0;
      }
      seen[id] = step;
      let w = 1;
      if (viewerIndex >= 0) {
        const dx = e.x - vx;
        const dy = e.y - vy;
        const d2 = dx * dx + dy * dy;
        if (d2 < r2) w += extra * (1 - Math.sqrt(d2) / r);
      }
      if (!(w >= 1)) w = 1; // NaN positions: no bonus
      const p = (prio[id] += w);
      const age = ++ages[id];
      const b = age >= forceAfter
        ? PRIORITY_BUCKETS + Math.min(age - forceAfter, AGE_BUCKETS - 1)
        : Math.min(Math.round(p * PRIORITY_SCALE), PRIORITY_BUCKETS - 1);
      bucket[i] = b;
      if (b > maxBucket) maxBucket = b;
    }
    // Stable counting sort, highest bucket first: ties keep the order of `visible` (by id).
    const start = new Uint32Array(maxBucket + 2);
    for (let i = 0; i < n; i++) if (i !== viewerIndex) start[bucket[i]]++;
    let acc = viewerIndex >= 0 ? 1 : 0;
    for (let b = maxBucket; b >= 0; b--) {
      const c = start[b];
      start[b] = acc;
      acc += c;
    }
    const out: number[] = new Array(n);
    if (viewerIndex >= 0) out[0] = viewerIndex;
    for (let i = 0; i < n; i++) if (i !== viewerIndex) out[start[bucket[i]]++] = i;
    return out;
  }

  /** Entity `id` went out in this snapshot. */
  markSent(id: number): void {
    this.ensure(id);
    this.prio[id] = 0;
    this.ages[id] = 0;
    this.seen[id] = this.step;
  }

  /**
   * Everything visible went out (a complete snapshot, possibly a shared encoding). O(1): a new
   * step, so that every entity starts again from zero. That is exactly what resetting the sent
   * ids would do: a sent entity has zero priority and age, and an entity not visible in the step
   * before the next `order` starts from zero too, so the two cannot be told apart (the property
   * test in test/shared/snapshot/priority.test.ts compares against the zeroing version). Zeroing
   * P ids per client-snapshot made a shared encoding cost O(P) per client.
   */
  markAllSent(): void {
    this.step++;
  }

  /** Forget everything (new connection). */
  clear(): void {
    this.step += 2;
  }
}

/**
 * Entities (besides the viewer) that always fit one snapshot of `budgetBytes`, whatever their
 * state: (budget - fixed bits) / worst entity bits, minus the viewer. The fixed bits assume the
 * worst header and a baseline code for each of `baselineCount` entities.
 */
export function entitiesPerSnapshot(format: SnapshotFormat, budgetBytes: number, visible: number, baselineCount = visible + 1): number {
  const budgetBits = Math.min(budgetBytes, MAX_UNRELIABLE_MESSAGE_BYTES) * 8;
  const header = 8 + 32 + 32 + expGolombBits(2 ** 32 - 2) + 32 + 32 + SHORT_DELTA_WIDTH_FIELD_BITS;
  // Any set of S entities costs at most S * enterBitsMax (an entered id costs 17 bits at most,
  // whatever its neighbours), so the first K in sending order always fit.
  const fixed = header + 3 * baselineCount + expGolombBits(visible + 1);
  return Math.max(0, Math.floor((budgetBits - fixed) / enterBitsMax(format)) - 1);
}

/**
 * Refresh bound: with `visible` entities besides the viewer, each one is sent at least once in
 * every `forceAfter + ceil(visible / K)` consecutive snapshots (K = entitiesPerSnapshot), i.e.
 * two sends of an entity are never more than that many snapshots apart. Infinity when K is 0.
 */
export function refreshBound(format: SnapshotFormat, budgetBytes: number, visible: number, forceAfter = FORCE_AFTER): number {
  const k = entitiesPerSnapshot(format, budgetBytes, visible);
  if (visible === 0) return 1;
  return k > 0 ? forceAfter + Math.ceil(visible / k) : Number.POSITIVE_INFINITY;
}
