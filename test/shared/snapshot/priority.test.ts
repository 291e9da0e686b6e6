import fc from 'fast-check';
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

  it('markAllSent: every entity starts again from zero; entities not seen in a step start again from zero', () => {
    const a = new PriorityAccumulator();
    a.order(seen, 1);
    a.order(seen, 1);
    a.markAllSent();
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

/**
 * The accumulator as it was before markAllSent became O(1): it zeroed the listed ids and stamped
 * them with the new step. Kept here as the model the O(1) version must not be told apart from.
 */
class ZeroingAccumulator {
  private prio = new Map<number, number>();
  private ages = new Map<number, number>();
  private seen = new Map<number, number>();
  private step = 1;
  constructor(private readonly inner = new PriorityAccumulator()) {}
  age(id: number): number {
    return this.seen.get(id) === this.step ? this.ages.get(id)! : 0;
  }
  priority(id: number): number {
    return this.seen.get(id) === this.step ? this.prio.get(id)! : 0;
  }
  order(visible: readonly { id: number; x: number; y: number }[], viewerId?: number): void {
    const prevStep = this.step;
    const step = ++this.step;
    const viewer = visible.find((e) => e.id === viewerId);
    const r = this.inner.nearRadius;
    for (const e of visible) {
      if (this.seen.get(e.id) !== prevStep) {
        this.prio.set(e.id, 0);
        this.ages.set(e.id, 0);
      }
      this.seen.set(e.id, step);
      let w = 1;
      if (viewer) {
        const d2 = (e.x - viewer.x) ** 2 + (e.y - viewer.y) ** 2;
        if (d2 < r * r) w += (this.inner.nearWeight - 1) * (1 - Math.sqrt(d2) / r);
      }
      if (!(w >= 1)) w = 1;
      this.prio.set(e.id, this.prio.get(e.id)! + w);
      this.ages.set(e.id, this.ages.get(e.id)! + 1);
    }
  }
  markSent(id: number): void {
    this.prio.set(id, 0);
    this.ages.set(id, 0);
    this.seen.set(id, this.step);
  }
  markAllSent(ids: readonly number[]): void {
    const step = ++this.step;
    for (const id of ids) {
      this.prio.set(id, 0);
      this.ages.set(id, 0);
      this.seen.set(id, step);
    }
  }
  clear(): void {
    this.step += 2;
  }
}

describe('markAllSent in O(1) against the zeroing model', () => {
  const IDS = 12;
  const entity = fc.record({ id: fc.integer({ min: 0, max: IDS - 1 }), x: fc.integer({ min: 0, max: 600 }), y: fc.integer({ min: 0, max: 600 }) });
  const op = fc.oneof(
    fc.record({ kind: fc.constant('order' as const), visible: fc.uniqueArray(entity, { selector: (e) => e.id, maxLength: IDS }), viewer: fc.integer({ min: -1, max: IDS - 1 }) }),
    fc.record({ kind: fc.constant('markSent' as const), id: fc.integer({ min: 0, max: IDS - 1 }) }),
    fc.record({ kind: fc.constant('markAllSent' as const), ids: fc.uniqueArray(fc.integer({ min: 0, max: IDS - 1 }), { maxLength: IDS }) }),
    fc.record({ kind: fc.constant('clear' as const) }),
  );

  // `order` reads nothing but each visible entity's age and priority before the step (an entity
  // not current starts from zero, which is what age() and priority() report), so equal ages and
  // priorities before every step mean equal sending orders.
  it('ages and priorities agree after any sequence of steps', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const real = new PriorityAccumulator();
      const model = new ZeroingAccumulator();
      for (const o of ops) {
        if (o.kind === 'order') {
          const viewer = o.viewer >= 0 ? o.viewer : undefined;
          const before = o.visible.map((e) => [real.age(e.id), real.priority(e.id)]);
          expect(before).toEqual(o.visible.map((e) => [model.age(e.id), model.priority(e.id)]));
          real.order(o.visible, viewer);
          model.order(o.visible, viewer);
        } else if (o.kind === 'markSent') {
          real.markSent(o.id);
          model.markSent(o.id);
        } else if (o.kind === 'markAllSent') {
          real.markAllSent();
          model.markAllSent(o.ids);
        } else {
          real.clear();
          model.clear();
        }
        for (let id = 0; id < IDS; id++) {
          expect(real.age(id)).toBe(model.age(id));
          expect(real.priority(id)).toBe(model.priority(id));
        }
      }
    }), { numRuns: 300 });
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
