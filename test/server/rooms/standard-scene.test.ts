import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../../server/clock.js';
import { InProcessChatFanout } from '../../../server/chat/fanout.js';
import { Room } from '../../../server/rooms/room.js';
import { standardScene } from '../../../server/rooms/standard-scene.js';
import { wrapCoord } from '../../../shared/scene.js';
import type { RoomMember, WorldFrame } from '../../../server/rooms/types.js';

function member(playerId: string, frames: WorldFrame[] = []): RoomMember {
  return { playerId, name: playerId, playerJoined() {}, playerLeft() {}, chat() {}, snapshot: (f) => frames.push(f) };
}

function room(s: ManualScheduler) {
  return new Room({ id: 'arena', definition: standardScene, scheduler: s, fanout: new InProcessChatFanout(), seed: 1 });
}

describe('standard scene simulation', () => {
  it('moves a player 100 units/s along its input: exact position after N ticks', () => {
    const s = new ManualScheduler();
    const r = room(s);
    const joined = r.join(member('a'));
    if (!joined.ok) throw new Error('join failed');
    const p = joined.player;
    p.entity.x = 500; p.entity.y = 500;
    expect(r.input('a', { seq: 1, ack: 0, inputs: [[1, 0]] })).toBe('applied');
    s.advance(1000); // 60 ticks of 1/60 s
    expect(r.loop.tick).toBe(60);
    expect(p.entity.x).toBeCloseTo(600, 9);
    expect(p.entity.y).toBe(500);
    expect(p.entity.angle).toBe(0);
    // Diagonal input is normalized: 30 ticks -> 50 units along the diagonal.
    r.input('a', { seq: 2, ack: 0, inputs: [[-1, -1], [1, 0]] });
    s.advance(500);
    expect(p.entity.x).toBeCloseTo(600 - 50 / Math.SQRT2, 9);
    expect(p.entity.y).toBeCloseTo(500 - 50 / Math.SQRT2, 9);
    expect(p.entity.angle).toBeCloseTo(-3 * Math.PI / 4, 12);
    r.close();
  });

  it('wraps at the world edge', () => {
    const s = new ManualScheduler();
    const r = room(s);
    const joined = r.join(member('a'));
    if (!joined.ok) throw new Error('join failed');
    joined.player.entity.x = 990; joined.player.entity.y = 5;
    r.input('a', { seq: 1, ack: 0, inputs: [[0.6, -0.8]] });
    s.advance(1000);
    expect(joined.player.entity.x).toBeCloseTo(wrapCoord(990 + 60, 1000), 9);
    expect(joined.player.entity.y).toBeCloseTo(wrapCoord(5 - 80, 1000), 9);
    r.close();
  });

  it('ignores stale and duplicate inputs (redundant copies)', () => {
    const s = new ManualScheduler();
    const r = room(s);
    r.join(member('a'));
    expect(r.input('a', { seq: 5, ack: 0, inputs: [[1, 0]] })).toBe('applied');
    expect(r.input('a', { seq: 5, ack: 0, inputs: [[0, 1]] })).toBe('stale');
    expect(r.input('a', { seq: 3, ack: 0, inputs: [[0, 1]] })).toBe('stale');
    expect(r.getPlayer('a')!.input).toEqual({ dx: 1, dy: 0 });
    expect(r.input('zz', { seq: 9, ack: 0, inputs: [[0, 1]] })).toBe('unknown_player');
    r.close();
  });

  it('staggered (default): each member gets snapshotHz frames on its own phase, ids +1 each', () => {
    const s = new ManualScheduler();
    const r = room(s);
    const frames: WorldFrame[][] = [[], [], [], []];
    for (let i = 0; i < 4; i++) r.join(member(`p${i}`, frames[i]));  // entity ids 1..4
    s.advance(1000);
    for (const f of frames) expect(f.length).toBe(20);
    expect(frames.map((f) => f[0]!.tick)).toEqual([1, 2, 3, 1]);   // phase = entity id % 3
    expect(frames[0]!.map((f) => f.snapshotId)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(frames[0]![0]).toBe(frames[3]![0]);                     // same phase, same frame
    for (const f of frames[1]!) expect(f.tick % 3).toBe(2);
    r.close();
  });

  it('not staggered: one frame per snapshot tick with every entity, ordered by id', () => {
    const s = new ManualScheduler();
    const r = new Room({ id: 'arena', definition: standardScene, scheduler: s, fanout: new InProcessChatFanout(), seed: 1, staggerSnapshots: false });
    const framesA: WorldFrame[] = [];
    r.join(member('a', framesA));
    r.join(member('b'));
    r.join(member('c'));
    s.advance(1000);
    expect(framesA.length).toBe(20);
    expect(framesA[0]!.tick).toBe(3);
    expect(framesA[0]!.entities.map((e) => e.id)).toEqual([1, 2, 3]);
    for (const e of framesA[19]!.entities) {
      expect(e.x).toBeGreaterThanOrEqual(0); expect(e.x).toBeLessThan(1000);
    }
    r.close();
  });

  it('a suspended player stops and receives no frames; reattach restores the same entity', () => {
    const s = new ManualScheduler();
    const r = room(s);
    const frames: WorldFrame[] = [];
    const j = r.join(member('a', frames));
    if (!j.ok) throw new Error();
    r.input('a', { seq: 1, ack: 0, inputs: [[1, 0]] });
    r.suspend('a');
    const x = j.player.entity.x;
    s.advance(500);
    expect(frames.length).toBe(0);
    expect(j.player.entity.x).toBe(x);
    const again = r.reattach('a', member('a', frames));
    expect(again?.entity.id).toBe(j.player.entity.id);
    s.advance(150);
    expect(frames.length).toBeGreaterThan(0);
    r.close();
  });

  it('refuses joins past maxPlayers and survives throwing hooks', () => {
    const s = new ManualScheduler();
    let throwOnTick = true;
    const r = new Room({
      id: 'x', scheduler: s, fanout: new InProcessChatFanout(),
      definition: {
        maxPlayers: 2,
        onJoin: (_r, p) => { if (p.playerId === 'bad') throw new Error('nope'); },
        onTick: () => { if (throwOnTick) { throwOnTick = false; throw new Error('tick'); } },
      },
    });
    expect(r.join(member('bad'))).toEqual({ ok: false, reason: 'hook_error' });
    expect(r.join(member('a')).ok).toBe(true);
    expect(r.join(member('b')).ok).toBe(true);
    expect(r.join(member('c'))).toEqual({ ok: false, reason: 'room_full' });
    s.advance(100);
    expect(r.loop.tick).toBe(6);
    r.close();
  });

  it('tells the others about joins and leaves', () => {
    const s = new ManualScheduler();
    const r = room(s);
    const events: string[] = [];
    r.join({ ...member('a'), playerJoined: (p) => events.push(`join ${p.playerId}`), playerLeft: (p) => events.push(`left ${p.playerId}`) });
    r.join(member('b'));
    r.leave('b');
    expect(events).toEqual(['join b', 'left b']);
    expect(r.playerCount).toBe(1);
    r.close();
  });
});
