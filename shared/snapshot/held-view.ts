/**
 * What the client holds after decoding a snapshot, computed on the encoding side: the same view
 * decode.ts builds (docs/protocol.md, "Layout"), plus the server-only held ages. The server stores
 * it as that snapshot's baseline for later deltas.
 */
import type { Plan } from './plan.js';
import type { PreparedEntities } from './prepare.js';
import { MAX_HELD_AGE, type SnapshotView } from './view.js';

/**
 * The view of snapshot `snapshotId` after plan `p` (selection done): baseline entities still
 * present (refreshed or kept) plus the entered ones, in id order. Appends the refreshed ids to
 * `sent` and the kept-without-refresh ids to `omitted`.
 */
export function heldView(p: Plan, prep: PreparedEntities, snapshotId: number, complete: boolean, sent: number[], omitted: number[]): SnapshotView {
  const { base: b, baseIndex, selected, n } = p;
  const { list, qx: cx, qy: cy, qa: ca } = prep;
  let count = 0;
  for (let j = 0; j < n; j++) if (baseIndex[j] >= 0 || selected[j]) count++;
  // One backing store for the view's five arrays (8 bytes per entity; the u16 arrays first, so
  // they start at even offsets): the view lives in the client's history, 32 per client.
  const store = new ArrayBuffer(count * 8);
  const ids = new Uint16Array(store, 0, count);
  const qx = new Uint16Array(store, count * 2, count);
  const qy = new Uint16Array(store, count * 4, count);
  const qa = new Uint8Array(store, count * 6, count);
  const heldAge = new Uint8Array(store, count * 7, count);
  const baseAge = b?.heldAge;
  const sinceBase = p.delta;
  let k = 0;
  for (let j = 0; j < n; j++) {
    const i = baseIndex[j];
    if (selected[j]) {
      sent.push(list[j].id);
      ids[k] = list[j].id; qx[k] = cx[j]; qy[k] = cy[j]; qa[k] = ca[j]; k++; // heldAge 0
    } else if (i >= 0 && b) {
      omitted.push(list[j].id);
      ids[k] = list[j].id; qx[k] = b.qx[i]; qy[k] = b.qy[i]; qa[k] = b.qa[i];
      heldAge[k] = Math.min(MAX_HELD_AGE, sinceBase + (baseAge ? baseAge[i] : 0)); k++;
    }
  }
  return { id: snapshotId, count, ids, qx, qy, qa, complete, heldAge };
}
