import { describe, expect, it } from 'vitest';
import { STANDARD_FORMAT } from '../../../shared/snapshot/format.js';
import { FORCE_AFTER, PriorityAccumulator, entitiesPerSnapshot, refreshBound } from '../../../shared/snapshot/priority.js';

// Viewer 1 at the origin; 2 on top of it (weight 4), 3 at half NEAR_RADIUS (2.5), 4 far (1).
const seen = [
  { id: 1, x: 0, y: 0 }, { id: 2, x: 0, y: 0 }, { id: 3, x: 125, y: 0 }, { id: 4, x: 900, y: 900 },
];
const ids = (order: number[]) => order.map((j) => seen[j].id);

describe('PriorityAccumulator', () => {
  it('viewer first, then by priority gained per snapshot (more near the viewer); sent entities drop to zero', () => {
    const a = new PriorityAccumulator();
    expect(ids(a.order(seen, 1))).toEqual([1, 2, 3, 4]);
    expect([2, 3, 4].map((id) => a.priority(id))).toEqual([4, 2.5, 1]);
    a.markSent(2);
    // 2: 0 + 4; 3: 2.5 + 2.5; 4: 1 + 1.
    expect(ids(a.order(seen, 1))).toEqual([1, 3, 2, 4]);
    expect([a.age(2), a.age(3)]).toEqual([1, 2]);
  });

  it(`an entity unsent for ${FORCE_AFTER} snapshots goes before every priority`, () => {
    const a = new PriorityAccumulator();
    for (let s = 0; s < FORCE_AFTER - 1; s++) {
      a.order(seen, 1);
      a.markSent(2);
      a.markSent(3);
    }
    expect(ids(a.order(seen, 1))).toEqual([1, 4, 2, 3]);
    expect(a.age(4)).toBe(FORCE_AFTER);
  });

  it('markAllSent resets to exactly the listed ids; entities not seen in a step start again from zero', () => {
    const a = new PriorityAccumulator();
    a.order(seen, 1);
    a.order(seen, 1);
    a.markAllSent([1, 2, 3]);
    expect(seen.map((e) => a.age(e.id))).toEqual([0, 0, 0, 0]);
    a.order(seen, 1);
    expect(seen.map((e) => a.age(e.id))).toEqual([1, 1, 1, 1]);
    // 4 was not visible in the step before (not listed): its priority starts from zero too.
    expect(a.priority(4)).toBe(1);
    // Leaving the visible set forgets an entity.
    a.order(seen.slice(0, 3), 1);
    a.order(seen, 1);
    expect(a.age(4)).toBe(1);
    a.clear();
    expect(seen.map((e) => a.age(e.id))).toEqual([0, 0, 0, 0]);
  });
});

describe('entitiesPerSnapshot and refreshBound', () => {
  it('the documented figures: K = 130 at 512 players in 1024 bytes, refresh within 8 snapshots', () => {
    expect(entitiesPerSnapshot(STANDARD_FORMAT, 1024, 511)).toBe(130);
    expect(refreshBound(STANDARD_FORMAT, 1024, 511)).toBe(FORCE_AFTER + Math.ceil(511 / 130));
    expect(refreshBound(STANDARD_FORMAT, 1024, 511)).toBe(8);
    expect(refreshBound(STANDARD_FORMAT, 1024, 0)).toBe(1);
    expect(refreshBound(STANDARD_FORMAT, 20, 10)).toBe(Number.POSITIVE_INFINITY);
  });
});
