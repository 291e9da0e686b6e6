import { describe, expect, it } from 'vitest';
import { ConnectionTimers, type TimedEntry } from '../../../../server/h3/quic/connection-timers.js';

interface Entry extends TimedEntry {
  name: string;
}

function entry(name: string): Entry {
  return { name, timerDeadline: 0, timerSlot: -1 };
}

/** Resolves once `n` entries fired (or rejects after `ms`). */
function firings(timers: { fired: string[] }, n: number, ms = 2000): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const poll = (): void => {
      if (timers.fired.length >= n) resolve();
      else if (Date.now() - start > ms) reject(new Error(`only ${timers.fired.length} of ${n} fired`));
      else setTimeout(poll, 2);
    };
    poll();
  });
}

describe('ConnectionTimers (one Node timer for every connection\'s deadline)', () => {
  it('fires each entry once, in deadline order, at or after its deadline', async () => {
    const log = { fired: [] as string[] };
    const firedAt = new Map<string, number>();
    const t = new ConnectionTimers<Entry>((e) => {
      log.fired.push(e.name);
      firedAt.set(e.name, performance.now());
    });
    const now = performance.now();
    const a = entry('a');
    const b = entry('b');
    const c = entry('c');
    t.set(c, now + 30);
    t.set(a, now + 10);
    t.set(b, now + 20);
    expect(t.size).toBe(3);
    await firings(log, 3);
    expect(log.fired).toEqual(['a', 'b', 'c']);
    // Node's timers have millisecond resolution: due means within a millisecond of the deadline.
    expect(firedAt.get('a')!).toBeGreaterThanOrEqual(now + 10 - 1);
    expect(firedAt.get('c')!).toBeGreaterThanOrEqual(now + 30 - 1);
    expect(t.size).toBe(0);
    expect(a.timerSlot).toBe(-1);
  });

  it('moves a deadline later or earlier (one entry per connection) and forgets cleared ones', async () => {
    const log = { fired: [] as string[] };
    const t = new ConnectionTimers<Entry>((e) => log.fired.push(e.name));
    const now = performance.now();
    const a = entry('a');
    const b = entry('b');
    const c = entry('c');
    t.set(a, now + 5);
    t.set(b, now + 15);
    t.set(c, now + 25);
    t.set(a, now + 35); // later: after c (an ACK moved the loss timer back to the idle timeout)
    t.set(c, now + 8); // earlier: first now
    t.clear(b);
    t.clear(b); // idempotent
    expect(t.size).toBe(2);
    await firings(log, 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(log.fired).toEqual(['c', 'a']);
  });

  it('an entry set again from its own firing waits for the next firing (no spin)', async () => {
    const log = { fired: [] as string[] };
    let again = 3;
    const t = new ConnectionTimers<Entry>((e) => {
      log.fired.push(e.name);
      // quiche may answer timeout() == 0 right after onTimeout(): due at once.
      if (--again > 0) t.set(e, performance.now());
    });
    t.set(entry('a'), performance.now());
    await firings(log, 3);
    expect(log.fired).toEqual(['a', 'a', 'a']);
    expect(t.size).toBe(0);
  });

  it('clearAll stops everything: nothing fires afterwards', async () => {
    const log = { fired: [] as string[] };
    const t = new ConnectionTimers<Entry>((e) => log.fired.push(e.name));
    const now = performance.now();
    const es = Array.from({ length: 50 }, (_, i) => entry(`e${i}`));
    es.forEach((e, i) => t.set(e, now + 5 + (i % 7)));
    t.clearAll();
    expect(t.size).toBe(0);
    await new Promise((r) => setTimeout(r, 30));
    expect(log.fired).toEqual([]);
    expect(es.every((e) => e.timerSlot === -1)).toBe(true);
  });

  it('keeps heap order under many random moves and clears (a bounded property check)', async () => {
    const log = { fired: [] as string[] };
    const t = new ConnectionTimers<Entry>((e) => log.fired.push(e.name));
    const es = Array.from({ length: 64 }, (_, i) => entry(`e${i}`));
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const base = performance.now() + 20;
    const want = new Map<Entry, number>();
    for (let k = 0; k < 2000; k++) {
      const e = es[Math.floor(rnd() * es.length)];
      if (rnd() < 0.2) {
        t.clear(e);
        want.delete(e);
      } else {
        // Distinct deadlines, so the firing order is fully determined.
        const at = base + Math.floor(rnd() * 40) + es.indexOf(e) / 100;
        t.set(e, at);
        want.set(e, at);
      }
    }
    expect(t.size).toBe(want.size);
    await firings(log, want.size);
    const expected = [...want.entries()].sort((x, y) => x[1] - y[1]).map(([e]) => e.name);
    expect(log.fired).toEqual(expected);
  });
});
