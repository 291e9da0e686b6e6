import { describe, expect, it } from 'vitest';
import { ManualScheduler } from '../../../server/clock.js';
import { InProcessChatFanout } from '../../../server/chat/fanout.js';
import type { ChatMessage } from '../../../server/chat/types.js';
import { GameMetrics } from '../../../server/metrics.js';
import { ENTITY_ID_LIMIT, Room, type RoomOptions } from '../../../server/rooms/room.js';
import type { PlayerInfo } from '../../../shared/messages.js';
import type { PlayerInput, RoomDefinition, RoomMember, WorldFrame } from '../../../server/rooms/types.js';

/** A room member that records what the room hands it. */
class Recorder implements RoomMember {
  readonly joined: PlayerInfo[] = [];
  readonly left: PlayerInfo[] = [];
  readonly chats: ChatMessage[] = [];
  readonly frames: WorldFrame[] = [];
  constructor(readonly playerId: string, readonly name = playerId) {}
  playerJoined(p: PlayerInfo): void { this.joined.push(p); }
  playerLeft(p: PlayerInfo): void { this.left.push(p); }
  chat(m: ChatMessage): void { this.chats.push(m); }
  snapshot(f: WorldFrame): void { this.frames.push(f); }
}

function room(definition: RoomDefinition = {}, extra: Partial<RoomOptions> = {}) {
  const scheduler = new ManualScheduler();
  const metrics = new GameMetrics();
  const r = new Room({ id: 'r1', definition, scheduler, fanout: new InProcessChatFanout(), metrics, seed: 1, ...extra });
  const join = (id: string) => {
    const m = new Recorder(id);
    const res = r.join(m);
    if (!res.ok) throw new Error(res.reason);
    return { m, player: res.player };
  };
  const hookErrors = async () => metrics.registry.getSingleMetricAsString('tickwire_room_hook_errors_total');
  return { scheduler, metrics, room: r, join, hookErrors };
}

describe('Room: membership', () => {
  it('joins give entities 1, 2, 3..., tell the others, and run onJoin; leave tells the others and runs onLeave', () => {
    const events: string[] = [];
    const { room: r, join } = room({
      onJoin: (_ctx, p) => { events.push(`join ${p.playerId}`); p.entity.x = 42; },
      onLeave: (_ctx, p) => { events.push(`leave ${p.playerId}`); },
    });
    const a = join('a');
    const b = join('b');
    expect([a.player.entity.id, b.player.entity.id]).toEqual([1, 2]);
    expect(a.player.entity.x).toBe(42);
    expect(a.m.joined).toEqual([{ playerId: 'b', entityId: 2, name: 'b' }]);
    expect(b.m.joined).toEqual([]);
    expect(r.summaries()).toEqual([{ playerId: 'a', entityId: 1, name: 'a' }, { playerId: 'b', entityId: 2, name: 'b' }]);
    r.leave('b');
    r.leave('b'); // twice: nothing more
    expect(a.m.left).toEqual([{ playerId: 'b', entityId: 2, name: 'b' }]);
    expect(r.getPlayer('b')).toBeUndefined();
    expect(events).toEqual(['join a', 'join b', 'leave b']);
    // A freed id is not handed out again at once.
    expect(join('c').player.entity.id).toBe(3);
    r.close();
  });

  it('refuses joins past maxPlayers, after close, and when onJoin throws (counted, player not kept)', async () => {
    const { room: r, join, hookErrors } = room({ maxPlayers: 1, onJoin: (_ctx, p) => { if (p.playerId === 'bad') throw new Error('no'); } });
    expect(r.join(new Recorder('bad'))).toEqual({ ok: false, reason: 'hook_error' });
    expect(r.playerCount).toBe(0);
    expect(await hookErrors()).toMatch(/hook="onJoin"\} 1/);
    join('a');
    expect(r.join(new Recorder('b'))).toEqual({ ok: false, reason: 'room_full' });
    r.close();
    r.leave('a');
    expect(r.join(new Recorder('c'))).toEqual({ ok: false, reason: 'closed' });
  });

  it('entity ids wrap below ENTITY_ID_LIMIT and skip ids still in use', () => {
    const { room: r, join } = room({ maxPlayers: 2 });
    join('keeper'); // holds id 1
    for (let i = 2; i <= ENTITY_ID_LIMIT; i++) {
      const { player } = join('x');
      expect(player.entity.id).toBe(i);
      r.leave('x');
    }
    expect(join('y').player.entity.id).toBe(2);
    r.close();
  });

  it('suspend stops the player and its deliveries; reattach swaps in the new member', () => {
    const { scheduler, room: r, join } = room({}, { staggerSnapshots: false });
    const a = join('a');
    const b = join('b');
    r.input('a', { seq: 1, ack: 0, inputs: [[1, 0]] });
    r.suspend('a');
    expect(a.player.connected).toBe(false);
    expect(a.player.input).toEqual({ dx: 0, dy: 0 });
    b.m.frames.length = 0;
    r.sendChat('b', 'while away');
    scheduler.advance(100);
    expect(a.m.chats).toEqual([]);
    expect(a.m.frames).toEqual([]);
    expect(b.m.chats.map((c) => c.text)).toEqual(['while away']);
    expect(b.m.frames.length).toBeGreaterThan(0);
    // Still in the world for the others while suspended.
    expect(b.m.frames.at(-1)!.entities.map((e) => e.id)).toEqual([1, 2]);
    const again = new Recorder('a');
    expect(r.reattach('a', again)).toBe(a.player);
    expect(a.player.connected).toBe(true);
    scheduler.advance(100);
    expect(again.frames.length).toBeGreaterThan(0);
    expect(a.m.frames).toEqual([]);
    expect(r.reattach('nobody', again)).toBeUndefined();
    r.close();
  });
});

