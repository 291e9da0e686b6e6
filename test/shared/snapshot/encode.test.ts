// encodeSnapshot as the orchestrator: which selection runs when, who is told what, the fallback
// to a full snapshot. The wire itself is covered by codec.test.ts and write.test.ts.
import { describe, expect, it } from 'vitest';
import { decodeSnapshot } from '../../../shared/snapshot/decode.js';
import { encodeSnapshot, type SnapshotEncodeResult, type SnapshotInput } from '../../../shared/snapshot/encode.js';
import { snapshotFormat } from '../../../shared/snapshot/format.js';
import { prepareEntities } from '../../../shared/snapshot/prepare.js';
import { PriorityAccumulator } from '../../../shared/snapshot/priority.js';
import { makeView } from './make-view.js';

const ok = (r: SnapshotEncodeResult) => {
  if (!r.ok) throw new Error(r.detail);
  return r;
};
// 40 entities spread over the world, ids 1..40.
const ents = Array.from({ length: 40 }, (_, i) => ({ id: i + 1, x: (i * 97) % 1000, y: (i * 211) % 1000, angle: i / 7 }));
const input = (extra: Partial<SnapshotInput> = {}): SnapshotInput => ({ snapshotId: 3, serverTick: 9, serverTime: 150, lastInputSeq: 2, entities: ents, ...extra });
const ages = (a: PriorityAccumulator) => ents.map((e) => a.age(e.id));
const TIGHT = 100; // bytes: about 15 entering entities

describe('encodeSnapshot', () => {
  it('everything fits: complete, every entity sent, the accumulator told so without being consulted', () => {
    const acc = new PriorityAccumulator();
    acc.order(ents);
    expect(ages(acc).every((x) => x === 1)).toBe(true);
    const r = ok(encodeSnapshot(input({ priority: acc, viewerId: 5 }), 1200));
    expect(r.complete).toBe(true);
    expect(r.sent).toEqual(ents.map((e) => e.id));
    expect(r.omitted).toEqual([]);
    expect(r.scheduleLast).toBeNull();
    expect(ages(acc).every((x) => x === 0)).toBe(true);
  });

  it('budget-bound with an accumulator: its order decides, and it learns what went', () => {
    const acc = new PriorityAccumulator();
    const twin = new PriorityAccumulator();
    const r = ok(encodeSnapshot(input({ priority: acc, viewerId: 30 }), TIGHT));
    expect(r.complete).toBe(false);
    expect(r.scheduleLast).toBeNull();
    expect(r.bytes.length).toBeLessThanOrEqual(TIGHT);
    expect(r.sent).toContain(30);
    // The sent ones reset, the rest one snapshot older.
    expect(ents.filter((e) => acc.age(e.id) === 0).map((e) => e.id)).toEqual(r.sent);
    expect(ents.filter((e) => acc.age(e.id) === 1).length).toBe(40 - r.sent.length);
    // The same order a fresh accumulator gives, taken greedily.
    const order = twin.order(ents, 30).map((j) => ents[j].id);
    expect(order.slice(0, r.sent.length).sort((a, b) => a - b)).toEqual(r.sent);
  });

  it('budget-bound without an accumulator: the viewer, then the lowest ids', () => {
    const r = ok(encodeSnapshot(input({ viewerId: 30 }), TIGHT));
    expect(r.sent).toEqual([...ents.slice(0, r.sent.length - 1).map((e) => e.id), 30].sort((a, b) => a - b));
  });

  it('budget-bound with a cell: the schedule decides, the next cursor comes back, an accumulator is left alone', () => {
    const acc = new PriorityAccumulator();
    acc.order(ents);
    const r = ok(encodeSnapshot(input({ priority: acc, cell: { x0: 0, y0: 0, x1: 1, y1: 1 }, scheduleAfter: 20 }), TIGHT));
    expect(r.complete).toBe(false);
    // Entity 1 sits at (0, 0), inside the cell; the round-robin starts after 20.
    expect(r.sent.slice(0, 3)).toEqual([1, 21, 22]);
    expect(r.sent.slice(1)).toEqual(r.sent.slice(1).map((_, k) => 21 + k));
    expect(r.scheduleLast).toBe(r.sent.at(-1));
    expect(ages(acc).every((x) => x === 1)).toBe(true);
  });

  it('a baseline whose codes alone overflow the budget gives way to a full snapshot of what fits', () => {
    const many = Array.from({ length: 4000 }, (_, i) => ({ id: i, x: 1, y: 1, angle: 0 }));
    const held = makeView(1, many.map((e) => ({ id: e.id, qx: 4, qy: 4, qa: 0 })));
    // 4000 baseline codes need 1000 bytes; the budget is 300.
    const r = ok(encodeSnapshot({ snapshotId: 2, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: many.slice(0, 100), baseline: held }, 300));
    expect(r.baselineId).toBe(0);
    expect(r.bytes.length).toBeLessThanOrEqual(300);
    expect(r.sent.length).toBeGreaterThan(10);
    const d = decodeSnapshot(r.bytes, () => undefined);
    expect(d.ok && d.snapshot.count).toBe(r.sent.length);
  });

  it('quantizes for the format given, also when handed entities prepared for another one', () => {
    const fmt = snapshotFormat(4000, 4000);
    const far = [{ id: 1, x: 3500, y: 3900, angle: 0 }];
    const r = ok(encodeSnapshot({ snapshotId: 1, serverTick: 0, serverTime: 0, lastInputSeq: 0, entities: prepareEntities(far), format: fmt }, 1200));
    const d = decodeSnapshot(r.bytes, () => undefined, fmt);
    expect(d.ok && d.snapshot.entities[0]).toMatchObject({ x: 3500, y: 3900 });
  });
});
