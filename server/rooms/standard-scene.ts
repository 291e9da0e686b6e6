import { STANDARD_PLAYER_SPEED } from '../../shared/scene.js';
import type { RoomContext, RoomDefinition, RoomPlayer } from './types.js';

/** Standard scene (DESIGN.md): movement speed along the input direction, units per second (shared with client prediction). */
export const STANDARD_SPEED = STANDARD_PLAYER_SPEED;
export const STANDARD_WORLD = { width: 1000, height: 1000 } as const;
/** Players per standard-scene room; the benchmark goes to 512. */
export const STANDARD_MAX_PLAYERS = 1024;

/** Wrap a coordinate into [0, size). */
export function wrap(value: number, size: number): number {
  const r = value % size;
  return r < 0 ? r + size : r;
}

/**
 * Moves one player for `dt` seconds: speed STANDARD_SPEED along its input direction (a longer
 * than unit input is scaled down to unit length, so diagonals are not faster), wrapping at the
 * world's edges. Exported so the client's prediction can use the very same rule.
 */
export function moveStandard(player: RoomPlayer, dtSeconds: number, world: { width: number; height: number }): void {
  const { dx, dy } = player.input;
  const len = Math.hypot(dx, dy);
  if (len === 0) return;
  const scale = len > 1 ? 1 / len : 1;
  const e = player.entity;
  e.x = wrap(e.x + dx * scale * STANDARD_SPEED * dtSeconds, world.width);
  e.y = wrap(e.y + dy * scale * STANDARD_SPEED * dtSeconds, world.height);
  e.angle = Math.atan2(dy, dx);
}

/** The default room definition: the standard scene of DESIGN.md. */
export const standardScene: RoomDefinition = {
  maxPlayers: STANDARD_MAX_PLAYERS,
  world: { ...STANDARD_WORLD },
  onJoin(room: RoomContext, player: RoomPlayer) {
    player.entity.x = room.random() * room.world.width;
    player.entity.y = room.random() * room.world.height;
    player.entity.angle = 0;
  },
  onTick(room: RoomContext, dtSeconds: number) {
    for (const player of room.players.values()) moveStandard(player, dtSeconds, room.world);
  },
};
