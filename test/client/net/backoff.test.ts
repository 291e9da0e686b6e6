import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  backoffWindowMs,
  DEFAULT_RECONNECT_POLICY,
  resolveReconnectPolicy,
} from '../../../client/net/backoff.js';

describe('backoff (exponential, full jitter)', () => {
  const policy = { baseMs: 100, maxMs: 2_000, maxAttempts: 10 };

  it('doubles the window per attempt up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 40, 2000].map((a) => backoffWindowMs(policy, a))).toEqual([
      100, 200, 400, 800, 1600, 2000, 2000, 2000, 2000,
    ]);
  });

  it('scales the window by random() (full jitter), never exceeding it', () => {
    const seq = [0, 0.5, 0.999, 0.25];
    let i = 0;
    const random = () => seq[i++];
    expect([0, 1, 2, 3].map((a) => backoffDelayMs(policy, a, random))).toEqual([0, 100, 399, 200]);
  });

  it('treats a broken random source as 0 rather than producing NaN or overflow', () => {
    expect(backoffDelayMs(policy, 2, () => Number.NaN)).toBe(0);
    expect(backoffDelayMs(policy, 2, () => 1)).toBe(0);
    expect(backoffDelayMs(policy, 2, () => -3)).toBe(0);
  });

  it('merges partial policies over the defaults and rejects nonsense', () => {
    expect(resolveReconnectPolicy({ baseMs: 10 })).toEqual({ ...DEFAULT_RECONNECT_POLICY, baseMs: 10 });
    expect(() => resolveReconnectPolicy({ baseMs: 100, maxMs: 50 })).toThrow(RangeError);
    expect(() => resolveReconnectPolicy({ maxAttempts: -1 })).toThrow(RangeError);
    expect(resolveReconnectPolicy({ maxAttempts: Infinity }).maxAttempts).toBe(Infinity);
  });
});
