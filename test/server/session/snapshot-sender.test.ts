import { describe, expect, it } from 'vitest';
import type { WorldFrame } from '../../../server/rooms/types.js';
import { IMPLICIT_ACK_LEAD_LIMIT, SHARE_CELL_SIZE, SnapshotSender } from '../../../server/session/snapshot-sender.js';
import { SnapshotHistory, decodeSnapshot, withLastInputSeq, type DecodedSnapshot } from '../../../shared/snapshot/index.js';

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
  it('encode hands out a shared encoding untouched with the stamp to write: stamped, it is what build sends', () => {
    const f1 = frame(1);
    const inCell = f1.entities.filter((e) => e.x < SHARE_CELL_SIZE && e.y < SHARE_CELL_SIZE).map((e) => e.id).slice(0, 3);
    const pairs = inCell.map((entityId) => ({ entityId, encoding: new SnapshotSender(() => 1024), building: new SnapshotSender(() => 1024) }));
    let shared = 0;
    for (let id = 1; id <= 3; id++) {
      const f = frame(id);
      pairs.forEach((p, k) => {
        const seq = id === 3 ? 2 ** 32 + k : 100 + k; // the stamp is the u32 of the seq
        const built = p.building.build(f, p.entityId, seq)!.slice();
        const bytes = p.encoding.encode(f, p.entityId, seq)!;
        const copy = bytes.slice();
        if (p.encoding.stamp >= 0) {
          shared++;
          expect(p.encoding.stamp).toBe(seq % 2 ** 32);
          expect(withLastInputSeq(bytes, seq)).toEqual(built);
          expect(bytes).toEqual(copy); // not written by the stamp
        } else {
          expect(bytes).toEqual(built);
        }
        p.encoding.ack(id);
        p.building.ack(id);
      });
    }
    expect(shared).toBeGreaterThan(0);
  });

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

describe('SnapshotSender: committed snapshots as implicit acks', () => {
  /** One client that decodes everything it is sent; returns the baseline id of each snapshot. */
  function client(sender: SnapshotSender, entityId = 1) {
    const history = new SnapshotHistory<DecodedSnapshot>();
    return (id: number, opts: { commit: boolean }) => {
      const bytes = sender.build(frame(id), entityId, id);
      expect(bytes).not.toBeNull();
      const dec = decodeSnapshot(bytes!, (b) => history.get(b));
      if (!dec.ok) throw new Error(dec.detail);
      history.put(dec.snapshot);
      if (opts.commit) sender.committed(id);
      return dec.snapshot.baselineId;
    };
  }

  it('a committed snapshot is the next baseline before any ack arrives', () => {
    const sender = new SnapshotSender(() => 1199);
    const next = client(sender);
    expect(next(1, { commit: true })).toBe(0); // full: nothing held yet
    expect(next(2, { commit: true })).toBe(1);
    expect(next(3, { commit: true })).toBe(2);
    // An older ack changes nothing: the committed one is newer.
    sender.ack(2);
    expect(next(4, { commit: true })).toBe(3);
  });

  it('without commits only acks count (datagrams may be lost)', () => {
    const sender = new SnapshotSender(() => 1199);
    const next = client(sender);
    expect(next(1, { commit: false })).toBe(0);
    expect(next(2, { commit: false })).toBe(0);
    sender.ack(2);
    expect(next(3, { commit: false })).toBe(2);
  });

  it(`past ${IMPLICIT_ACK_LEAD_LIMIT} commits without an ack it falls back to the acked baseline, and an ack restores it`, () => {
    const sender = new SnapshotSender(() => 1199);
    const next = client(sender);
    next(1, { commit: true });
    sender.ack(1);
    const bases: number[] = [];
    for (let id = 2; id <= IMPLICIT_ACK_LEAD_LIMIT + 4; id++) bases.push(next(id, { commit: true }));
    // Snapshots 2..LIMIT+1 build on the previous one (the LIMIT commits since the ack), after
    // that on the last acked snapshot, 1.
    expect(bases.slice(0, IMPLICIT_ACK_LEAD_LIMIT)).toEqual(Array.from({ length: IMPLICIT_ACK_LEAD_LIMIT }, (_, k) => k + 1));
    expect(bases.slice(IMPLICIT_ACK_LEAD_LIMIT + 1)).toEqual([1, 1]);
    const last = IMPLICIT_ACK_LEAD_LIMIT + 4;
    sender.ack(last);
    expect(next(last + 1, { commit: true })).toBe(last);
    expect(next(last + 2, { commit: true })).toBe(last + 1);
  });

  it('members of a cell that commit every snapshot share encodings even when their acks come late', () => {
    const f1 = frame(1);
    const inCell = f1.entities.filter((e) => e.x < SHARE_CELL_SIZE && e.y < SHARE_CELL_SIZE).map((e) => e.id).slice(0, 6);
    const members = inCell.map((entityId) => ({ entityId, sender: new SnapshotSender(() => 1199), history: new SnapshotHistory<DecodedSnapshot>() }));
    for (let id = 1; id <= 8; id++) {
      const f = frame(id); // one frame per tick: its encode cache is what members share
      members.forEach((m, k) => {
        const bytes = m.sender.build(f, m.entityId, id);
        const dec = decodeSnapshot(bytes!, (b) => m.history.get(b));
        if (!dec.ok) throw new Error(dec.detail);
        m.history.put(dec.snapshot);
        m.sender.committed(id);
        // Acks arrive one, two or three snapshots late depending on the member.
        if (id > 1 + (k % 3)) m.sender.ack(id - 1 - (k % 3));
      });
    }
    // One encoding per tick (the first tick's full snapshot included), shared by the other five.
    expect(members.reduce((a, m) => a + m.sender.stats.encoded, 0)).toBe(8);
  });
});
