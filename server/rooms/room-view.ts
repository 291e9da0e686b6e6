/**
 * Read-only views of rooms: what the embedding API (`GameServer.rooms`) and tools may see of a
 * room without being able to change it. The `RoomManager` itself (acquire/release holds, close)
 * and the `Room` (join, input, chat, its loop) stay inside the server: an embedder that called
 * `acquire` without `release`, or `close` on a live room, would break the session layer's books.
 *
 * Like the session views (session/session-view.ts), a view reads the live room: its getters
 * follow the room's state, it offers no setter, and it is frozen. Values that are objects in the
 * room (a player's entity and input) are handed out as frozen copies, so nothing written to them
 * reaches the simulation.
 */
import type { Room } from './room.js';
import type { RoomManager } from './room-manager.js';
import type { RoomPlayer } from './types.js';

/** One player in a room as the embedding API sees it (a snapshot taken when it was asked for). */
export interface RoomPlayerView {
  readonly playerId: string;
  readonly name: string;
  /** The player's entity: id, position and heading at the time of the call. */
  readonly entity: { readonly id: number; readonly x: number; readonly y: number; readonly angle: number };
  /** The movement direction the simulation applies (from the newest input). */
  readonly input: { readonly dx: number; readonly dy: number };
  /** Newest input sequence number applied. */
  readonly lastInputSeq: number;
  /** False while the player's session is suspended (inside the resume window). */
  readonly connected: boolean;
}

/** One room as the embedding API sees it. */
export interface RoomView {
  readonly id: string;
  readonly world: { readonly width: number; readonly height: number };
  readonly maxPlayers: number;
  readonly playerCount: number;
  /** Spectators watching now, and how many the room takes (server/rooms/spectators.ts). */
  readonly spectatorCount: number;
  readonly maxSpectators: number;
  /** Number of the last simulated step. */
  readonly tick: number;
  /** Simulation steps dropped because the room's loop fell too far behind (tick-loop.ts). */
  readonly skippedSteps: number;
  readonly isClosed: boolean;
  /** The player `playerId`, or undefined when not in this room. */
  getPlayer(playerId: string): RoomPlayerView | undefined;
}

/** The rooms of one server (`GameServer.rooms`). */
export interface RoomDirectory {
  /** The open room `roomId` in this process; undefined when there is none (never creates one). */
  get(roomId: string): RoomView | undefined;
  /** Every open room in this process. */
  list(): RoomView[];
}

function playerView(p: RoomPlayer): RoomPlayerView {
  const e = p.entity;
  return Object.freeze({
    playerId: p.playerId,
    name: p.name,
    entity: Object.freeze({ id: e.id, x: e.x, y: e.y, angle: e.angle }),
    input: Object.freeze({ dx: p.input.dx, dy: p.input.dy }),
    lastInputSeq: p.lastInputSeq,
    connected: p.connected,
  });
}

/** The read-only view of `room`. */
export function roomView(room: Room): RoomView {
  return Object.freeze({
    id: room.id,
    world: Object.freeze({ width: room.world.width, height: room.world.height }),
    maxPlayers: room.maxPlayers,
    get playerCount() { return room.playerCount; },
    get spectatorCount() { return room.spectatorCount; },
    get maxSpectators() { return room.maxSpectators; },
    get tick() { return room.loop.tick; },
    get skippedSteps() { return room.loop.skippedSteps; },
    get isClosed() { return room.isClosed; },
    getPlayer: (playerId: string) => {
      const p = room.getPlayer(playerId);
      return p ? playerView(p) : undefined;
    },
  });
}

/** A directory over `manager` that hands out views only. */
export function roomDirectory(manager: Pick<RoomManager, 'get' | 'list'>): RoomDirectory {
  const views = new WeakMap<Room, RoomView>();
  const viewOf = (room: Room): RoomView => {
    let v = views.get(room);
    if (!v) views.set(room, (v = roomView(room)));
    return v;
  };
  return Object.freeze({
    get: (roomId: string) => {
      const room = manager.get(roomId);
      return room ? viewOf(room) : undefined;
    },
    list: () => manager.list().map(viewOf),
  });
}
