/**
 * mulberry32: a small, fast, seeded PRNG so that anything driven by a seed (spawn points, bot
 * fleets, benches, tests) repeats exactly for that seed. Not for secrets.
 *
 * Returns a function yielding numbers in [0, 1). The sequence for a seed is part of the contract:
 * seeded tests and benches depend on it, so do not change the arithmetic.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
