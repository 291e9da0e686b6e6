import { describe, expect, it } from 'vitest';
import { decodeSnapshot } from '../../../shared/snapshot/decode.js';
import { heldView } from '../../../shared/snapshot/held-view.js';
import { planSnapshot, selectAll } from '../../../shared/snapshot/plan.js';
import { writeSnapshot } from '../../../shared/snapshot/write.js';
import { MAX_HELD_AGE } from '../../../shared/snapshot/view.js';
import { makeView, preparedFrom, viewFields } from './make-view.js';

describe('heldView', () => {
  // Baseline 20 holds 1, 2, 3 (3 leaves) and 4; 5 and 6 are new; 2, 4 and 6 do not go.
  const base = makeView(20, [
    { id: 1, qx: 10, qy: 10, qa: 1, age: 0 }, { id: 2, qx: 20, qy: 20, qa: 2, age: 3 },
    { id: 3, qx: 30, qy: 30, qa: 3, age: 0 }, { id: 4, qx: 40, qy: 40, qa: 4, age: 254 },
  ], false);
  const prep = preparedFrom([
    { id: 1, qx: 11, qy: 10, qa: 1 }, { id: 2, qx: 21, qy: 20, qa: 2 }, { id: 4, qx: 41, qy: 40, qa: 4 },
    { id: 5, qx: 50, qy: 50, qa: 5 }, { id: 6, qx: 60, qy: 60, qa: 6 },
  ]);

  it('holds sent entities at their new state, omitted ones at the baseline state, and neither left nor unsent new ones', () => {
    const p = planSnapshot(prep, base, 22, 1200 * 8)!;
    p.selected.set([1, 0, 0, 1, 0]);
    const sent: number[] = [];
    const omitted: number[] = [];
    const v = heldView(p, prep, 22, false, sent, omitted);
    expect(sent).toEqual([1, 5]);
    expect(omitted).toEqual([2, 4]);
    expect(viewFields(v)).toEqual({ id: 22, complete: false, ids: [1, 2, 4, 5], qx: [11, 20, 40, 50], qy: [10, 20, 40, 50], qa: [1, 2, 4, 5] });
    // Held ages: 0 when refreshed now; else the snapshots since the baseline (2) plus the
    // baseline's own age, saturating.
    expect([...v.heldAge!]).toEqual([0, 2 + 3, MAX_HELD_AGE, 0]);
    // It is exactly what the client decodes.
    const d = decodeSnapshot(writeSnapshot(p, prep, { snapshotId: 22, serverTick: 0, serverTime: 0, lastInputSeq: 0 }, 1200), (id) => (id === 20 ? base : undefined));
    if (!d.ok) throw new Error(d.detail);
    expect(viewFields(d.snapshot)).toEqual(viewFields(v));
    expect(d.snapshot.omitted).toEqual(omitted);
  });

  it('a complete snapshot holds every entity, all refreshed, and says so', () => {
    const p = planSnapshot(prep, base, 22, 1200 * 8)!;
    selectAll(p);
    const sent: number[] = [];
    const omitted: number[] = [];
    const v = heldView(p, prep, 22, true, sent, omitted);
    expect(sent).toEqual([1, 2, 4, 5, 6]);
    expect(omitted).toEqual([]);
    expect(v.complete).toBe(true);
    expect([...v.heldAge!]).toEqual([0, 0, 0, 0, 0]);
  });

  it('views own their memory: one store per view, untouched by the next', () => {
    const p = planSnapshot(prep, null, 22, 1200 * 8)!;
    selectAll(p);
    const a = heldView(p, prep, 22, true, [], []);
    const before = viewFields(a);
    const other = preparedFrom([{ id: 9, qx: 1, qy: 1, qa: 1 }]);
    const q = planSnapshot(other, null, 23, 1200 * 8)!;
    selectAll(q);
    heldView(q, other, 23, true, [], []);
    expect(viewFields(a)).toEqual(before);
    expect(a.ids.buffer).toBe(a.heldAge!.buffer);
    expect(a.ids.buffer.byteLength).toBe(a.count * 8);
  });
});
