import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../../server/clock.js';
import { InProcessChatFanout } from '../../../server/chat/fanout.js';
import { GameMetrics } from '../../../server/metrics.js';
import { EMPTY_ROOM_LINGER_MS, InProcessRoomManager } from '../../../server/rooms/room-manager.js';
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

  it('refuses malformed ids, ids without a definition and rooms past the limit', async () => {
    const { m } = manager({ defaultDefinition: null, rooms: { a: {}, b: {} }, maxRooms: 1 });
    expect((await m.acquire('bad id!')).kind).toBe('unknown');
    expect((await m.acquire('zzz')).kind).toBe('unknown');
    expect((await m.acquire('a')).kind).toBe('local');
    expect((await m.acquire('b')).kind).toBe('unknown');
    expect((await m.acquire('__proto__')).kind).toBe('unknown');
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
