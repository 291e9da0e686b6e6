import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../../server/clock.js';
import { HeartbeatSweep, type HeartbeatMember } from '../../../server/session/heartbeat-sweep.js';

const INTERVAL = 1000;

function member(log: string[], name: string, onBeat?: () => void): HeartbeatMember {
  return { beat: () => { log.push(`${name}@${log.length}`); onBeat?.(); } };
}

describe('HeartbeatSweep', () => {
  it('beats every member once per interval on one timer, whatever the number of members', () => {
    const scheduler = new ManualScheduler();
    const sweep = new HeartbeatSweep(scheduler, INTERVAL);
    const beats = new Map<number, number[]>();
    for (let i = 0; i < 100; i++) {
      beats.set(i, []);
      sweep.add({ beat: () => beats.get(i)!.push(scheduler.now()) });
      scheduler.advance(3); // members join at different times
    }
    expect(scheduler.pending).toBe(1);
    const t0 = scheduler.now();
    scheduler.advance(3 * INTERVAL);
    for (const times of beats.values()) {
      expect(times).toHaveLength(3);
      expect(times[1]! - times[0]!).toBe(INTERVAL);
      expect(times[2]! - times[1]!).toBe(INTERVAL);
      expect(times[0]! - t0).toBeLessThanOrEqual(INTERVAL);
    }
    expect(scheduler.pending).toBe(1);
  });

  it('a member taken out during a sweep is not beaten after; the timer stops with the last member', () => {
    const scheduler = new ManualScheduler();
    const sweep = new HeartbeatSweep(scheduler, INTERVAL);
    const log: string[] = [];
    const b = member(log, 'b');
    const a = member(log, 'a', () => sweep.delete(b)); // a's beat suspends b (say, through the room)
    sweep.add(a);
    sweep.add(b);
    scheduler.advance(INTERVAL);
    expect(log.map((l) => l.split('@')[0])).toEqual(['a']);
    expect(sweep.size).toBe(1);
    sweep.delete(a);
    expect(scheduler.pending).toBe(0);
    scheduler.advance(5 * INTERVAL);
    expect(log).toHaveLength(1);
    // Back to work with the next member: one timer again, first beat one interval later.
    sweep.add(b);
    expect(scheduler.pending).toBe(1);
    scheduler.advance(INTERVAL);
    expect(log.map((l) => l.split('@')[0])).toEqual(['a', 'b']);
  });

  it('a member that takes itself out in its beat stops; the others go on', () => {
    const scheduler = new ManualScheduler();
    const sweep = new HeartbeatSweep(scheduler, INTERVAL);
    const log: string[] = [];
    const self: HeartbeatMember = { beat: () => { log.push('self'); sweep.delete(self); } };
    sweep.add(self);
    sweep.add(member(log, 'other'));
    scheduler.advance(3 * INTERVAL);
    expect(log.filter((l) => l === 'self')).toHaveLength(1);
    expect(log.filter((l) => l.startsWith('other'))).toHaveLength(3);
  });
});
