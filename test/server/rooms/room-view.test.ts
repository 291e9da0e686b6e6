/**
 * server/rooms/room-view.ts: the read-only views `GameServer.rooms` hands out. A view follows the
 * live room (player count, tick, a player's position and input), is frozen, and nothing written
 * through it reaches the room; the directory never opens a room.
 */
import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../../server/clock.js';
import { InProcessChatFanout } from '../../../server/chat/fanout.js';
import { InProcessRoomManager } from '../../../server/rooms/room-manager.js';
import { roomDirectory } from '../../../server/rooms/room-view.js';
import { standardScene } from '../../../server/rooms/standard-scene.js';
import type { RoomMember } from '../../../server/rooms/types.js';

const member = (playerId: string): RoomMember => ({ playerId, name: `name-${playerId}`, playerJoined() {}, playerLeft() {}, chat() {}, snapshot() {} });

function setup() {
  const scheduler = new ManualScheduler();
  const manager = new InProcessRoomManager({ scheduler, fanout: new InProcessChatFanout(), defaultDefinition: standardScene, seed: 7 });
  return { scheduler, manager, rooms: roomDirectory(manager) };
}

describe('roomDirectory / roomView', () => {
  it('lists only rooms that are open, and get never opens one', async () => {
    const { manager, rooms } = setup();
    expect(rooms.get('arena')).toBeUndefined();
    expect(manager.list()).toEqual([]);
    const got = await manager.acquire('arena');
    expect(got.kind).toBe('local');
    expect(rooms.list().map((r) => r.id)).toEqual(['arena']);
    // The same view for the same room, so a caller may keep it.
    expect(rooms.get('arena')).toBe(rooms.list()[0]);
    expect(rooms.get('lobby')).toBeUndefined();
    expect(manager.list().map((r) => r.id)).toEqual(['arena']);
    manager.close();
  });

  it('follows the live room: players, positions, inputs, ticks', async () => {
    const { scheduler, manager, rooms } = setup();
    const got = await manager.acquire('arena');
    if (got.kind !== 'local') throw new Error('no room');
    const room = got.room;
    const view = rooms.get('arena')!;
    expect(view.playerCount).toBe(0);
    const joined = room.join(member('a'));
    if (!joined.ok) throw new Error(joined.reason);
    expect(view.playerCount).toBe(1);
    expect(view.world).toEqual(room.world);
    expect(view.maxPlayers).toBe(room.maxPlayers);

    const before = view.getPlayer('a')!;
    const seq0 = joined.player.lastInputSeq;
    expect(before).toMatchObject({ playerId: 'a', name: 'name-a', lastInputSeq: seq0, connected: true, input: { dx: 0, dy: 0 } });
    expect(before.entity.id).toBe(joined.player.entity.id);
    expect(room.input('a', { seq: 1, ack: 0, inputs: [[1, 0]] })).toBe('applied');
    scheduler.advance(500);
    expect(view.tick).toBe(room.loop.tick);
    expect(view.tick).toBeGreaterThan(0);
    expect(view.skippedSteps).toBe(0);
    const after = view.getPlayer('a')!;
    expect(after.lastInputSeq).toBe(1);
    expect(after.input).toEqual(joined.player.input);
    expect(after.entity.x).toBe(joined.player.entity.x);
    expect(after.entity.x).not.toBe(before.entity.x);
    // A player view is a copy taken when asked: the earlier one did not move.
    expect(before.lastInputSeq).toBe(seq0);
    expect(view.getPlayer('nobody')).toBeUndefined();
    manager.close();
    expect(view.isClosed).toBe(true);
  });

  it('is frozen: nothing written through a view reaches the room', async () => {
    const { manager, rooms } = setup();
    const got = await manager.acquire('arena');
    if (got.kind !== 'local') throw new Error('no room');
    const joined = got.room.join(member('a'));
    if (!joined.ok) throw new Error(joined.reason);
    const view = rooms.get('arena')!;
    const p = view.getPlayer('a')!;
    const x = joined.player.entity.x;
    const seq0 = joined.player.lastInputSeq;
    // ES modules are strict: writes to frozen objects throw.
    expect(() => { (p.entity as { x: number }).x = x + 100; }).toThrow(TypeError);
    expect(() => { (p.input as { dx: number }).dx = 1; }).toThrow(TypeError);
    expect(() => { (p as { lastInputSeq: number }).lastInputSeq = 99; }).toThrow(TypeError);
    expect(() => { (view as { playerCount: number }).playerCount = 5; }).toThrow(TypeError);
    expect(() => { (view as unknown as { close: () => void }).close = () => {}; }).toThrow(TypeError);
    expect(() => { (rooms as unknown as { acquire: unknown }).acquire = null; }).toThrow(TypeError);
    expect(joined.player.entity.x).toBe(x);
    expect(joined.player.input).toEqual({ dx: 0, dy: 0 });
    expect(joined.player.lastInputSeq).toBe(seq0);
    // No path to the room, the manager or the loop.
    expect(Object.keys(view).sort()).toEqual(['getPlayer', 'id', 'isClosed', 'maxPlayers', 'maxSpectators', 'playerCount', 'skippedSteps', 'spectatorCount', 'tick', 'world']);
    expect(Object.keys(rooms).sort()).toEqual(['get', 'list']);
    manager.close();
  });
});
