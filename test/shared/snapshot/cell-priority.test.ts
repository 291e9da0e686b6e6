import { describe, expect, it } from 'vitest';
import { scheduleOrder } from '../../../shared/snapshot/cell-priority.js';
import { makeView } from './make-view.js';

// Ids 1..8; 2 and 5 inside the cell [0, 100) x [0, 100), the rest outside.
const list = [1, 2, 3, 4, 5, 6, 7, 8].map((id) => ({ id, x: id === 2 || id === 5 ? 50 : 500, y: id === 5 ? 99.9 : 50, angle: 0 }));
const cell = { x0: 0, y0: 0, x1: 100, y1: 100 };
const ids = (order: number[], from: readonly { id: number }[] = list) => order.map((j) => from[j].id);

describe('scheduleOrder', () => {
  it('viewer, the cell in id order, then the round-robin after the cursor, wrapping', () => {
    const s = scheduleOrder(list, cell, 6, 4, null, 8);
    expect(ids(s.order)).toEqual([8, 2, 5, 7, 1, 3, 4, 6]);
    expect(s.roundRobinFrom).toBe(3);
    // No viewer, cursor before every id, cursor past every id.
    expect(ids(scheduleOrder(list, cell, -1, 4, null).order)).toEqual([2, 5, 1, 3, 4, 6, 7, 8]);
    expect(ids(scheduleOrder(list, cell, 8, 4, null).order)).toEqual([2, 5, 1, 3, 4, 6, 7, 8]);
    // A cursor between ids starts at the next one present.
    const without4 = list.filter((e) => e.id !== 4);
    expect(ids(scheduleOrder(without4, cell, 3, 4, null).order, without4)).toEqual([2, 5, 6, 7, 8, 1, 3]);
  });

  it('the cell is half-open: an entity on its right or bottom edge is outside', () => {
    const edge = [{ id: 1, x: 100, y: 50, angle: 0 }, { id: 2, x: 0, y: 0, angle: 0 }, { id: 3, x: 50, y: 100, angle: 0 }];
    const s = scheduleOrder(edge, cell, -1, 3, null);
    expect(s.order).toEqual([1, 0, 2]);
    expect(s.roundRobinFrom).toBe(1);
  });

  it('catch-up: entities held at least a rotation + 2 old, or not held, go before the round-robin, oldest first', () => {
    // k = 4 with 2 inside: rotation = ceil(6 / 2) = 3 snapshots, so ages of 5 or more catch up.
    // Baseline 2 snapshots back; held ages there: 1 -> 2 + 3 = 5, 3 -> 2 + 1 = 3, 6 -> 2 + 10 = 12,
    // 7 -> 2 + 3 = 5 (tie with 1: by id); 4 is not held at all (entered, never sent).
    const base = makeView(8, [
      { id: 1, qx: 0, qy: 0, qa: 0, age: 3 }, { id: 2, qx: 0, qy: 0, qa: 0, age: 50 }, { id: 3, qx: 0, qy: 0, qa: 0, age: 1 },
      { id: 5, qx: 0, qy: 0, qa: 0 }, { id: 6, qx: 0, qy: 0, qa: 0, age: 10 }, { id: 7, qx: 0, qy: 0, qa: 0, age: 3 },
      { id: 8, qx: 0, qy: 0, qa: 0 },
    ]);
    const baseIndex = Int32Array.from(list, (e) => [...base.ids].indexOf(e.id));
    const s = scheduleOrder(list, cell, 2, 4, { base, baseIndex, sinceBase: 2 });
    // Cell first (2 is old but in the cell anyway), then 4 (never held), 6, 1, 7; then the rest after the cursor.
    expect(ids(s.order)).toEqual([2, 5, 4, 6, 1, 7, 3, 8]);
    expect(s.roundRobinFrom).toBe(6);
    // A client in step (baseline one snapshot back, nothing held long) has no catch-up.
    const fresh = makeView(9, list.map((e) => ({ id: e.id, qx: 0, qy: 0, qa: 0, age: 2 })));
    const inStep = scheduleOrder(list, cell, 2, 4, { base: fresh, baseIndex: Int32Array.from(list, (_, j) => j), sinceBase: 1 });
    expect(ids(inStep.order)).toEqual([2, 5, 3, 4, 6, 7, 8, 1]);
    expect(inStep.roundRobinFrom).toBe(2);
  });
});
