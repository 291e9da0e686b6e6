/** The single-node data sources over real rooms (InProcessRoomManager) on a ManualScheduler. */
import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../../server/clock.js';
import { InProcessChatFanout } from '../../../server/chat/fanout.js';
import { LocalChatSource, LocalRoomListSource, LocalStatusSource, ROOM_LIST_POLL_MS } from '../../../server/feeds/local-sources.js';
import type { RoomChange } from '../../../server/feeds/types.js';
import { InProcessRoomManager } from '../../../server/rooms/room-manager.js';
import { standardScene } from '../../../server/rooms/standard-scene.js';
import type { RoomMember } from '../../../server/rooms/types.js';

function setup() {
  const scheduler = new ManualScheduler();
  const fanout = new InProcessChatFanout();
  const rooms = new InProcessRoomManager({ scheduler, fanout, defaultDefinition: standardScene, emptyRoomLingerMs: 100 });
  const member = (playerId: string): RoomMember => ({
    playerId, name: playerId, playerJoined() {}, playerLeft() {}, chat() {}, snapshot() {},
  });
  const join = (roomId: string, playerId: string) => {
    const r = rooms.acquireSync(roomId);
    if (r.kind !== 'local') throw new Error('no room');
    r.room.join(member(playerId));
    return r.room;
  };
  return { scheduler, fanout, rooms, join };
}

describe('LocalRoomListSource', () => {
  it('lists open rooms and reports added, updated and removed rooms once per poll', async () => {
    const { scheduler, rooms, join } = setup();
    const dir = new LocalRoomListSource(rooms, scheduler);
    join('b', 'p1');
    expect((await dir.list()).map((r) => [r.id, r.players])).toEqual([['b', 1]]);
    const seen: RoomChange[][] = [];
    const off = dir.subscribe((c) => seen.push(c));
    join('a', 'p2');
    join('b', 'p3');
    join('b', 'p4');
    scheduler.advance(ROOM_LIST_POLL_MS);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual([
      { kind: 'added', room: expect.objectContaining({ id: 'a', players: 1 }) },
      { kind: 'updated', room: expect.objectContaining({ id: 'b', players: 3 }) },
    ]);
    scheduler.advance(ROOM_LIST_POLL_MS * 3);
    expect(seen).toHaveLength(1); // nothing changed, nothing sent
    rooms.get('a')!.leave('p2');
    rooms.release('a');
    scheduler.advance(100 + ROOM_LIST_POLL_MS);
    expect(seen.at(-1)).toEqual([{ kind: 'removed', id: 'a' }]);
    expect(await dir.get('a')).toBeUndefined();
    expect(await dir.get('b')).toMatchObject({ id: 'b', players: 3, node: null });
    off();
    join('c', 'p5');
    scheduler.advance(ROOM_LIST_POLL_MS * 2);
    expect(seen).toHaveLength(2); // no polling without listeners
  });
});

describe('LocalChatSource', () => {
  it('reads after an id with the limit and completeness; a room opened again continues its ids', async () => {
    const { fanout, rooms, join, scheduler } = setup();
    const src = new LocalChatSource(rooms, fanout);
    expect(await src.read('nowhere', 0, 10)).toBeNull();
    const room = join('r', 'p1');
    const live: Array<[number, string]> = [];
    src.subscribe('r', (m, e) => live.push([m.id, e]));
    for (let i = 0; i < 30; i++) room.chat.announce(`l${i}`, scheduler.now());
    const r = await src.read('r', 5, 100);
    expect(r!.top).toBe(30);
    expect(r!.complete).toBe(true);
    expect(r!.messages.map((m) => m.id)).toEqual(Array.from({ length: 25 }, (_, i) => 6 + i));
    const limited = await src.read('r', 5, 10);
    expect(limited!.complete).toBe(false);
    expect(limited!.messages.map((m) => m.id)).toEqual(Array.from({ length: 10 }, (_, i) => 21 + i));
    expect((await src.read('r', 30, 10))!).toMatchObject({ messages: [], complete: true });
    expect(live).toHaveLength(30);
    expect(new Set(live.map(([, e]) => e))).toEqual(new Set([r!.epoch]));

    // The room closes and opens again: its chat ids go on from where they were.
    room.leave('p1');
    rooms.release('r');
    scheduler.advance(100);
    expect(await src.read('r', 0, 10)).toBeNull();
    const again = join('r', 'p2');
    again.chat.announce('fresh', scheduler.now());
    expect(live.at(-1)).toEqual([31, r!.epoch]);
    // What was said before is gone with the old room: a reader at 25 is told (not complete).
    expect(await src.read('r', 25, 10)).toMatchObject({ top: 31, complete: false, messages: [{ id: 31 }] });
    expect(await src.read('r', 30, 10)).toMatchObject({ top: 31, complete: true, messages: [{ id: 31 }] });
  });
});

describe('LocalStatusSource', () => {
  it('one node with its rooms, sessions, feeds and draining flag', async () => {
    const { rooms, join, scheduler } = setup();
    join('a', 'p1');
    join('b', 'p2');
    let draining = false;
    const status = new LocalStatusSource({ nodeId: 'n1', scheduler, rooms, draining: () => draining, sessions: () => 2, feeds: () => 7 });
    expect(await status.status()).toEqual({
      nodes: [{ id: 'n1', draining: false, rooms: 2, sessions: 2, spectators: 0, feeds: 7 }],
      rooms: 2, sessions: 2, spectators: 0, draining: false, t: scheduler.now(),
    });
    draining = true;
    expect((await status.status()).nodes[0].draining).toBe(true);
  });
});
