/**
 * Selection by the viewer's cell (docs/protocol.md, "Sharing one encoding between clients"):
 * entities go in the cell's schedule order (shared/snapshot/cell-priority.ts) while their
 * worst-case costs fit the budget, so that which entities go depends only on the cell, the
 * round-robin cursor and which entities the baseline holds, never on their values: clients of a
 * cell holding equal baselines get equal bytes, and their views become equal within a rotation.
 */
import { ANGLE_BITS, ENTITY_ID_BITS, SHORT_DELTA_MAX_BITS } from './format.js';
import { scheduleOrder, type ViewerCell } from './cell-priority.js';
import { KIND_ENTER, idBits, type Plan } from './plan.js';
import type { EntityState } from './view.js';

/**
 * Worst-case bits of sending an entity the baseline holds, beyond its 2-bit omitted code: a
 * delta with an absolute position and a new angle (33 in the standard world).
 */
export function heldBoundBits(p: Plan): number {
  return 1 + Math.max(1 + 2 * SHORT_DELTA_MAX_BITS, 1 + p.format.xBits + p.format.yBits) + 1 + ANGLE_BITS - 2;
}

/** Worst-case bits of an entering entity: a full id and state (49 in the standard world). */
export function enterBoundBits(p: Plan): number {
  return 1 + ENTITY_ID_BITS + p.stateBits;
}

/** Per entity: 1 when taken by the bound pass (reused between calls, see plan.ts `work`). */
let picked = new Uint8Array(0);

/**
 * Marks the entities sent: the schedule (viewer, cell, catch-up, then the round-robin after
 * `after`) is taken in order while the worst-case bounds fit; of those, each whose exact cost
 * fits goes, in id order. Returns the last id of the round-robin part sent (the cell's next
 * cursor), or null when none was.
 */
export function selectByCell(
  p: Plan, list: readonly EntityState[], cell: ViewerCell, after: number, viewerId: number | undefined, budgetBits: number,
): number | null {
  const { n, kind, extra, selected, baseIndex, fixed, stateBits } = p;
  const heldBound = heldBoundBits(p);
  const enterBound = enterBoundBits(p);
  // Entities per snapshot for the catch-up rule's rotation length, counting every one as held
  // (a threshold only; it depends on nothing but the baseline id and entity sets).
  const k = Math.max(1, Math.floor((budgetBits - fixed) / heldBound));
  const b = p.base;
  const { order, roundRobinFrom } = scheduleOrder(list, cell, after, k, b ? { base: b, baseIndex, sinceBase: p.delta } : null, viewerId);
  let bound = fixed;
  let take = 0;
  for (const j of order) {
    const c = kind[j] === KIND_ENTER ? enterBound : heldBound;
    if (bound + c > budgetBits) break;
    bound += c;
    take++;
  }
  // The taken entities in id order (= index order), with exact costs.
  if (picked.length < n) picked = new Uint8Array(Math.max(n, picked.length * 2, 64));
  picked.fill(0, 0, n);
  for (let t = 0; t < take; t++) picked[order[t]] = 1;
  let used = fixed;
  let prevEnter = -1;
  for (let j = 0; j < n; j++) {
    if (!picked[j]) continue;
    const cost = kind[j] === KIND_ENTER ? idBits(list[j].id, prevEnter) + stateBits : extra[j];
    if (used + cost > budgetBits) continue;
    if (kind[j] === KIND_ENTER) prevEnter = list[j].id;
    selected[j] = 1;
    used += cost;
  }
  for (let t = take - 1; t >= roundRobinFrom; t--) {
    if (selected[order[t]]) return list[order[t]].id;
  }
  return null;
}
