import { describe, expect, it } from 'vitest';
import { SNAPSHOT_MESSAGE_ID } from '../../../shared/messages.js';
import { decodeSnapshot } from '../../../shared/snapshot/decode.js';
import { planSnapshot, selectAll, type Plan } from '../../../shared/snapshot/plan.js';
import { SNAPSHOT_PREFIX_BYTES, u32, withLastInputSeq, writeSnapshot } from '../../../shared/snapshot/write.js';
import { makeView, preparedFrom } from './make-view.js';

// The layout of docs/protocol.md ("Layout") spelled out bit by bit.
const bits = (v: number, n: number): string => (n === 0 ? '' : (v >>> 0).toString(2).padStart(n, '0').slice(-n));
const eg = (v: number): string => {
  const n = Math.floor(Math.log2(v + 1));
  return '0'.repeat(n) + bits(v + 1, n + 1);
};
function message(seq: number, stream: string): number[] {
  const padded = stream.padEnd(Math.ceil(stream.length / 8) * 8, '0');
  const out = [SNAPSHOT_MESSAGE_ID, (seq >>> 24) & 255, (seq >>> 16) & 255, (seq >>> 8) & 255, seq & 255];
  for (let i = 0; i < padded.length; i += 8) out.push(parseInt(padded.slice(i, i + 8), 2));
  return out;
}
const plan = (p: Plan | null): Plan => {
  if (!p) throw new Error('no plan');
  return p;
};

describe('writeSnapshot', () => {
  it('full snapshot: header, enter count and entered entities exactly as the layout says', () => {
    const prep = preparedFrom([{ id: 0, qx: 5, qy: 6, qa: 7 }, { id: 1, qx: 4000, qy: 0, qa: 255 }, { id: 300, qx: 8, qy: 9, qa: 10 }]);
    const p = plan(planSnapshot(prep, null, 1, 1200 * 8));
    selectAll(p);
    const bytes = writeSnapshot(p, prep, { snapshotId: 1, serverTick: 2, serverTime: 3, lastInputSeq: 4 }, 1200);
    const stream = bits(1, 32) + eg(0) + bits(2, 32) + bits(3, 32)
      + eg(3)
      + '1' + bits(5, 12) + bits(6, 12) + bits(7, 8) // id 0 follows -1
      + '1' + bits(4000, 12) + bits(0, 12) + bits(255, 8) // id 1 follows 0
      + '0' + bits(300, 16) + bits(8, 12) + bits(9, 12) + bits(10, 8);
    expect([...bytes]).toEqual(message(4, stream));
  });

  it('delta snapshot: width field, one code per baseline entity in id order, then the entered ones', () => {
    const base = makeView(10, [
      { id: 1, qx: 100, qy: 100, qa: 5 }, { id: 2, qx: 200, qy: 200, qa: 5 }, { id: 3, qx: 300, qy: 300, qa: 5 },
      { id: 4, qx: 400, qy: 400, qa: 5 }, { id: 6, qx: 600, qy: 600, qa: 7 },
    ]);
    const prep = preparedFrom([
      { id: 1, qx: 100, qy: 100, qa: 5 }, { id: 2, qx: 210, qy: 197, qa: 5 }, { id: 3, qx: 2300, qy: 300, qa: 9 },
      { id: 5, qx: 1, qy: 1, qa: 1 }, { id: 6, qx: 601, qy: 601, qa: 7 }, { id: 7, qx: 2, qy: 2, qa: 2 },
    ]);
    const p = plan(planSnapshot(prep, base, 12, 1200 * 8));
    selectAll(p);
    p.selected[4] = 0; // id 6 is not refreshed this time
    const bytes = writeSnapshot(p, prep, { snapshotId: 12, serverTick: 2 ** 32 + 7, serverTime: 99.9, lastInputSeq: -1 }, 1200);
    const stream = bits(12, 32) + eg(2) + bits(7, 32) + bits(99, 32)
      + bits(5 - 3, 3) // width 5
      + '110' // 1 unchanged
      + '0' + '0' + bits(10, 5) + bits(-3 & 31, 5) + '0' // 2: short delta, same angle
      + '0' + '1' + bits(2300, 12) + bits(300, 12) + '1' + bits(9, 8) // 3: long form, new angle
      + '111' // 4 left
      + '10' // 6 omitted
      + eg(2)
      + '0' + bits(5, 16) + bits(1, 12) + bits(1, 12) + bits(1, 8)
      + '0' + bits(7, 16) + bits(2, 12) + bits(2, 12) + bits(2, 8);
    expect([...bytes]).toEqual(message(2 ** 32 - 1, stream));
    // And the decoder reads it back (the writer is the decoder's mirror).
    const d = decodeSnapshot(bytes, (id) => (id === 10 ? base : undefined));
    if (!d.ok) throw new Error(d.detail);
    expect([...d.snapshot.ids]).toEqual([1, 2, 3, 5, 6, 7]);
    expect([...d.snapshot.qx]).toEqual([100, 210, 2300, 1, 600, 2]);
    expect(d.snapshot.omitted).toEqual([6]);
    expect(d.snapshot.lastInputSeq).toBe(2 ** 32 - 1);
  });

  it('returns a copy: writing the next snapshot leaves the previous bytes alone', () => {
    const prep = preparedFrom([{ id: 0, qx: 5, qy: 6, qa: 7 }]);
    const p = plan(planSnapshot(prep, null, 1, 1200 * 8));
    selectAll(p);
    const a = writeSnapshot(p, prep, { snapshotId: 1, serverTick: 0, serverTime: 0, lastInputSeq: 0 }, 1200);
    const copy = [...a];
    writeSnapshot(p, prep, { snapshotId: 2, serverTick: 9, serverTime: 9, lastInputSeq: 9 }, 1200);
    expect([...a]).toEqual(copy);
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(a.length);
  });
});

describe('withLastInputSeq and u32', () => {
  it('stamps bytes 1-4 big-endian on a copy and leaves the rest and the original alone', () => {
    const msg = Uint8Array.from([SNAPSHOT_MESSAGE_ID, 0, 0, 0, 0, 0xaa, 0xbb]);
    const out = withLastInputSeq(msg, 0x01020304);
    expect([...out]).toEqual([SNAPSHOT_MESSAGE_ID, 1, 2, 3, 4, 0xaa, 0xbb]);
    expect([...msg]).toEqual([SNAPSHOT_MESSAGE_ID, 0, 0, 0, 0, 0xaa, 0xbb]);
    expect([...withLastInputSeq(msg, 2 ** 32 + 1).subarray(1, SNAPSHOT_PREFIX_BYTES)]).toEqual([0, 0, 0, 1]);
  });

  it('u32 is floor modulo 2^32, non-finite as 0', () => {
    expect([u32(5.9), u32(-1), u32(2 ** 32), u32(2 ** 40 + 3), u32(Number.NaN), u32(Number.POSITIVE_INFINITY)]).toEqual([5, 2 ** 32 - 1, 0, 3, 0, 0]);
  });
});
