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

interface Entry {
  priority: number;
  /** Snapshots since last sent (or since it became visible). */
  age: number;
}

/** Position input for ordering: id and world position. */
export interface Positioned {
  id: number;
  x: number;
  y: number;
}

export class PriorityAccumulator {
  readonly nearRadius: number;
  readonly nearWeight: number;
  readonly forceAfter: number;
  /** One entry per visible entity; entities that stop being visible are dropped each step. */
  private entries = new Map<number, Entry>();

  constructor(options: PriorityOptions = {}) {
    this.nearRadius = options.nearRadius ?? NEAR_RADIUS;
    this.nearWeight = options.nearWeight ?? NEAR_WEIGHT;
    this.forceAfter = options.forceAfter ?? FORCE_AFTER;
  }

  /** Snapshots entity `id` has gone unsent (0 when sent last time or unknown). */
  age(id: number): number {
    return this.entries.get(id)?.age ?? 0;
  }

  /** Accumulated priority of entity `id`. */
  priority(id: number): number {
    return this.entries.get(id)?.priority ?? 0;
  }

  /**
   * One snapshot's step: every visible entity ages by one and gains its weight; returns indices
   * into `visible` in sending order: the viewer (if visible), then entities forced by age
   * (oldest first), then by priority (highest first); ties by id. Entities not in `visible`
   * are forgotten.
   */
  order(visible: readonly Positioned[], viewerId?: number): number[] {
    const next = new Map<number, Entry>();
    let viewerIndex = -1;
    let vx = 0;
    let vy = 0;
    for (let i = 0; i < visible.length; i++) {
      if (visible[i].id === viewerId) {
        viewerIndex = i;
        vx = visible[i].x;
        vy = visible[i].y;
      }
    }
    const r = this.nearRadius;
    const extra = this.nearWeight - 1;
    for (const e of visible) {
      const prev = this.entries.get(e.id);
      let w = 1;
      if (viewerIndex >= 0) {
        const d = Math.hypot(e.x - vx, e.y - vy);
        if (d < r) w += extra * (1 - d / r);
      }
      if (!(w >= 1)) w = 1; // NaN positions: no bonus
      next.set(e.id, { priority: (prev?.priority ?? 0) + w, age: (prev?.age ?? 0) + 1 });
    }
    this.entries = next;
    const forceAfter = this.forceAfter;
    const idx: number[] = [];
    for (let i = 0; i < visible.length; i++) if (i !== viewerIndex) idx.push(i);
    idx.sort((a, b) => {
      const ea = next.get(visible[a].id)!;
      const eb = next.get(visible[b].id)!;
      const fa = ea.age >= forceAfter;
      const fb = eb.age >= forceAfter;
      if (fa !== fb) return fa ? -1 : 1;
      if (fa && ea.age !== eb.age) return eb.age - ea.age;
      if (!fa && ea.priority !== eb.priority) return eb.priority - ea.priority;
      return visible[a].id - visible[b].id;
    });
    if (viewerIndex >= 0) idx.unshift(viewerIndex);
    return idx;
  }

  /** Entity `id` went out in this snapshot. */
  markSent(id: number): void {
    const e = this.entries.get(id);
    if (e) {
      e.priority = 0;
      e.age = 0;
    } else {
      this.entries.set(id, { priority: 0, age: 0 });
    }
  }

  /**
   * Everything visible went out (a complete snapshot, possibly a shared encoding): reset to
   * exactly these ids.
   */
  markAllSent(ids: Iterable<number>): void {
    this.entries = new Map();
    for (const id of ids) this.entries.set(id, { priority: 0, age: 0 });
  }

  /** Forget everything (new connection). */
  clear(): void {
    this.entries.clear();
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
