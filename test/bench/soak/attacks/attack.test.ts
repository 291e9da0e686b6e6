/** The helpers every soak attack paces and bounds itself with (bench/soak/attacks/attack.ts). */
import { describe, expect, it } from 'vitest';
import { closeCodeWithin, holdPerSource, openOrCount, paced } from '../../../../bench/soak/attacks/attack.js';

function counter() {
  const counts: Record<string, number> = {};
  return { counts, count: (name: string, n = 1) => { counts[name] = (counts[name] ?? 0) + n; } };
}

describe('soak attack helpers', () => {
  it('holdPerSource keeps `perSource` slots per source and stops at `maxPerSource` holds per source', async () => {
    const held: string[] = [];
    let running = 0;
    let most = 0;
    await holdPerSource({ sources: ['a', 'b'], perSource: 3, maxPerSource: 7, reopenDelayMs: 1, until: Date.now() + 10_000 }, async (source, slot) => {
      running++;
      most = Math.max(most, running);
      held.push(`${source}${slot}`);
      await new Promise((r) => setTimeout(r, 2));
      running--;
    });
    expect(held.filter((h) => h.startsWith('a'))).toHaveLength(7);
    expect(held.filter((h) => h.startsWith('b'))).toHaveLength(7);
    expect(new Set(held.map((h) => h.slice(1)))).toEqual(new Set(['0', '1', '2']));
    expect(most).toBeLessThanOrEqual(6);
  });

  it('holdPerSource stops at `until`', async () => {
    let holds = 0;
    await holdPerSource({ sources: ['a'], perSource: 2, maxPerSource: 1_000_000, reopenDelayMs: 5, until: Date.now() + 100 }, async () => { holds++; });
    expect(holds).toBeGreaterThan(0);
    expect(holds).toBeLessThan(1_000);
  });

  it('openOrCount passes the value through, or counts the failure and gives null', async () => {
    const c = counter();
    expect(await openOrCount(c, 'open_failed', async () => 42)).toBe(42);
    expect(await openOrCount(c, 'open_failed', () => Promise.reject(new Error('refused')))).toBeNull();
    expect(c.counts).toEqual({ open_failed: 1 });
  });

  it('closeCodeWithin gives the close code in time, else -1', async () => {
    expect(await closeCodeWithin(Promise.resolve(4002), 1_000)).toBe(4002);
    expect(await closeCodeWithin(new Promise<number>(() => undefined), 20)).toBe(-1);
    expect(await closeCodeWithin(new Promise<number>(() => undefined), -5)).toBe(-1);
  });

  it('paced starts at most `max` ops, never more than `inFlight` at once', async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    await paced({ perSecond: 1_000, max: 25, until: Date.now() + 10_000, inFlight: 4, tickMs: 5 }, async (i) => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 3));
      running--;
    });
    expect(started).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(most).toBeLessThanOrEqual(4);
  });
});
