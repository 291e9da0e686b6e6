import { describe, expect, it } from 'vitest';
import { StalenessTracker, STATES_PER_ENTITY_LIMIT } from '../../bench/standard-scene/staleness.js';
import { SampleReservoir } from '../../tools/lib/stats.js';

const e = (id: number, x: number, y = 0, angle = 0) => ({ id, x, y, angle });

function tracker() {
  const samples = new SampleReservoir(10_000);
  return { t: new StalenessTracker(samples), samples };
}

describe('entity staleness', () => {
  it('is the time since the snapshot that carried the entity\'s current state', () => {
    const { t, samples } = tracker();
    t.onSnapshot(1000, [e(1, 10), e(2, 20)]);
    t.sample(1030);
    expect([...samples.values()]).toEqual([30, 30]);
    t.onSnapshot(1050, [e(1, 15), e(2, 25)]);
    t.sample(1060);
    expect([...samples.values()].slice(2)).toEqual([10, 10]);
  });

  it('an entity left out of a snapshot (same state carried over) keeps aging', () => {
    const { t, samples } = tracker();
    t.onSnapshot(1000, [e(1, 10), e(2, 20)]);
    t.onSnapshot(1050, [e(1, 15), e(2, 20)]); // entity 2 not refreshed
    t.onSnapshot(1100, [e(1, 20), e(2, 20)]);
    t.sample(1110);
    expect([...samples.values()]).toEqual([10, 110]);
  });

  it('a state reverted to an older baseline value takes that value\'s older time', () => {
    const { t, samples } = tracker();
    t.onSnapshot(1000, [e(1, 10)]);
    t.onSnapshot(1050, [e(1, 15)]);
    // The server deltas against the acked snapshot 1000 and leaves entity 1 out: the client
    // reconstructs the 1000 state again.
    t.onSnapshot(1100, [e(1, 10)]);
    t.sample(1100);
    expect([...samples.values()]).toEqual([100]);
  });

  it('with the omitted list, an entity refreshed without changing (it stands still) is fresh; one left out keeps aging', () => {
    const { t, samples } = tracker();
    t.onSnapshot(1000, [e(1, 10), e(2, 20)], []);
    t.onSnapshot(1050, [e(1, 10), e(2, 20)], [2]); // 1 refreshed in place, 2 left out
    t.onSnapshot(1100, [e(1, 10), e(2, 20)], [2]);
    t.sample(1110);
    expect([...samples.values()]).toEqual([10, 110]);
    // Without the list the same stream looks like entity 1 aged too (the old behaviour).
    const old = tracker();
    old.t.onSnapshot(1000, [e(1, 10), e(2, 20)]);
    old.t.onSnapshot(1050, [e(1, 10), e(2, 20)]);
    old.t.onSnapshot(1100, [e(1, 10), e(2, 20)]);
    old.t.sample(1110);
    expect([...old.samples.values()]).toEqual([110, 110]);
  });

  it('with the omitted list, a left-out entity reverted to an older baseline value still takes that value\'s time', () => {
    const { t, samples } = tracker();
    t.onSnapshot(1000, [e(1, 10)], []);
    t.onSnapshot(1050, [e(1, 15)], []);
    t.onSnapshot(1100, [e(1, 10)], [1]);
    t.sample(1100);
    expect([...samples.values()]).toEqual([100]);
  });

  it('forgets entities that left, and a cleared tracker samples nothing', () => {
    const { t, samples } = tracker();
    t.onSnapshot(1000, [e(1, 10), e(2, 20)]);
    t.onSnapshot(1050, [e(1, 15)]);
    expect(t.size).toBe(1);
    t.clear();
    t.sample(2000);
    expect(samples.size).toBe(0);
  });

  it('keeps a bounded number of states per entity', () => {
    const { t, samples } = tracker();
    for (let i = 0; i < STATES_PER_ENTITY_LIMIT + 10; i++) t.onSnapshot(1000 + i * 50, [e(1, i)]);
    // State 0 was forgotten: seeing it again counts as new information.
    const last = 1000 + (STATES_PER_ENTITY_LIMIT + 10) * 50;
    t.onSnapshot(last, [e(1, 0)]);
    t.sample(last);
    expect([...samples.values()]).toEqual([0]);
    // A state still remembered keeps its time.
    t.onSnapshot(last + 50, [e(1, STATES_PER_ENTITY_LIMIT + 9)]);
    t.sample(last + 50);
    expect([...samples.values()][1]).toBe(last + 50 - (1000 + (STATES_PER_ENTITY_LIMIT + 9) * 50));
  });
});
