import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { snapshotFormat } from '../../../shared/snapshot/format.js';
import { planSnapshot } from '../../../shared/snapshot/plan.js';
import { prepareEntities } from '../../../shared/snapshot/prepare.js';
import { enterBoundBits, heldBoundBits, selectByCell } from '../../../shared/snapshot/select-by-cell.js';
import { writeSnapshot } from '../../../shared/snapshot/write.js';
import { makeView, preparedFrom } from './make-view.js';
import { Scene, rng } from './scene.js';

const picked = (sel: Uint8Array, n: number, list: readonly { id: number }[]) => [...sel.subarray(0, n)].flatMap((s, j) => (s ? [list[j].id] : []));
// Positions in quantized steps: the cell [0, 100) x [0, 100) in world units is qx, qy < 400.
const cell = { x0: 0, y0: 0, x1: 100, y1: 100 };
const six = preparedFrom([
  { id: 1, qx: 2000, qy: 2000, qa: 0 }, { id: 2, qx: 40, qy: 40, qa: 0 }, { id: 3, qx: 2000, qy: 2000, qa: 0 },
  { id: 4, qx: 3000, qy: 3000, qa: 0 }, { id: 5, qx: 2000, qy: 2000, qa: 0 }, { id: 6, qx: 2000, qy: 2000, qa: 0 },
]);

describe('selectByCell', () => {
  it('worst-case bounds: 33 bits for a held entity and 49 for an entering one in the standard world', () => {
    const p = planSnapshot(six, null, 1, 1200 * 8)!;
    expect(heldBoundBits(p)).toBe(33);
    expect(enterBoundBits(p)).toBe(49);
    // A bigger world: an absolute position is the larger form.
    const wide = prepareEntities([{ id: 1, x: 0, y: 0, angle: 0 }], snapshotFormat(16000, 16000));
    const q = planSnapshot(wide, null, 1, 1200 * 8)!;
    expect(heldBoundBits(q)).toBe(1 + (1 + 16 + 16) + 1 + 8 - 2);
    expect(enterBoundBits(q)).toBe(1 + 16 + 16 + 16 + 8);
  });

  it('takes the schedule (viewer, cell, round-robin after the cursor) while the bounds fit; returns the next cursor', () => {
    const p = planSnapshot(six, null, 1, 1200 * 8)!;
    // Order: viewer 4, cell 2, then after 3: 5, 6, 1, 3. Room for four entering bounds.
    const last = selectByCell(p, six.list, cell, 3, 4, p.fixed + 4 * 49);
    expect(picked(p.selected, 6, six.list)).toEqual([2, 4, 5, 6]);
    expect(last).toBe(6);
    // The exact costs (49 + 49 + 33 + 33) are what the writer spends.
    expect(writeSnapshot(p, six, { snapshotId: 1, serverTick: 0, serverTime: 0, lastInputSeq: 0 }, 1200).length)
      .toBe(Math.ceil((p.fixed + 164) / 8));
    // Room for the viewer and the cell only: no round-robin, no cursor.
    const q = planSnapshot(six, null, 1, 1200 * 8)!;
    expect(selectByCell(q, six.list, cell, 3, 4, q.fixed + 2 * 49 + 48)).toBeNull();
    expect(picked(q.selected, 6, six.list)).toEqual([2, 4]);
  });

  it('an entity the client does not hold is caught up before the round-robin', () => {
    // Baseline 1 back holds everything but 5.
    const base = makeView(1, six.list.filter((e) => e.id !== 5).map((e, j) => ({ id: e.id, qx: 1 + j, qy: 1, qa: 0 })));
    const p = planSnapshot(six, base, 2, 1200 * 8)!;
    // Viewer 4, cell 2, catch-up 5 (49), then the round-robin after 5: 6. Room: 33 + 33 + 49 + 33.
    const last = selectByCell(p, six.list, cell, 5, 4, p.fixed + 33 + 33 + 49 + 33);
    expect(picked(p.selected, 6, six.list)).toEqual([2, 4, 5, 6]);
    expect(last).toBe(6);
  });

  it('property: what goes depends on which entities the baseline holds, not on their states; never over the budget', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 400 }), fc.integer({ min: 40, max: 1200 }), fc.integer(), (players, budget, seed) => {
      const scene = new Scene({ players, seed, churn: 0.05, idle: 0.3 });
      const r = rng(seed);
      const prep = prepareEntities(scene.entities());
      // Two baselines holding the same ids (a random subset) at unrelated states.
      const held = prep.list.filter(() => r() < 0.8);
      const state = () => ({ qx: Math.floor(r() * 4001), qy: Math.floor(r() * 4001), qa: Math.floor(r() * 256), age: Math.floor(r() * 3) });
      const ages = held.map(() => Math.floor(r() * 8));
      const a = makeView(10, held.map((e, i) => ({ id: e.id, ...state(), age: ages[i] })));
      const b = makeView(10, held.map((e, i) => ({ id: e.id, ...state(), age: ages[i] })));
      const viewer = prep.list[Math.floor(r() * prep.list.length)].id;
      const after = Math.floor(r() * 500) - 1;
      const choose = (base: typeof a) => {
        const p = planSnapshot(prep, base, 12, budget * 8);
        if (!p) return null;
        const last = selectByCell(p, prep.list, cell, after, viewer, budget * 8);
        const bytes = writeSnapshot(p, prep, { snapshotId: 12, serverTick: 0, serverTime: 0, lastInputSeq: 0 }, budget);
        expect(bytes.length).toBeLessThanOrEqual(budget);
        return { ids: picked(p.selected, p.n, prep.list), last };
      };
      expect(choose(a)).toEqual(choose(b));
    }), { numRuns: 120 });
  });
});
