import type { PlayerInfo } from '../../shared/messages.js';
import type { EntityState } from '../../shared/snapshot/view.js';
import type { ChatMessage } from '../chat/types.js';

/**
 * A simulated thing clients see; the standard scene has one per player. Its state is the
 * snapshot's `EntityState` (shared/snapshot/view.ts): x in [0, world.width), y in
 * [0, world.height) (shared/scene.ts `wrapCoord`), angle in radians, (-PI, PI].
 */
export interface Entity extends EntityState {
  readonly id: number;
}

/** One decoded `input` message, already validated by the codec. */
export interface PlayerInput {
  /** Sequence number of the newest input in `inputs`. */
  seq: number;
  /** Newest snapshot id the client received (its ack). */
  ack: number;
  /** Up to the last few inputs, newest first (`inputs[i]` has seq `seq - i`), each [dx, dy] in [-1, 1]. */
  inputs: ReadonlyArray<readonly [number, number]>;
}

/** A player in a room, as hooks see it. */
export interface RoomPlayer {
  readonly playerId: string;
  readonly name: string;
  readonly entity: Entity;
  /** Current movement direction; set from input by the default `onInput`. */
  input: { dx: number; dy: number };
  /** Newest input sequence number applied (inputs with an older or equal seq are stale). */
  lastInputSeq: number;
  /** False while the player's session is suspended (disconnected, inside the resume window). */
  connected: boolean;
  /** Free per-player state for room definitions. */
  data: Record<string, unknown>;
}

/** What room hooks may read and do. */
export interface RoomContext {
  readonly id: string;
  /** Number of the current simulation step. */
  readonly tick: number;
  readonly world: { readonly width: number; readonly height: number };
  readonly players: ReadonlyMap<string, RoomPlayer>;
  /** Deterministic per-room random numbers in [0, 1) (seeded by the room options). */
  random(): number;
  /** Post a server chat line to everyone in the room. */
  announce(text: string): void;
}

/**
 * A kind of room: its size and its game rules as hooks. Hooks run inside the tick loop or the
 * message handler; an exception thrown by a hook is caught and counted, never taking the room
 * down (a throwing `onJoin` refuses that join).
 */
export interface RoomDefinition {
  /** Players (connected or suspended) the room holds; more get ROOM_FULL. Default 64. */
  maxPlayers?: number;
  /**
   * Spectators the room takes (members without an entity: they watch and read chat, players do
   * not see them; server/rooms/spectators.ts). More get SPECTATORS_FULL. Default 128, at most 1024.
   */
  maxSpectators?: number;
  /** World size in units; default 1000 x 1000. */
  world?: { width: number; height: number };
  /** A player entered; place its entity here. */
  onJoin?(room: RoomContext, player: RoomPlayer): void;
  /** A player left for good (not called for a suspension that is later resumed). */
  onLeave?(room: RoomContext, player: RoomPlayer): void;
  /**
   * A fresh input arrived (stale and duplicate inputs are filtered before this). Without this
   * hook the newest [dx, dy] becomes `player.input`.
   */
  onInput?(room: RoomContext, player: RoomPlayer, input: PlayerInput): void;
  /** One fixed simulation step. */
  onTick?(room: RoomContext, dtSeconds: number): void;
  /** A chat line passed the rate limit; return new text, or null to drop it. */
  onChat?(room: RoomContext, player: RoomPlayer, text: string): string | null | void;
  /**
   * Cluster mode (docs/cluster.md): the definition's own state, as plain data (objects, arrays,
   * strings, numbers, booleans, null, Uint8Array), taken at every checkpoint and at a handoff.
   * Players' positions, inputs and `data` travel without it; this is for what the definition
   * keeps elsewhere (scores, a round timer). Runs between ticks; a throw skips that checkpoint.
   */
  serialize?(room: RoomContext): unknown;
  /**
   * Cluster mode: on the node that takes the room over, after the seats are back and before the
   * first tick, with what `serialize` returned on the old owner.
   */
  restore?(room: RoomContext, state: unknown): void;
}

/** The state of a room at a snapshot tick; shared by every member's snapshot encoder. */
export interface WorldFrame {
  readonly roomId: string;
  /** Room-wide snapshot id, 1, 2, 3... (the id clients ack); the same for every member. */
  readonly snapshotId: number;
  readonly tick: number;
  /** Server time (ms) of the tick. */
  readonly time: number;
  readonly world: { readonly width: number; readonly height: number };
  /**
   * Copies of the room's entities at this tick, ordered by id. Valid during the room's snapshot
   * calls only: the room refills the same array and objects for its next frame (no P objects
   * per tick), so a member copies what it keeps.
   */
  readonly entities: ReadonlyArray<Readonly<Entity>>;
  /**
   * Encodings of this frame shared between members: key is chosen by the encoder (e.g. the
   * baseline tick and budget), so clients with the same baseline share one encoding per tick.
   */
  readonly encodeCache: Map<string, unknown>;
  /**
   * State encoders keep from one frame to the next of this room and snapshot series (the same
   * object every frame), e.g. the round-robin cursors of the cell schedule.
   */
  readonly encodeState: Map<string, unknown>;
}


/** The session side of a room membership: how the room talks to one player. */
export interface RoomMember {
  readonly playerId: string;
  readonly name: string;
  playerJoined(player: PlayerInfo): void;
  playerLeft(player: PlayerInfo): void;
  chat(message: ChatMessage): void;
  snapshot(frame: WorldFrame): void;
}
