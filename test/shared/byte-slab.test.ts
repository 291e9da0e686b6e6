import { describe, expect, it } from 'vitest';
import { ByteSlab } from '../../shared/byte-slab.js';

describe('ByteSlab', () => {
  it('hands out disjoint pieces that keep their contents, slab after slab', () => {
    const slab = new ByteSlab(1024);
    const pieces = Array.from({ length: 40 }, (_, k) => {
      const p = slab.take(100 + k);
      p.fill(k);
      return p;
    });
    pieces.forEach((p, k) => {
      expect(p.length).toBe(100 + k);
      expect(p.every((b) => b === k)).toBe(true);
    });
    const buffers = new Set(pieces.map((p) => p.buffer));
    expect(buffers.size).toBeGreaterThan(1);
    for (const b of buffers) expect(b.byteLength).toBe(1024);
  });

  it('gives a piece over a quarter slab a buffer of its own', () => {
    const slab = new ByteSlab(1024);
    const small = slab.take(256);
    const big = slab.take(257);
    expect(small.buffer.byteLength).toBe(1024);
    expect(big.buffer.byteLength).toBe(257);
    expect(big.byteOffset).toBe(0);
  });
});

describe('ByteSlab with an allocator', () => {
  it('cuts pieces of the allocator\'s kind', () => {
    class Tagged extends Uint8Array {}
    const slab = new ByteSlab(64, (n) => new Tagged(n));
    expect(slab.take(8)).toBeInstanceOf(Tagged);
    expect(slab.take(40)).toBeInstanceOf(Tagged);
  });
});