describe('Room: input and chat', () => {
  it('applies inputs newer than the last; older and repeated ones are stale; unknown players are named', () => {
    const { room: r, join } = room();
    const a = join('a');
    expect(r.input('a', { seq: 5, ack: 0, inputs: [[0.5, -1], [1, 1]] })).toBe('applied');
    expect(a.player.input).toEqual({ dx: 0.5, dy: -1 });
    expect(a.player.lastInputSeq).toBe(5);
    expect(r.input('a', { seq: 5, ack: 0, inputs: [[1, 1]] })).toBe('stale');
    expect(r.input('a', { seq: 4, ack: 0, inputs: [[1, 1]] })).toBe('stale');
    expect(a.player.input).toEqual({ dx: 0.5, dy: -1 });
    expect(r.input('zed', { seq: 9, ack: 0, inputs: [] })).toBe('unknown_player');
    r.close();
  });

  it('an onInput hook replaces the default; a throwing one is counted and the input still counts as applied', async () => {
    const seen: number[] = [];
    const { room: r, join, hookErrors } = room({ onInput: (_ctx, _p, input) => { seen.push(input.seq); if (input.seq === 2) throw new Error('x'); } });
    const a = join('a');
    expect(r.input('a', { seq: 1, ack: 0, inputs: [[1, 0]] })).toBe('applied');
    expect(r.input('a', { seq: 2, ack: 0, inputs: [[1, 0]] })).toBe('applied');
    expect(seen).toEqual([1, 2]);
    expect(a.player.input).toEqual({ dx: 0, dy: 0 });
    expect(await hookErrors()).toMatch(/hook="onInput"\} 1/);
    r.close();
  });

  it('an onInput hook keeps its own copy of the input: the caller may reuse its object after the call', () => {
    const kept: PlayerInput[] = [];
    const { room: r, join } = room({ onInput: (_ctx, _p, input) => { kept.push(input); } });
    join('a');
    // One object, overwritten between calls, as the session's decode scratch is.
    const reused = { seq: 1, ack: 4, inputs: [[1, 0], [0, 1]] as [number, number][] };
    r.input('a', reused);
    reused.seq = 2;
    reused.inputs[0][0] = -1;
    reused.inputs = [[0, -1]];
    r.input('a', reused);
    expect(kept).toEqual([
      { seq: 1, ack: 4, inputs: [[1, 0], [0, 1]] },
      { seq: 2, ack: 4, inputs: [[0, -1]] },
    ]);
    expect(kept[1]).not.toBe(reused);
    r.close();
  });

  it('chat goes through onChat (rewrite, veto, or a throw that vetoes and is counted) to every connected member in order', async () => {
    const { room: r, join, hookErrors } = room({
      onChat: (ctx, _p, text) => {
        if (text === 'boom') throw new Error('x');
        if (text === 'announce') { ctx.announce('server says hi'); return null; }
        return text === 'veto' ? null : text.toUpperCase();
      },
    });
    const a = join('a');
    const b = join('b');
    expect(r.sendChat('a', 'hello').ok).toBe(true);
    expect(r.sendChat('a', 'veto').ok).toBe(false);
    expect(r.sendChat('a', 'boom').ok).toBe(false);
    r.sendChat('b', 'announce');
    expect(r.sendChat('ghost', 'hi')).toMatchObject({ ok: false });
    for (const m of [a.m, b.m]) expect(m.chats.map((c) => c.text)).toEqual(['HELLO', 'server says hi']);
    expect(a.m.chats.map((c) => c.id)).toEqual([1, 2]);
    expect(await hookErrors()).toMatch(/hook="onChat"\} 1/);
    r.close();
  });
});

