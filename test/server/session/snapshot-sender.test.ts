import { describe, expect, it } from 'vitest';
import type { WorldFrame } from '../../../server/rooms/types.js';
import { SHARE_CELL_SIZE, SnapshotSender } from '../../../server/session/snapshot-sender.js';
import { SnapshotHistory, decodeSnapshot, type DecodedSnapshot } from '../../../shared/snapshot/index.js';

const world = { width: 1000, height: 1000 };
/** The room's encoder state, the same object every frame (as Room hands it over). */
const encodeState = new Map<string, unknown>();

/** 500 entities spread over the world, deterministic: the budget binds. */
function frame(id: number): WorldFrame {
  const entities = Array.from({ length: 500 }, (_, k) => ({
    id: k + 1, x: (k * 37 + id * 3) % 1000, y: (k * 91 + id * 5) % 1000, angle: (k * id) % 6,
  }));
  return { roomId: 'r', snapshotId: id, tick: id * 3, time: id * 50, world, entities, encodeCache: new Map(), encodeState };
}

describe('SnapshotSender: budget-bound snapshots shared by cell', () => {
  it('members in one cell acking the same snapshot share one encoding; each decodes it with its own input seq', () => {
    const f1 = frame(1);
    const inCell = f1.entities.filter((e) => e.x < SHARE_CELL_SIZE && e.y < SHARE_CELL_SIZE).map((e) => e.id).slice(0, 4);
    expect(inCell.length).toBe(4);
    const members = inCell.map((entityId) => ({ entityId, sender: new SnapshotSender(() => 1024), history: new SnapshotHistory<DecodedSnapshot>() }));
    for (let id = 1; id <= 3; id++) {
      const f = frame(id);
      members.forEach((m, k) => {
        const bytes = m.sender.build(f, m.entityId, 100 + k);
        expect(bytes).not.toBeNull();
        expect(bytes!.length).toBeLessThanOrEqual(1024);
        const dec = decodeSnapshot(bytes!, (b) => m.history.get(b));
        if (!dec.ok) throw new Error(dec.detail);
        expect(dec.snapshot.lastInputSeq).toBe(100 + k);
        // The budget binds (not everyone entered, or some omitted), yet the own entity is fresh.
        expect(dec.snapshot.count < 500 || dec.snapshot.omitted.length > 0).toBe(true);
        expect(dec.snapshot.entities.map((e) => e.id)).toContain(m.entityId);
        expect(dec.snapshot.omitted).not.toContain(m.entityId);
        m.history.put(dec.snapshot);
        m.sender.ack(id);
      });
    }
    expect(members.reduce((a, m) => a + m.sender.stats.encoded, 0)).toBe(3); // one per tick
    expect(members.reduce((a, m) => a + m.sender.stats.shared, 0)).toBe(9);
    expect(members.every((m) => m.sender.stats.incomplete === 3)).toBe(true);
  });
});
