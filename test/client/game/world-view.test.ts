import { describe, expect, it } from 'vitest';
import { WorldView, type WelcomeLike } from '../../../client/game/world-view.js';

const welcome = (over: Partial<WelcomeLike> = {}): WelcomeLike => ({
  entityId: 1, worldW: 1000, worldH: 1000, snapshotHz: 20, resumed: false,
  players: [{ entityId: 1, name: 'me' }, { entityId: 2, name: 'bob' }], ...over,
});

/** Snapshots every 50 ms with transit 5 ms: own player 1 still at (100,100), bob moving +x at 100 u/s. */
function feed(v: WorldView, from: number, to: number, lastInputSeq = 0) {
  for (let i = from; i < to; i++) {
    const t = 10_000 + i * 50;
    v.snapshot({ serverTime: t, lastInputSeq, receivedAt: t + 5, entities: [
      { id: 1, x: 100, y: 100, angle: 0 },
      { id: 2, x: 500 + i * 5, y: 300, angle: 0 },
    ] }, 10);
  }
}

describe('WorldView', () => {
  it('draws nothing before welcome', () => {
    expect(new WorldView().frame(0)).toEqual([]);
  });

  it('interpolates others, predicts itself, and names everyone', () => {
    const v = new WorldView();
    v.welcome(welcome());
    feed(v, 0, 20);
    const now = 10_000 + 19 * 50 + 5;
    const f = v.frame(now);
    const me = f.find((e) => e.own)!;
    const bob = f.find((e) => e.id === 2)!;
    expect(me).toMatchObject({ id: 1, name: 'me', x: 100, y: 100 });
    expect(bob.name).toBe('bob');
    expect(bob.own).toBe(false);
    // Three intervals behind: bob's state from 150 ms before the newest snapshot.
    expect(bob.x).toBeCloseTo(500 + 16 * 5, 6);
    expect(v.entityCount).toBe(2);
    expect(v.interpDelayMs).toBeCloseTo(150, 6);
  });

  it('takes the interpolation delay rule from the path the snapshots report (two intervals for datagrams)', () => {
    const datagrams = new WorldView();
    datagrams.welcome(welcome());
    for (let i = 0; i < 20; i++) {
      const t = 10_000 + i * 50;
      datagrams.snapshot({ serverTime: t, lastInputSeq: 0, receivedAt: t + 5, path: 'datagram', entities: [{ id: 2, x: 500 + i * 5, y: 300, angle: 0 }] }, 10);
    }
    expect(datagrams.interpTargetMs).toBe(100);
    expect(datagrams.interpDelayMs).toBeCloseTo(100, 6);
    // Snapshots that say nothing (or `ordered`) keep three.
    const ordered = new WorldView();
    ordered.welcome(welcome());
    feed(ordered, 0, 20);
    expect(ordered.interpTargetMs).toBe(150);
  });

  it('moves the own player at once on input, before the server has seen it', () => {
    const v = new WorldView();
    v.welcome(welcome());
    feed(v, 0, 10);
    const t0 = 10_000 + 9 * 50 + 5;
    v.input({ seq: 1, dx: 1, dy: 0, t: t0 });
    const me = v.frame(t0 + 100).find((e) => e.own)!;
    expect(me.x).toBeCloseTo(110, 6);
    expect(me.angle).toBeCloseTo(0, 12);
    v.input({ seq: 2, dx: 0, dy: 1, t: t0 + 100 });
    expect(v.frame(t0 + 100).find((e) => e.own)!.angle).toBeCloseTo(Math.PI / 2, 12);
  });

  it('tracks joins and leaves for names', () => {
    const v = new WorldView();
    v.welcome(welcome());
    v.playerJoined({ entityId: 3, name: 'carol' });
    expect(v.nameOf(3)).toBe('carol');
    v.playerLeft({ entityId: 3 });
    expect(v.nameOf(3)).toBe('player 3');
  });

  it('keeps its buffer on a resumed welcome and starts over on a fresh one', () => {
    const v = new WorldView();
    v.welcome(welcome());
    feed(v, 0, 10);
    v.welcome(welcome({ resumed: true }));
    expect(v.frame(10_000 + 9 * 50 + 5).length).toBe(2);
    v.welcome(welcome({ resumed: false }));
    expect(v.frame(10_000 + 9 * 50 + 5)).toEqual([]);
  });
});
