/**
 * Selection by a per-client order (docs/protocol.md, "Budget and priority"): when a snapshot
 * cannot carry everything, entities go greedily in the client's priority order
 * (shared/snapshot/priority.ts), each one when its exact cost still fits. Without an accumulator
 * the order is the viewer, then by id, and starvation is not bounded.
 *
 * The accumulator is consulted here and told here what went (recordSent), so its bookkeeping is
 * this file's business alone.
 */
import { KIND_ENTER, idBits, type Plan } from './plan.js';
import type { PriorityAccumulator } from './priority.js';
import type { EntityState } from './view.js';

/**
 * Indices into `list` in sending order: the accumulator's (it takes one step), or without one
 * the viewer first, then every other entity by id.
 */
export function sendingOrder(list: readonly EntityState[], priority: PriorityAccumulator | undefined, viewerId: number | undefined): number[] {
  if (priority) return priority.order(list, viewerId);
  const order: number[] = [];
  for (let j = 0; j < list.length; j++) if (list[j].id === viewerId) order.push(j);
  for (let j = 0; j < list.length; j++) if (list[j].id !== viewerId) order.push(j);
  return order;
}

/**
 * Marks entities of `order` sent, in that order, each one whose exact cost still fits
 * `budgetBits` on top of the plan's fixed bits. An entered id costs 1 bit when it follows the
 * previous entered id, so entering j also changes the cost of the next entered one.
 */
export function selectInOrder(p: Plan, list: readonly EntityState[], order: readonly number[], budgetBits: number): void {
  const { n, kind, extra, selected, stateBits } = p;
  let used = p.fixed;
  for (const j of order) {
    let cost = extra[j];
    if (kind[j] === KIND_ENTER) {
      let q = j - 1;
      while (q >= 0 && !(kind[q] === KIND_ENTER && selected[q])) q--;
      let r = j + 1;
      while (r < n && !(kind[r] === KIND_ENTER && selected[r])) r++;
      const prevId = q >= 0 ? list[q].id : -1;
      const id = list[j].id;
      cost = idBits(id, prevId) + stateBits;
      if (r < n) cost += idBits(list[r].id, id) - idBits(list[r].id, prevId);
    }
    if (used + cost <= budgetBits) {
      selected[j] = 1;
      used += cost;
    }
  }
}

/**
 * Tells the accumulator what this snapshot carried: `sent` ids, which are everything visible
 * when `complete`.
 */
export function recordSent(priority: PriorityAccumulator, sent: readonly number[], complete: boolean): void {
  if (complete) priority.markAllSent(sent);
  else for (const id of sent) priority.markSent(id);
}
