/**
 * Rules of the standard scene (../shared/DESIGN.md) that both ends need. The server's room
 * definition (server/rooms/standard-scene.ts) simulates it; the client predicts its own player
 * with the same rule, and the world size arrives in `welcome` while the speed does not, so it
 * lives here.
 */

/**
 * Player speed along its input direction, world units per second. An input `[dx, dy]` (each
 * component in [-1, 1], scaled to unit length when longer) moves a player by
 * `STANDARD_PLAYER_SPEED * [dx, dy]` per second, so a held key crosses the 1000-unit world in 10 s.
 */
export const STANDARD_PLAYER_SPEED = 100;
