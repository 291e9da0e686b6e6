import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ByteReader, ByteWriter, concatBytes } from '../../../../server/h3/wire/bytes.js';
import { ChunkQueue } from '../../../../server/h3/wire/chunk-queue.js';

describe('ByteWriter / ByteReader', () => {
  it('writes and reads varints, u8, u32 and raw bytes, growing as needed', () => {
    const w = new ByteWriter(1);
    w.varint(37).varint(15293).u8(0xab).u32(0xdeadbeef).bytes(new Uint8Array(100).fill(5)).varint(2n ** 62n - 1n);
    const b = w.finish();
    expect(b.length).toBe(w.length);
    const r = new ByteReader(b);
    expect(r.varint()?.value).toBe(37);
    expect(r.varint()?.value).toBe(15293);
    expect(r.u8()).toBe(0xab);
    expect(r.u32()).toBe(0xdeadbeef);
    expect(r.take(100)?.every((x) => x === 5)).toBe(true);
    expect(r.varint()?.big).toBe(2n ** 62n - 1n);
    expect(r.remaining).toBe(0);
    expect(r.u8()).toBeUndefined();
    expect(r.u32()).toBeUndefined();
    expect(r.varint()).toBeUndefined();
    expect(r.take(1)).toBeUndefined();
    expect(() => new ByteWriter().u32(2 ** 32)).toThrow(RangeError);
  });

  it('does not move the cursor on a short read', () => {
    const r = new ByteReader(Uint8Array.of(0x80, 1, 2));
    expect(r.varint()).toBeUndefined();
    expect(r.offset).toBe(0);
    expect(r.take(4)).toBeUndefined();
    expect(Array.from(r.rest())).toEqual([0x80, 1, 2]);
  });
});

describe('ChunkQueue', () => {
  it('reads across chunk boundaries the same as from one array (property)', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 10 }), { maxLength: 8 }), fc.array(fc.nat(12), { maxLength: 10 }), (chunks, reads) => {
      const q = new ChunkQueue();
      for (const c of chunks) q.push(c);
      const all = concatBytes(chunks);
      expect(q.available).toBe(all.length);
      let pos = 0;
      for (const n of reads) {
        const k = Math.min(n, q.available);
        expect(Array.from(q.peek(n))).toEqual(Array.from(all.subarray(pos, pos + Math.min(n, all.length - pos))));
        expect(Array.from(q.take(k))).toEqual(Array.from(all.subarray(pos, pos + k)));
        pos += k;
        expect(q.available).toBe(all.length - pos);
      }
      expect(Array.from(q.takeAll())).toEqual(Array.from(all.subarray(pos)));
      expect(q.available).toBe(0);
      expect(q.takeUpTo(5).length).toBe(0);
    }), { numRuns: 1000 });
  });
});
