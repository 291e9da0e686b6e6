/**
 * Rules of the standard scene (../shared/DESIGN.md) the client must mirror for prediction.
 * The world size arrives in `welcome`; the speed does not, so it comes from shared/scene.ts and
 * is checked against the server's simulation by test/client/game/prediction-vs-server.test.ts.
 */
import { STANDARD_PLAYER_SPEED } from '../../shared/scene.js';

/** Player speed along its input direction, world units per second (shared STANDARD_PLAYER_SPEED). */
export const STANDARD_SCENE_SPEED = STANDARD_PLAYER_SPEED;
