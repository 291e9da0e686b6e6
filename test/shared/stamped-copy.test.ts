import { describe, expect, it } from 'vitest';
import { STAMP_SLAB_BYTES, stampedCopy, writeU32BE } from '../../shared/stamped-copy.js';

describe('stampedCopy and writeU32BE', () => {
  it('writes the u32 big-endian at the offset of a copy; the original is untouched', () => {
    const msg = Uint8Array.from({ length: 12 }, (_, i) => i + 1);
    const out = stampedCopy(msg, 3, 0xa1b2c3d4);
    expect([...out]).toEqual([1, 2, 3, 0xa1, 0xb2, 0xc3, 0xd4, 8, 9, 10, 11, 12]);
    expect([...msg]).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const t = new Uint8Array(6);
    writeU32BE(t, 2, 1);
    expect([...t]).toEqual([0, 0, 0, 0, 0, 1]);
  });

  it('copies never overlap, across slabs', () => {
    const msg = new Uint8Array(300).fill(9);
    const copies = Array.from({ length: Math.ceil((3 * STAMP_SLAB_BYTES) / msg.length) }, (_, k) => stampedCopy(msg, 0, k));
    copies.forEach((c, k) => expect(new DataView(c.buffer, c.byteOffset).getUint32(0)).toBe(k));
  });
});
