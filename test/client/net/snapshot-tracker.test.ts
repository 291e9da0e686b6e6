import { describe, expect, it } from 'vitest';
import { SNAPSHOT_ID_WINDOW, SnapshotTracker } from '../../../client/net/snapshot-tracker.js';

describe('SnapshotTracker (ack and loss estimate)', () => {
  it('acks the newest id and counts gaps as losses', () => {
    const t = new SnapshotTracker();
    expect(t.newestId).toBe(-1);
    expect([1, 2, 3, 6, 7].map((id) => t.record(id))).toEqual(['new', 'new', 'new', 'new', 'new']);
    expect(t.newestId).toBe(7);
    expect(t.lostEstimate).toBe(2);
  });

  it('a late arrival within the window turns a loss back into a receipt and does not move the ack', () => {
    const t = new SnapshotTracker();
    for (const id of [10, 11, 13]) t.record(id);
    expect(t.lostEstimate).toBe(1);
    expect(t.record(12)).toBe('late');
    expect(t.lostEstimate).toBe(0);
    expect(t.newestId).toBe(13);
    expect(t.lateCount).toBe(1);
  });

  it('recognizes duplicates and ids older than the window', () => {
    const t = new SnapshotTracker();
    t.record(100);
    t.record(101);
    expect(t.record(101)).toBe('duplicate');
    expect(t.record(100)).toBe('duplicate');
    expect(t.duplicateCount).toBe(2);
    expect(t.record(101 - SNAPSHOT_ID_WINDOW)).toBe('stale');
    expect(t.lostEstimate).toBe(0);
  });

  it('bounds the loss counted for one huge jump to the window', () => {
    const t = new SnapshotTracker();
    t.record(1);
    t.record(1_000_000);
    expect(t.lostEstimate).toBe(SNAPSHOT_ID_WINDOW);
  });

  it('reset starts a new numbering but keeps the loss total', () => {
    const t = new SnapshotTracker();
    t.record(5);
    t.record(7);
    t.reset();
    expect(t.newestId).toBe(-1);
    expect(t.record(1)).toBe('new');
    expect(t.lostEstimate).toBe(1);
  });
});
