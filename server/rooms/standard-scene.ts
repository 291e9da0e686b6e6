import { STANDARD_PLAYER_SPEED, STANDARD_WORLD, stepEntity, type WorldSize } from '../../shared/scene.js';
import type { RoomContext, RoomDefinition, RoomPlayer } from './types.js';

/** Standard scene (DESIGN.md): movement speed along the input direction, units per second (shared/scene.ts). */
export const STANDARD_SPEED = STANDARD_PLAYER_SPEED;
export { STANDARD_WORLD };
/** Players per standard-scene room; the benchmark goes to 512. */
export const STANDARD_MAX_PLAYERS = 1024;

/**
 * Moves one player for `dt` seconds by the standard scene's rule, `stepEntity` of
 * shared/scene.ts (speed STANDARD_SPEED along the input, a longer than unit input scaled down
 * to unit length, wrapping at the world's edges): the step the client's prediction runs
 * (`stepPosition`). A player that moved faces its input direction.
 */
export function moveStandard(player: RoomPlayer, dtSeconds: number, world: WorldSize): void {
  stepEntity(player.entity, player.input.dx, player.input.dy, dtSeconds, world);
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