describe('Room: snapshots', () => {
  it('staggered: each member gets snapshotHz frames a second in its phase, ids counting by one per phase', () => {
    const { scheduler, room: r, join } = room();
    const ms = ['a', 'b', 'c', 'd'].map((id) => join(id).m); // entities 1..4: phases 1, 2, 0, 1
    scheduler.advance(1000);
    for (const m of ms) {
      expect(m.frames.length).toBe(20);
      expect(m.frames.map((f) => f.snapshotId)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    }
    // Members of one phase share the frame of a tick; phases fall on different ticks.
    expect(ms[0].frames[0]).toBe(ms[3].frames[0]);
    expect(new Set([ms[0], ms[1], ms[2]].map((m) => m.frames[0].tick)).size).toBe(3);
    // The frame holds copies of every entity, sorted by id, and the room's per-phase encode state.
    const f = ms[1].frames[5];
    expect(f.entities.map((e) => e.id)).toEqual([1, 2, 3, 4]);
    expect(f.entities[0]).not.toBe(r.getPlayer('a')!.entity);
    expect(ms[1].frames[6].encodeState).toBe(f.encodeState);
    expect(ms[1].frames[6].encodeCache).not.toBe(f.encodeCache);
    expect(f.world).toEqual({ width: 1000, height: 1000 });
    r.close();
    scheduler.advance(1000);
    expect(ms[0].frames.length).toBe(20);
  });

  it('not staggered: everyone on every third tick, one frame for all', () => {
    const { scheduler, room: r, join } = room({}, { staggerSnapshots: false });
    const a = join('a').m;
    const b = join('b').m;
    scheduler.advance(1000);
    expect(a.frames.length).toBe(20);
    expect(a.frames.map((f) => f.tick)).toEqual(Array.from({ length: 20 }, (_, i) => 3 * (i + 1)));
    expect(a.frames.every((f, i) => f === b.frames[i])).toBe(true);
    r.close();
  });

  it('a frame holds the entities as they are at its snapshot call, in an array the room refills for the next frame', () => {
    let r!: Room;
    const seen: { tick: number; copies: string; live: string }[] = [];
    const arrays = new Set<unknown>();
    const watcher: RoomMember = {
      playerId: 'w', name: 'w', playerJoined() {}, playerLeft() {}, chat() {},
      snapshot(f) {
        arrays.add(f.entities);
        const live = [...['a', 'b', 'c'].map((id) => r.getPlayer(id)!.entity)].sort((x, y) => x.id - y.id);
        seen.push({ tick: f.tick, copies: JSON.stringify(f.entities), live: JSON.stringify(live) });
      },
    };
    const made = room({ onTick: (ctx) => { for (const p of ctx.players.values()) p.entity.x = ctx.tick + p.entity.id; } }, { staggerSnapshots: false });
    r = made.room;
    made.join('a');
    made.join('b');
    made.join('c');
    r.watch(watcher);
    made.scheduler.advance(500);
    expect(seen.length).toBe(10);
    for (const s of seen) expect(s.copies).toBe(s.live);
    expect(new Set(seen.map((s) => s.copies)).size).toBe(10); // the state moved every frame
    expect(arrays.size).toBe(1);
    r.close();
  });

  it('frames list entities sorted by id also when players are not held in id order (restored seats, wrapped ids)', () => {
    const seat = (playerId: string, id: number) => ({
      playerId, name: playerId, entity: { id, x: id, y: 2 * id, angle: 0 }, input: { dx: 0, dy: 0 }, lastInputSeq: -1, data: {},
    });
    // Seats come back in this order (the map's order), ids 9 then 4; the next join gets 5.
    const { scheduler, room: r, join } = room({}, {
      staggerSnapshots: false, restore: { tick: 0, nextEntityId: 5, seats: [seat('p9', 9), seat('p4', 4)] },
    });
    const a = join('a');
    expect(a.player.entity.id).toBe(5);
    scheduler.advance(100);
    const f = a.m.frames.at(-1)!;
    expect(f.entities.map((e) => e.id)).toEqual([4, 5, 9]);
    expect(f.entities.map((e) => e.y)).toEqual([8, a.player.entity.y, 18]);
    r.close();
  });

  it('refuses a world outside 1..MAX_WORLD_SIZE and a snapshot rate that does not divide the tick rate', () => {
    const base = { id: 'x', scheduler: new ManualScheduler(), fanout: new InProcessChatFanout() };
    expect(() => new Room({ ...base, definition: { world: { width: 0, height: 10 } } })).toThrow(RangeError);
    expect(() => new Room({ ...base, definition: { world: { width: 10, height: 1e9 } } })).toThrow(RangeError);
    expect(() => new Room({ ...base, definition: {}, tickHz: 60, snapshotHz: 25 })).toThrow(RangeError);
  });
});

describe('Room: spectators', () => {
  it('a spectator gets snapshots in one phase, chat and join/leave notices; players never hear of it', () => {
    const { scheduler, room: r, join } = room();
    const a = join('a');
    const watcher = new Recorder('w');
    expect(r.watch(watcher)).toEqual({ ok: true });
    expect(r.spectatorCount).toBe(1);
    expect(r.playerCount).toBe(1);
    expect(a.m.joined).toEqual([]); // no playerJoined for a spectator
    expect(r.summaries().map((p) => p.playerId)).toEqual(['a']);
    join('b');
    expect(watcher.joined).toEqual([{ playerId: 'b', entityId: 2, name: 'b' }]);
    r.chat.announce('hello', scheduler.now());
    expect(watcher.chats.map((c) => c.text)).toEqual(['hello']);
    scheduler.advance(1000);
    expect(watcher.frames.length).toBe(20);
    // No entity of its own: the frames hold the players only.
    expect(watcher.frames[0].entities.map((e) => e.id)).toEqual([1, 2]);
    r.leave('b');
    expect(watcher.left.map((p) => p.playerId)).toEqual(['b']);
    // Suspended: nothing sent; reattached: again.
    r.spectators.suspend('w');
    r.chat.announce('missed', scheduler.now());
    scheduler.advance(500);
    expect(watcher.chats).toHaveLength(1);
    const again = new Recorder('w');
    expect(r.spectators.reattach('w', again)).toBe(true);
    scheduler.advance(500);
    expect(again.frames.length).toBe(10);
    r.spectators.remove('w');
    expect(r.spectatorCount).toBe(0);
    r.close();
  });

  it('counts against maxSpectators, not maxPlayers; spread over the snapshot phases; refused after close', () => {
    const { scheduler, room: r, join } = room({ maxPlayers: 1, maxSpectators: 3 });
    join('a');
    const ws = ['w1', 'w2', 'w3'].map((id) => new Recorder(id));
    for (const w of ws) expect(r.watch(w).ok).toBe(true);
    expect(r.watch(new Recorder('w4'))).toEqual({ ok: false, reason: 'spectators_full' });
    expect(r.join(new Recorder('b'))).toEqual({ ok: false, reason: 'room_full' });
    scheduler.advance(1000);
    // One spectator per phase: three different ticks.
    expect(new Set(ws.map((w) => w.frames[0].tick)).size).toBe(3);
    for (const w of ws) expect(w.frames.length).toBe(20);
    r.close();
    expect(r.watch(new Recorder('w5'))).toEqual({ ok: false, reason: 'closed' });
  });
});

