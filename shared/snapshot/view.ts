/**
 * What a client holds after decoding a snapshot: its view of the world at that snapshot, in
 * quantized form, sorted by entity id. The server keeps the identical view for every snapshot it
 * sends (shared/snapshot/history.ts), so later deltas against it are exact on both ends.
 */

/** Largest `SnapshotView.heldAge`: older states all count as this old. */
export const MAX_HELD_AGE = 255;

/** Entity state in world units: position and angle (radians). */
export interface EntityState {
  /** Entity id, an unsigned 16-bit integer. */
  id: number;
  x: number;
  y: number;
  angle: number;
}

/** Quantized entity set of one snapshot, sorted by id (struct of arrays, `count` entries used). */
export interface SnapshotView {
  /** Snapshot id this view belongs to. */
  readonly id: number;
  readonly count: number;
  readonly ids: Uint16Array;
  readonly qx: Uint16Array;
  readonly qy: Uint16Array;
  readonly qa: Uint8Array;
  /**
   * True when nothing was omitted: the view is the exact (quantized) world state at that snapshot,
   * identical for every client that received it. Only such views may back a shared encoding.
   */
  readonly complete: boolean;
  /**
   * Server side only (never on the wire): per entity, how many snapshot ids before this view's
   * id the state held here was refreshed (0: refreshed by this snapshot), saturating at
   * MAX_HELD_AGE. Encodings read it as the entity's age (shared/snapshot/cell-priority.ts).
   * One byte per entity: a server holds 32 views per client.
   */
  readonly heldAge?: Uint8Array;
}

/** Index of entity `id` in `view`, or -1 (binary search: views are sorted by id). */
export function indexInView(view: SnapshotView, id: number): number {
  let lo = 0;
  let hi = view.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = view.ids[mid];
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
