import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KIND_DELTA, KIND_ENTER, KIND_UNCHANGED, planSnapshot, selectAll, usableBaseline } from '../../../shared/snapshot/plan.js';
import { prepareEntities } from '../../../shared/snapshot/prepare.js';
import { writeSnapshot } from '../../../shared/snapshot/write.js';
import { makeView, preparedFrom } from './make-view.js';
import { Scene } from './scene.js';

const header = { snapshotId: 12, serverTick: 0, serverTime: 0, lastInputSeq: 0 };
const ok = <T>(v: T | null): T => {
  if (v === null) throw new Error('expected a plan');
  return v;
};

describe('usableBaseline', () => {
  const v = (id: number) => makeView(id, []);
  it('takes an earlier snapshot (also across the 2^32 wrap) and refuses anything else', () => {
    expect(usableBaseline(null, 5)).toBeNull();
    expect(usableBaseline(undefined, 5)).toBeNull();
    expect(usableBaseline(v(4), 5)?.id).toBe(4);
    expect(usableBaseline(v(2 ** 32 - 1), 1)?.id).toBe(2 ** 32 - 1);
    expect(usableBaseline(v(5), 5)).toBeNull(); // this snapshot
    expect(usableBaseline(v(6), 5)).toBeNull(); // newer
    expect(usableBaseline(v(5 + 2 ** 31), 5)).toBeNull(); // 2^31 back: as far ahead as behind
    expect(usableBaseline(v(6 + 2 ** 31), 5)?.id).toBe(6 + 2 ** 31); // 2^31 - 1 back
    expect(usableBaseline(v(0), 5)).toBeNull();
    expect(usableBaseline(v(1.5), 5)).toBeNull();
  });
});

describe('planSnapshot', () => {
  it('full snapshot: every entity enters; ids after their predecessor cost 1 bit, others 17', () => {
    const prep = preparedFrom([{ id: 0, qx: 1, qy: 2, qa: 3 }, { id: 1, qx: 0, qy: 0, qa: 0 }, { id: 5, qx: 9, qy: 9, qa: 9 }]);
    const p = ok(planSnapshot(prep, null, 12, 1200 * 8));
    expect(p.base).toBeNull();
    expect(p.delta).toBe(0);
    expect(p.n).toBe(3);
    expect(p.stateBits).toBe(12 + 12 + 8);
    // id 8 + seq 32 + snapshotId 32 + eg(0) 1 + tick 32 + time 32, then eg(3 entering) 5.
    expect(p.fixed).toBe(137 + 5);
    expect([...p.kind.subarray(0, 3)]).toEqual([KIND_ENTER, KIND_ENTER, KIND_ENTER]);
    expect([...p.baseIndex.subarray(0, 3)]).toEqual([-1, -1, -1]);
    expect([...p.extra.subarray(0, 3)]).toEqual([33, 33, 49]);
    expect(p.total).toBe(142 + 115);
    expect([...p.selected.subarray(0, 3)]).toEqual([0, 0, 0]);
  });

  it('against a baseline: kinds, baseline indices, left entities, the cheapest delta width and each cost', () => {
    const base = makeView(10, [
      { id: 1, qx: 100, qy: 100, qa: 5 }, { id: 2, qx: 200, qy: 200, qa: 5 }, { id: 3, qx: 300, qy: 300, qa: 5 },
      { id: 4, qx: 400, qy: 400, qa: 5 }, { id: 6, qx: 600, qy: 600, qa: 7 },
    ]);
    const prep = preparedFrom([
      { id: 1, qx: 100, qy: 100, qa: 5 }, // unchanged
      { id: 2, qx: 210, qy: 197, qa: 5 }, // short delta: needs 5 bits
      { id: 3, qx: 2300, qy: 300, qa: 9 }, // needs 12 bits: long form, new angle
      { id: 5, qx: 1, qy: 1, qa: 1 }, // enters
      { id: 6, qx: 601, qy: 601, qa: 7 }, // needs 2 bits
      { id: 7, qx: 2, qy: 2, qa: 2 }, // enters
    ]); // 4 left
    const p = ok(planSnapshot(prep, base, 12, 1200 * 8));
    expect(p.base).toBe(base);
    expect(p.delta).toBe(2);
    expect([...p.kind.subarray(0, 6)]).toEqual([KIND_UNCHANGED, KIND_DELTA, KIND_DELTA, KIND_ENTER, KIND_DELTA, KIND_ENTER]);
    expect([...p.baseIndex.subarray(0, 6)]).toEqual([0, 1, 2, -1, 4, -1]);
    // Header 8+32+32+eg(2)=3+32+32, width field 3, 2 bits per baseline entity, +1 for the one
    // that left (111), eg(2 entering) 3.
    expect(p.fixed).toBe(139 + 3 + 10 + 1 + 3);
    // Widths 3: 7+25+25, 4: 9+25+25, 5: 11+11+25 (the least), 6: 13+13+25 ...
    expect(p.width).toBe(5);
    // Beyond the 2-bit code: unchanged 1; delta 1 + position (1 + 2w or 1 + 24) + angle (1 or 9) - 2;
    // entering: id (17: neither follows the previous entering id) + 32.
    expect([...p.extra.subarray(0, 6)]).toEqual([1, 11, 33, 49, 11, 49]);
    expect(p.total).toBe(156 + 154);
  });

  it('returns null when the fixed part does not fit, and clears the previous selection', () => {
    const prep = preparedFrom([{ id: 1, qx: 1, qy: 1, qa: 1 }, { id: 2, qx: 2, qy: 2, qa: 2 }]);
    const p = ok(planSnapshot(prep, null, 3, 1200 * 8));
    selectAll(p);
    expect([...p.selected.subarray(0, 2)]).toEqual([1, 1]);
    expect(planSnapshot(prep, null, 3, p.fixed - 1)).toBeNull();
    const again = ok(planSnapshot(prep, null, 3, p.fixed));
    expect([...again.selected.subarray(0, 2)]).toEqual([0, 0]);
  });

  it('property: the planned total is exactly the size the writer produces when everything goes', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 240 }), fc.integer({ min: 1, max: 5 }), fc.integer(), (players, lag, seed) => {
      const scene = new Scene({ players, seed, churn: 0.05, teleport: 0.05, idle: 0.3, turn: 0.5 });
      const first = prepareEntities(scene.entities());
      const p0 = ok(planSnapshot(first, null, 7, 1200 * 8));
      if (p0.total > 1200 * 8) return;
      selectAll(p0);
      const full = writeSnapshot(p0, first, { ...header, snapshotId: 7 }, 1200);
      expect(full.length).toBe(Math.ceil(p0.total / 8));
      // A baseline: the full snapshot's entities, as held.
      const base = makeView(7, first.list.map((e, j) => ({ id: e.id, qx: first.qx[j], qy: first.qy[j], qa: first.qa[j] })));
      for (let i = 0; i < lag; i++) scene.advance();
      const next = prepareEntities(scene.entities());
      const p = ok(planSnapshot(next, base, 7 + lag, 1200 * 8));
      if (p.total > 1200 * 8) return;
      selectAll(p);
      expect(writeSnapshot(p, next, { ...header, snapshotId: 7 + lag }, 1200).length).toBe(Math.ceil(p.total / 8));
    }), { numRuns: 150 });
  });
});
