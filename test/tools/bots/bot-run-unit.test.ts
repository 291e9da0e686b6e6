import { describe, expect, it } from 'vitest';
import { snapshotAgeMs } from '../../../tools/bots/bot-run.js';

describe('bot run helpers', () => {
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
});
