/**
 * Rules of the standard scene (../shared/DESIGN.md) the client must mirror for prediction.
 * The world size arrives in `welcome`; the speed does not, so it is fixed here and checked
 * against the server's simulation by test/client/game/prediction.test.ts.
 */

/** Player speed along its input direction, world units per second. */
export const STANDARD_SCENE_SPEED = 100;
