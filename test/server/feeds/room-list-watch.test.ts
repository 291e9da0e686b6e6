/**
 * The polled room-list watch both directories use (server/feeds/room-list-watch.ts): the
 * comparison rule, a synchronous read with its baseline at subscribe, an asynchronous read with
 * its baseline on a first poll (failed reads skipped), and no timer without a listener.
 */
import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../../server/clock.js';
import { RoomListWatch, roomChanges, type RoomsById } from '../../../server/feeds/room-list-watch.js';
import type { RoomChange, RoomSummary } from '../../../server/feeds/types.js';

const room = (id: string, players: number, node: string | null = null): RoomSummary => ({
  id, players, maxPlayers: 8, spectators: 0, maxSpectators: 4, node,
});
const byId = (...rooms: RoomSummary[]): RoomsById => new Map(rooms.map((r) => [r.id, r]));

describe('roomChanges', () => {
  it('added and updated in the new order, then removed; an unchanged room is left out', () => {
    const before = byId(room('a', 1), room('b', 2), room('c', 3));
    const next = byId(room('d', 1), room('a', 1), room('c', 4));
    expect(roomChanges(before, next)).toEqual([
      { kind: 'added', room: room('d', 1) },
      { kind: 'updated', room: room('c', 4) },
      { kind: 'removed', id: 'b' },
    ]);
    expect(roomChanges(next, next)).toEqual([]);
  });

  it('every field a listener sees counts: counts, capacities and the owning node', () => {
    const base = room('a', 1, 'n1');
    for (const changed of [{ players: 2 }, { maxPlayers: 9 }, { spectators: 1 }, { maxSpectators: 5 }, { node: 'n2' }]) {
      expect(roomChanges(byId(base), byId({ ...base, ...changed })), JSON.stringify(changed)).toEqual([{ kind: 'updated', room: { ...base, ...changed } }]);
    }
  });
});

describe('RoomListWatch', () => {
  it('synchronous read: the baseline is taken at subscribe, changes come once per poll, no timer without listeners', () => {
    const scheduler = new ManualScheduler();
    let rooms = byId(room('a', 1));
    let reads = 0;
    const watch = new RoomListWatch({ scheduler, pollMs: 100, baseline: 'subscribe', read: () => { reads++; return rooms; } });
    expect(scheduler.pending).toBe(0);
    const seen: RoomChange[][] = [];
    const off = watch.subscribe((c) => seen.push(c));
    expect(reads).toBe(1);
    rooms = byId(room('a', 2));
    scheduler.advance(99);
    expect(seen).toEqual([]);
    scheduler.advance(1);
    expect(seen).toEqual([[{ kind: 'updated', room: room('a', 2) }]]);
    scheduler.advance(300);
    expect(seen).toHaveLength(1); // nothing changed: nothing sent
    // A second listener shares the one poll.
    const seen2: RoomChange[][] = [];
    const off2 = watch.subscribe((c) => seen2.push(c));
    rooms = byId();
    scheduler.advance(100);
    expect(seen.at(-1)).toEqual([{ kind: 'removed', id: 'a' }]);
    expect(seen2).toEqual([[{ kind: 'removed', id: 'a' }]]);
    off();
    off2();
    expect(scheduler.pending).toBe(0);
    const readsAfter = reads;
    scheduler.advance(1_000);
    expect(reads).toBe(readsAfter);
    // Listening again starts from the list as it is then.
    rooms = byId(room('z', 1));
    watch.subscribe((c) => seen.push(c));
    scheduler.advance(100);
    expect(seen).toHaveLength(2);
  });

  it('asynchronous read: the first poll is the baseline, a failed read is no changes, a read in flight is not doubled', async () => {
    const scheduler = new ManualScheduler();
    let rooms = byId(room('a', 1, 'n1'));
    let fail = false;
    let reads = 0;
    const watch = new RoomListWatch({
      scheduler, pollMs: 100, baseline: 'first-poll',
      read: async () => {
        reads++;
        if (fail) throw new Error('redis away');
        return rooms;
      },
    });
    const flush = () => new Promise((r) => setImmediate(r));
    const seen: RoomChange[][] = [];
    const off = watch.subscribe((c) => seen.push(c));
    expect(reads).toBe(0);
    scheduler.advance(0);
    expect(reads).toBe(1);
    // A listener arriving while the baseline read is in flight starts no second poll.
    const off2 = watch.subscribe(() => undefined);
    off2();
    await flush();
    expect(seen).toEqual([]);
    expect(scheduler.pending).toBe(1);
    rooms = byId(room('a', 1, 'n2'));
    fail = true;
    scheduler.advance(100);
    await flush();
    expect(seen).toEqual([]);
    fail = false;
    scheduler.advance(100);
    await flush();
    expect(seen).toEqual([[{ kind: 'updated', room: room('a', 1, 'n2') }]]);
    expect(reads).toBe(3);
    off();
    expect(scheduler.pending).toBe(0);
  });

  it('a baseline at subscribe refuses an asynchronous read', () => {
    const watch = new RoomListWatch({ scheduler: new ManualScheduler(), pollMs: 100, baseline: 'subscribe', read: async () => byId() });
    expect(() => watch.subscribe(() => undefined)).toThrow(TypeError);
  });
});
