import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../shared/random.js';
import {
  ADMISSION_HELLO_BURST, ADMISSION_HELLO_RATE, AdmissionControl, retryAfterSeconds,
} from '../../../server/cluster/admission.js';

describe('AdmissionControl', () => {
  it('admits a burst, then the sustained rate, and refuses with a retry time', () => {
    const admission = new AdmissionControl({ hello: { ratePerSecond: 10, burst: 3 } }, 0);
    expect([0, 0, 0].map(() => admission.admit('hello', 0).ok)).toEqual([true, true, true]);
    const refused = admission.admit('hello', 0);
    expect(refused).toEqual({ ok: false, retryAfterMs: 100 });
    expect(admission.admit('hello', 100).ok).toBe(true);
    expect(admission.stats('hello')).toEqual({ admitted: 4, refused: 1 });
    // The kinds are separate buckets.
    expect(admission.admit('connectInfo', 0).ok).toBe(true);
    expect(new AdmissionControl().limit('hello')).toEqual({ ratePerSecond: ADMISSION_HELLO_RATE, burst: ADMISSION_HELLO_BURST });
  });

  it('hands refused callers spread-out retry times, capped', () => {
    const admission = new AdmissionControl({ hello: { ratePerSecond: 100, burst: 1 }, maxRetryAfterMs: 500 }, 0);
    admission.admit('hello', 0);
    const times = Array.from({ length: 80 }, () => admission.admit('hello', 0)).map((a) => (a.ok ? -1 : a.retryAfterMs));
    expect(times.slice(0, 5)).toEqual([10, 20, 30, 40, 50]);
    expect(new Set(times.slice(0, 49)).size).toBe(49); // all different up to the cap
    expect(Math.max(...times)).toBe(500);
  });

  it('a storm of 300 clients after a drain: every one admitted, never more than the limit per second', () => {
    const rate = 50;
    const burst = 20;
    const admission = new AdmissionControl({ hello: { ratePerSecond: rate, burst } }, 0);
    const random = seededRandom(7);
    // Each client arrives within the drain's 1 s reconnect jitter and retries when told, plus up
    // to 10% jitter of its own. Event queue bounded: at most 300 * 50 attempts.
    const queue = Array.from({ length: 300 }, (_, i) => ({ client: i, at: random() * 1_000, tries: 0 }));
    const admittedAt: number[] = [];
    let attempts = 0;
    while (queue.length > 0 && attempts < 300 * 50) {
      queue.sort((a, b) => a.at - b.at);
      const next = queue.shift()!;
      attempts++;
      next.tries++;
      const result = admission.admit('hello', next.at);
      if (result.ok) admittedAt.push(next.at);
      else queue.push({ ...next, at: next.at + result.retryAfterMs * (1 + random() * 0.1) });
    }
    expect(admittedAt).toHaveLength(300);
    // Accepts per second stay within the limit (rate per second, plus the bucket's burst once).
    for (let t = 0; t < Math.max(...admittedAt); t += 100) {
      const inWindow = admittedAt.filter((x) => x >= t && x < t + 1_000).length;
      expect(inWindow).toBeLessThanOrEqual(rate + burst);
    }
    // The spread keeps wasted attempts low: on average under three tries per client.
    expect(attempts / 300).toBeLessThan(3);
    // And the storm drains at about the admission rate: (300 - burst) / rate seconds, plus jitter.
    expect(Math.max(...admittedAt)).toBeLessThan(((300 - burst) / rate) * 1_000 * 1.25);
  });

  it('refuses nonsense limits', () => {
    expect(() => new AdmissionControl({ hello: { ratePerSecond: 0 } })).toThrow(RangeError);
    expect(() => new AdmissionControl({ connectInfo: { burst: 0 } })).toThrow(RangeError);
  });
});

describe('retryAfterSeconds', () => {
  it('rounds up to whole seconds, at least 1', () => {
    expect(retryAfterSeconds(0)).toBe('1');
    expect(retryAfterSeconds(1)).toBe('1');
    expect(retryAfterSeconds(1_000)).toBe('1');
    expect(retryAfterSeconds(1_001)).toBe('2');
    expect(retryAfterSeconds(9_500)).toBe('10');
  });
});
