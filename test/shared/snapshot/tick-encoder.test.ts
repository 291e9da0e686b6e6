import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PriorityAccumulator, SnapshotTickEncoder, decodeSnapshot, encodeSnapshot, type SnapshotEncodeResult, type SnapshotView,
  type TickEncodeResult,
} from '../../../shared/snapshot/index.js';
import { Scene } from './scene.js';

function ok<T extends SnapshotEncodeResult | TickEncodeResult>(r: T): Extract<T, { ok: true }> {
  if (!r.ok) throw new Error(r.detail);
  return r as Extract<T, { ok: true }>;
}

describe('SnapshotTickEncoder', () => {
  it('encodes once per distinct complete baseline and gives each client its own input seq', () => {
    const scene = new Scene({ players: 30, seed: 1 });
    const t1 = new SnapshotTickEncoder({ snapshotId: 1, serverTick: 3, serverTime: 50, entities: scene.entities() });
    const full = [1, 2, 3].map((seq) => ok(t1.encodeFor({ baseline: null, lastInputSeq: seq, budgetBytes: 1200, priority: new PriorityAccumulator() })));
    expect(t1.encodes).toBe(1);
    expect(t1.reused).toBe(2);
    expect(full.map((r) => r.bytes[4])).toEqual([1, 2, 3]);
    expect(full[1].bytes.subarray(5)).toEqual(full[0].bytes.subarray(5));
    scene.advance();
    const t2 = new SnapshotTickEncoder({ snapshotId: 2, serverTick: 6, serverTime: 100, entities: scene.entities() });
    const a = ok(t2.encodeFor({ baseline: full[0].view, lastInputSeq: 7, budgetBytes: 1200 }));
    const b = ok(t2.encodeFor({ baseline: full[1].view, lastInputSeq: 8, budgetBytes: 1200 })); // same id, complete
    const c = ok(t2.encodeFor({ baseline: null, lastInputSeq: 9, budgetBytes: 1200 }));
    expect([t2.encodes, t2.reused]).toEqual([2, 1]);
    expect(b.bytes.subarray(5)).toEqual(a.bytes.subarray(5));
    // Shared bytes are exactly what a client-specific encoding would have produced.
    const own = ok(encodeSnapshot({ snapshotId: 2, serverTick: 6, serverTime: 100, lastInputSeq: 8, entities: scene.entities(), baseline: full[1].view }, 1200));
    expect(b.bytes).toEqual(own.bytes);
    expect(decodeSnapshot(c.bytes, () => undefined).ok).toBe(true);
    expect(decodeSnapshot(b.bytes, (id) => (id === 1 ? full[1].view : undefined)).ok).toBe(true);
  });

  it('a viewer without an entity (a spectator) takes the cell of its position: shares with that cell\'s players only', () => {
    const scene = new Scene({ players: 512, seed: 4 });
    const ents = scene.entities();
    const cellSize = 250;
    const tick = new SnapshotTickEncoder({ snapshotId: 1, serverTick: 1, serverTime: 1, entities: ents, cellSize, cellCursors: new Map() });
    // A player alone enough in its cell that the cell is shared (not crowded).
    const player = ents.find((e) => e.id === scene.viewerId)!;
    const p = ok(tick.encodeFor({ baseline: null, lastInputSeq: 1, viewerId: player.id, budgetBytes: 1199 }));
    expect(p.complete).toBe(false); // 512 players: the budget binds
    // A spectator (no entity, no viewer id) looking at the same cell gets the same bytes.
    const here = { x: Math.floor(player.x / cellSize) * cellSize + 1, y: Math.floor(player.y / cellSize) * cellSize + 1 };
    const s = ok(tick.encodeFor({ baseline: null, lastInputSeq: 0, viewerPosition: here, budgetBytes: 1199 }));
    expect(s.shared).toBe(true);
    expect(s.bytes.subarray(5)).toEqual(p.bytes.subarray(5));
    // Looking at another cell: another schedule.
    const there = { x: (here.x + 2 * cellSize) % 1000, y: (here.y + 2 * cellSize) % 1000 };
    const other = ok(tick.encodeFor({ baseline: null, lastInputSeq: 0, viewerPosition: there, budgetBytes: 1199 }));
    expect(other.shared).toBe(false);
    expect(decodeSnapshot(other.bytes, () => undefined).ok).toBe(true);
  });

  it('does not share when the budget binds or the baseline is incomplete', () => {
    const scene = new Scene({ players: 400, seed: 2 });
    const t1 = new SnapshotTickEncoder({ snapshotId: 1, serverTick: 1, serverTime: 1, entities: scene.entities() });
    const p1 = new PriorityAccumulator();
    const p2 = new PriorityAccumulator();
    const r1 = ok(t1.encodeFor({ baseline: null, lastInputSeq: 1, budgetBytes: 1024, viewerId: 0, priority: p1 }));
    const r2 = ok(t1.encodeFor({ baseline: null, lastInputSeq: 2, budgetBytes: 1024, viewerId: 5, priority: p2 }));
    expect(r1.complete).toBe(false);
    expect([t1.encodes, t1.reused]).toEqual([2, 0]);
    expect(r1.sent).toContain(0);
    expect(r2.sent).toContain(5);
    expect(r2.sent).not.toEqual(r1.sent); // each viewer's own priorities chose
    expect(r1.shared || r2.shared).toBe(false);
    const incomplete: SnapshotView = r1.view;
    expect(incomplete.complete).toBe(false);
    scene.advance();
    const t2 = new SnapshotTickEncoder({ snapshotId: 2, serverTick: 2, serverTime: 2, entities: scene.entities().slice(0, 20) });
    t2.encodeFor({ baseline: incomplete, lastInputSeq: 1, budgetBytes: 1200 });
    t2.encodeFor({ baseline: incomplete, lastInputSeq: 2, budgetBytes: 1200 });
    expect(t2.reused).toBe(0);
  });

  it('a shared result larger than a client budget is not handed to that client', () => {
    const scene = new Scene({ players: 100, seed: 3 });
    const t = new SnapshotTickEncoder({ snapshotId: 1, serverTick: 1, serverTime: 1, entities: scene.entities() });
    const big = ok(t.encodeFor({ baseline: null, lastInputSeq: 1, budgetBytes: 1200 }));
    expect(big.complete).toBe(true);
    const small = ok(t.encodeFor({ baseline: null, lastInputSeq: 1, budgetBytes: 200, priority: new PriorityAccumulator() }));
    expect(small.bytes.length).toBeLessThanOrEqual(200);
    expect(small.shared).toBe(false);
  });

  it('property: a shared encoding is byte for byte what the client would have got on its own', () => {
    let sharedSeen = 0;
    fc.assert(fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 150, max: 1200 }), fc.integer(), (players, budget, seed) => {
      const scene = new Scene({ players, seed, churn: 0.02, idle: 0.3 });
      const views: SnapshotView[] = [];
      for (let s = 1; s <= 6; s++) {
        scene.advance();
        const tick = new SnapshotTickEncoder({ snapshotId: s, serverTick: s, serverTime: s * 50, entities: scene.entities() });
        // Three clients: one with no baseline, two acking the previous snapshot (or older).
        const clients = [null, views[s - 2] ?? null, views[s - 3] ?? null, views[s - 2] ?? null];
        clients.forEach((baseline, c) => {
          const got = ok(tick.encodeFor({ baseline, lastInputSeq: 100 + c, budgetBytes: budget }));
          const alone = ok(encodeSnapshot({ snapshotId: s, serverTick: s, serverTime: s * 50, lastInputSeq: 100 + c, entities: scene.entities(), baseline }, budget));
          if (got.shared) {
            sharedSeen++;
            expect(got.bytes).toEqual(alone.bytes);
          }
          expect(got.bytes.length).toBeLessThanOrEqual(budget);
          if (c === 1) views[s - 1] = got.view;
        });
      }
    }), { numRuns: 40 });
    expect(sharedSeen).toBeGreaterThan(40);
  });
});
