import { describe, expect, it } from 'vitest';
import { seededRandom, snapshotAgeMs } from '../../../server/bots/bot-fleet.js';

describe('bot fleet helpers', () => {
  it('snapshot age works across the 2^32 ms wrap of the wire clock', () => {
    const M = 2 ** 32;
    const now = 1_763_000_000_123; // an epoch ms value
    expect(snapshotAgeMs(now, (now - 40) % M)).toBe(40);
    // Server stamped just before a wrap, client reads just after it.
    const after = 5 * M + 10;
    expect(snapshotAgeMs(after, M - 20)).toBe(30);
    // A client clock slightly behind the server's gives a small negative age, not 2^32.
    expect(snapshotAgeMs(now, (now + 3) % M)).toBe(-3);
  });

  it('seeded random repeats for a seed and stays in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
    expect(seededRandom(43)()).not.toBe(seededRandom(42)());
  });
});
