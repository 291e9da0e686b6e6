import { describe, expect, it } from 'vitest';
import { peekSnapshotId, RandomInputs } from '../../../tools/bots/light-client.js';
import { SNAPSHOT_MESSAGE_ID } from '../../../shared/messages.js';
import { MAX_INPUTS_PER_MESSAGE } from '../../../shared/limits.js';
import { encodeSnapshot } from '../../../shared/snapshot/index.js';

/** A snapshot message head per docs/protocol.md: id byte, u32 lastInputSeq, u32 snapshot id, ... */
function head(snapshotId: number, lastInputSeq = 7): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  b[0] = SNAPSHOT_MESSAGE_ID;
  v.setUint32(1, lastInputSeq);
  v.setUint32(5, snapshotId);
  return b;
}

describe('peekSnapshotId', () => {
  it('reads the big-endian snapshot id after the lastInputSeq', () => {
    expect(peekSnapshotId(head(1))).toBe(1);
    expect(peekSnapshotId(head(0x01020304))).toBe(0x01020304);
    expect(peekSnapshotId(head(0xffffffff))).toBe(0xffffffff);
  });

  it('is 0 for anything that is not a snapshot', () => {
    const wrongType = head(5);
    wrongType[0] = 32;
    expect(peekSnapshotId(wrongType)).toBe(0);
    expect(peekSnapshotId(head(5).subarray(0, 8))).toBe(0);
    expect(peekSnapshotId(new Uint8Array(0))).toBe(0);
  });
});

describe('RandomInputs', () => {
  it('keeps the newest MAX_INPUTS_PER_MESSAGE directions, newest first, each in [-1, 1]', () => {
    const values = [0, 1, 0.5, 0.75, 0.25, 0.5, 0.9, 0.1, 0.3, 0.3];
    let i = 0;
    const r = new RandomInputs(() => values[i++ % values.length]);
    expect(r.next()).toEqual([[-1, 1]]);
    expect(r.next()).toEqual([[0, 0.5], [-1, 1]]);
    r.next();
    r.next();
    const fifth = r.next();
    expect(fifth).toHaveLength(MAX_INPUTS_PER_MESSAGE);
    expect(fifth[0][0]).toBeCloseTo(-0.4); // the fifth pair of draws: 0.3, 0.3
    expect(fifth[0][1]).toBeCloseTo(-0.4);
    expect(fifth[MAX_INPUTS_PER_MESSAGE - 1]).toEqual([0, 0.5]);
    for (const [dx, dy] of fifth) {
      expect(Math.abs(dx)).toBeLessThanOrEqual(1);
      expect(Math.abs(dy)).toBeLessThanOrEqual(1);
    }
  });
});

describe('peekSnapshotId against the real snapshot encoder', () => {
  it('reads the id encodeSnapshot wrote, full and delta', () => {
    const entities = [{ id: 1, x: 10, y: 20, angle: 0.5 }, { id: 2, x: 500, y: 600, angle: -1 }];
    const full = encodeSnapshot({ snapshotId: 41, serverTick: 120, serverTime: 1_763_800_000_000, lastInputSeq: 9, entities }, 1200);
    expect(full.ok).toBe(true);
    if (!full.ok) return;
    expect(peekSnapshotId(full.bytes)).toBe(41);
    const moved = entities.map((e) => ({ ...e, x: e.x + 5 }));
    const delta = encodeSnapshot({ snapshotId: 0xfedcba98, serverTick: 123, serverTime: 1_763_800_000_050, lastInputSeq: 10, entities: moved, baseline: full.view }, 1200);
    expect(delta.ok).toBe(true);
    if (delta.ok) expect(peekSnapshotId(delta.bytes)).toBe(0xfedcba98);
  });
});
