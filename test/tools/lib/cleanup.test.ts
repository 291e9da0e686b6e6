import { describe, expect, it } from 'vitest';
import { CleanupStack } from '../../../tools/lib/cleanup.js';

describe('CleanupStack', () => {
  it('runs newest first, goes on past a failing action, and empties itself', async () => {
    const order: string[] = [];
    const s = new CleanupStack();
    s.push({ label: 'namespace', run: async () => void order.push('namespace'), runSync: () => order.push('namespace sync') });
    s.push({ label: 'bad', run: async () => { order.push('bad'); throw new Error('boom'); }, runSync: () => {} });
    s.push({ label: 'child', run: async () => void order.push('child'), runSync: () => order.push('child sync') });
    expect(s.size).toBe(3);
    await s.runAll();
    expect(order).toEqual(['child', 'bad', 'namespace']);
    expect(s.size).toBe(0);
  });

  it('forgets an action unregistered by hand, and the sync path runs the rest', () => {
    const order: string[] = [];
    const s = new CleanupStack();
    s.push({ label: 'a', run: async () => {}, runSync: () => order.push('a') });
    const untrack = s.push({ label: 'b', run: async () => {}, runSync: () => order.push('b') });
    s.push({ label: 'c', run: async () => {}, runSync: () => { throw new Error('ignored while exiting'); } });
    untrack();
    s.runAllSync();
    expect(order).toEqual(['a']);
    expect(s.size).toBe(0);
  });
});
