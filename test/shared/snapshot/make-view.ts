// Hand-built snapshot views and prepared lists for the encoder's unit tests.
import { STANDARD_FORMAT, type SnapshotFormat } from '../../../shared/snapshot/format.js';
import { prepareEntities, type PreparedEntities } from '../../../shared/snapshot/prepare.js';
import type { SnapshotView } from '../../../shared/snapshot/view.js';

/** One held entity: id and quantized state, and optionally its held age. */
export interface Held {
  id: number;
  qx: number;
  qy: number;
  qa: number;
  age?: number;
}

/** A view of snapshot `id` holding `held` (sorted here by id). */
export function makeView(id: number, held: Held[], complete = true): SnapshotView {
  const s = [...held].sort((a, b) => a.id - b.id);
  return {
    id, count: s.length, complete,
    ids: Uint16Array.from(s, (e) => e.id),
    qx: Uint16Array.from(s, (e) => e.qx),
    qy: Uint16Array.from(s, (e) => e.qy),
    qa: Uint8Array.from(s, (e) => e.qa),
    heldAge: Uint8Array.from(s, (e) => e.age ?? 0),
  };
}

/**
 * Entities prepared from quantized states (positions are exact multiples of the step, so the
 * quantized values are exactly `qx`, `qy`, `qa`).
 */
export function preparedFrom(held: Held[], format: SnapshotFormat = STANDARD_FORMAT): PreparedEntities {
  return prepareEntities(held.map((e) => ({ id: e.id, x: e.qx * 0.25, y: e.qy * 0.25, angle: (e.qa * 2 * Math.PI) / 256 })), format);
}

/** The fields of a view as plain arrays, for toEqual. */
export function viewFields(v: SnapshotView) {
  const n = v.count;
  return {
    id: v.id, complete: v.complete, ids: [...v.ids.subarray(0, n)], qx: [...v.qx.subarray(0, n)], qy: [...v.qy.subarray(0, n)],
    qa: [...v.qa.subarray(0, n)],
  };
}
