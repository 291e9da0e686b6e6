import { describe, expect, it } from 'vitest';
import { planSnapshot } from '../../../shared/snapshot/plan.js';
import { PriorityAccumulator } from '../../../shared/snapshot/priority.js';
import { recordSent, selectInOrder, sendingOrder } from '../../../shared/snapshot/select-by-priority.js';
import { writeSnapshot } from '../../../shared/snapshot/write.js';
import { preparedFrom } from './make-view.js';

const five = preparedFrom([0, 1, 2, 3, 4].map((id) => ({ id, qx: id * 100, qy: id * 100, qa: id })));
const picked = (sel: Uint8Array, n: number) => [...sel.subarray(0, n)].flatMap((s, j) => (s ? [j] : []));

describe('sendingOrder', () => {
  it('without an accumulator: the viewer, then every other entity by id', () => {
    expect(sendingOrder(five.list, undefined, 3)).toEqual([3, 0, 1, 2, 4]);
    expect(sendingOrder(five.list, undefined, undefined)).toEqual([0, 1, 2, 3, 4]);
    expect(sendingOrder(five.list, undefined, 99)).toEqual([0, 1, 2, 3, 4]);
  });

  it("with an accumulator: the accumulator's order, one step taken", () => {
    const a = new PriorityAccumulator();
    const twin = new PriorityAccumulator();
    a.markSent(1);
    twin.markSent(1);
    expect(sendingOrder(five.list, a, 2)).toEqual(twin.order(five.list, 2));
    expect(a.age(0)).toBe(1);
  });
});

describe('selectInOrder', () => {
  // Full snapshot of ids 0..4: each enters, 33 bits after its predecessor, 49 otherwise.
  it('takes entities in order with exact costs, an entered id re-costing its entered neighbours', () => {
    const p = planSnapshot(five, null, 1, 1200 * 8)!;
    // 2 first (no entered predecessor: 49), then 0 (33; 2 still needs its full id), then 1
    // (33, and 2 now follows it: -16): 99 bits, exactly ids 0..2 in a row.
    selectInOrder(p, five.list, [2, 0, 1, 3, 4], p.fixed + 99);
    expect(picked(p.selected, 5)).toEqual([0, 1, 2]);
    const bytes = writeSnapshot(p, five, { snapshotId: 1, serverTick: 0, serverTime: 0, lastInputSeq: 0 }, 1200);
    expect(bytes.length).toBe(Math.ceil((p.fixed + 99) / 8));
  });

  it('skips an entity that does not fit and goes on with cheaper ones', () => {
    const p = planSnapshot(five, null, 1, 1200 * 8)!;
    // 2 (49) and 0 (33) take 82; 1 would make 99 > 98; 3 after 2 costs 33 -> 115; 4 likewise.
    selectInOrder(p, five.list, [2, 0, 1, 3, 4], p.fixed + 98);
    expect(picked(p.selected, 5)).toEqual([0, 2]);
    const q = planSnapshot(five, null, 1, 1200 * 8)!;
    // Room for 49 + 33: after 4 (49), 1 costs 49 (no entered predecessor), 0 fits (33), then
    // 2 costs 49 and 3 costs 33 (it makes 4 follow it: 49 - 16), both too much.
    selectInOrder(q, five.list, [4, 1, 0, 2, 3], q.fixed + 82);
    expect(picked(q.selected, 5)).toEqual([0, 4]);
  });
});

describe('recordSent', () => {
  it('a partial snapshot resets only the sent ids; a complete one resets the accumulator to exactly them', () => {
    const a = new PriorityAccumulator();
    a.order(five.list);
    a.order(five.list);
    recordSent(a, [1, 2], false);
    expect([0, 1, 2, 3, 4].map((id) => a.age(id))).toEqual([2, 0, 0, 2, 2]);
    recordSent(a, [0, 1, 2, 3], true);
    expect([0, 1, 2, 3, 4].map((id) => a.age(id))).toEqual([0, 0, 0, 0, 0]);
    // Entity 4, not in the complete snapshot, is forgotten: it starts again from zero.
    a.order(five.list);
    expect(a.age(4)).toBe(1);
    expect(a.priority(0)).toBe(1);
  });
});
