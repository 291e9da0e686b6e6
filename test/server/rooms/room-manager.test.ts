import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../../server/clock.js';
import { InProcessChatFanout } from '../../../server/chat/fanout.js';
import { GameMetrics } from '../../../server/metrics.js';
import { EMPTY_ROOM_LINGER_MS, InProcessRoomManager, ROOM_CAP_RETRY_AFTER_MS } from '../../../server/rooms/room-manager.js';
import { standardScene } from '../../../server/rooms/standard-scene.js';
import type { RoomMember } from '../../../server/rooms/types.js';

const member = (playerId: string): RoomMember => ({ playerId, name: playerId, playerJoined() {}, playerLeft() {}, chat() {}, snapshot() {} });

function manager(extra: Partial<ConstructorParameters<typeof InProcessRoomManager>[0]> = {}) {
  const scheduler = new ManualScheduler();
  const metrics = new GameMetrics();
  const m = new InProcessRoomManager({ scheduler, fanout: new InProcessChatFanout(), metrics, defaultDefinition: standardScene, ...extra });
  return { scheduler, metrics, m };
}

describe('InProcessRoomManager', () => {
  it('creates rooms on demand and returns the same room for the same id', async () => {
    const { m } = manager();
    const a = await m.acquire('arena');
    const b = await m.acquire('arena');
    expect(a.kind).toBe('local');
    expect(a.kind === 'local' && b.kind === 'local' && a.room === b.room).toBe(true);
    expect(m.list().map((r) => r.id)).toEqual(['arena']);
    m.close();
  });

  it('refuses malformed ids and ids without a definition as unknown, rooms past the limit as busy', async () => {
    const { m } = manager({ defaultDefinition: null, rooms: { a: {}, b: {} }, maxRooms: 1 });
    expect((await m.acquire('bad id!')).kind).toBe('unknown');
    expect((await m.acquire('zzz')).kind).toBe('unknown');
    expect((await m.acquire('a')).kind).toBe('local');
    expect(await m.acquire('b')).toEqual({ kind: 'busy', retryAfterMs: ROOM_CAP_RETRY_AFTER_MS });
    expect((await m.acquire('__proto__')).kind).toBe('unknown');
    m.close();
  });

  it('at the cap, a new room takes the slot of the room empty the longest, at once', async () => {
    const { m, metrics } = manager({ maxRooms: 3 });
    const held = await m.acquire('held');
    if (held.kind !== 'local') throw new Error();
    held.room.join(member('p'));
    // Two rooms acquired and given back without a player (a join that failed), one after the other.
    for (const id of ['never-played', 'left']) {
      const r = await m.acquire(id);
      if (r.kind !== 'local') throw new Error();
      if (id === 'left') { r.room.join(member('q')); r.room.leave('q'); }
      m.release(id);
    }
    expect(m.list().map((r) => r.id).sort()).toEqual(['held', 'left', 'never-played']);
    // No waiting out the 30 s linger: the oldest empty room goes as soon as its slot is needed.
    const fresh = await m.acquire('fresh');
    expect(fresh.kind).toBe('local');
    expect(m.get('never-played')).toBeUndefined();
    const fresher = await m.acquire('fresher');
    expect(fresher.kind).toBe('local');
    expect(m.get('left')).toBeUndefined();
    // Every slot now holds a player or a hold: busy, and the room with a player was never touched.
    expect((await m.acquire('one-more')).kind).toBe('busy');
    expect(m.get('held')).toBe(held.room);
    expect(held.room.isClosed).toBe(false);
    expect((await metrics.rooms.get()).values[0]!.value).toBe(3);
    m.close();
  });

  it('a room acquired for a join in flight is not taken for another room', async () => {
    const { m } = manager({ maxRooms: 1 });
    const a = await m.acquire('a');
    expect(a.kind).toBe('local');
    // 'a' has no player yet, but a hold: it is not empty for the cap.
    expect((await m.acquire('b')).kind).toBe('busy');
    m.release('a');
    expect((await m.acquire('b')).kind).toBe('local');
    m.close();
  });

  it('closes an empty room after the linger time unless someone joins again', async () => {
    const { m, scheduler } = manager();
    const r = await m.acquire('arena');
    if (r.kind !== 'local') throw new Error();
    r.room.join(member('a'));
    r.room.leave('a');
    m.release('arena');
    scheduler.advance(EMPTY_ROOM_LINGER_MS - 1);
    // Re-acquired inside the linger: kept, with its chat history.
    r.room.chat.announce('still here', scheduler.now());
    expect((await m.acquire('arena')).kind).toBe('local');
    scheduler.advance(10);
    expect(m.get('arena')).toBe(r.room);
    m.release('arena');
    scheduler.advance(EMPTY_ROOM_LINGER_MS);
    expect(m.get('arena')).toBeUndefined();
    expect(r.room.isClosed).toBe(true);
    expect(r.room.loop.isRunning).toBe(false);
  });
});
