/**
 * The standard scene's rules (../shared/DESIGN.md, "The standard scene"), once for both ends:
 * the server's room definition (server/rooms/standard-scene.ts) steps every player with
 * `stepPosition` at 60 Hz; the client's prediction (client/game/prediction.ts) moves its own
 * player with the same function over the spans between its inputs; interpolation, the preview
 * and the benches wrap with the same `wrapCoord`. The world size travels in `welcome`; the speed
 * does not, so it lives here too. test/shared/scene.test.ts pins the edges;
 * test/client/game/prediction-vs-server.test.ts checks that prediction equals the server step.
 *
 * Pure and I/O-free; nothing here allocates on the server's per-tick path.
 */

/**
 * Player speed along its input direction, world units per second. An input `[dx, dy]` (each
 * component in [-1, 1], scaled to unit length when longer) moves a player by
 * `STANDARD_PLAYER_SPEED * [dx, dy]` per second, so a held key crosses the 1000-unit world in 10 s.
 */
export const STANDARD_PLAYER_SPEED = 100;

/** Width and height of a world, in units. */
export interface WorldSize {
  readonly width: number;
  readonly height: number;
}

/** The standard scene's world: 1000 x 1000 units. */
export const STANDARD_WORLD: WorldSize = Object.freeze({ width: 1000, height: 1000 });

/**
 * Maps a coordinate onto the wrapping (toroidal) world: the result is in [0, size) for every
 * finite `value`, however far outside it lies. Two edges need care, and both ends used to
 * differ on them: `%` keeps the dividend's sign, so -0 comes back as -0 (returned as 0 here);
 * and a tiny negative remainder such as -1e-14 plus `size` rounds to `size` itself, which is
 * outside the range (folded to 0 here, the point it stands for). A non-finite `value` or a
 * `size` that is not a positive finite number gives NaN: there is no position to map to, and
 * callers guard their inputs (stepPosition ignores non-finite directions and durations).
 */
export function wrapCoord(value: number, size: number): number {
  const r = value % size;
  const w = r < 0 ? r + size : r;
  // `w + 0` turns -0 into 0 (a remainder of -0 is not < 0).
  return w >= size ? 0 : w + 0;
}

/** A direction scaled for movement: each component in [-1, 1], length at most 1. */
export interface Velocity {
  x: number;
  y: number;
}

/**
 * The direction the scene applies for an input `[dx, dy]`: each component clamped to [-1, 1]
 * (NaN and ±Infinity become 0), then the vector scaled down to length 1 when longer, so a
 * diagonal is not faster. Decoded inputs are already in range (the codec validates them), so on
 * the server only the scaling does anything; a room hook that sets a wild input is tamed here.
 */
export function inputVelocity(dx: number, dy: number): Velocity {
  const cx = clampAxis(dx);
  const cy = clampAxis(dy);
  const scale = unitScale(cx, cy);
  return { x: cx * scale, y: cy * scale };
}

/** One input component clamped to [-1, 1]; NaN and ±Infinity become 0. */
export function clampAxis(v: number): number {
  if (v >= -1 && v <= 1) return v; // every decoded input: one comparison pair, no call
  if (v > 1) return v === Infinity ? 0 : 1;
  if (v < -1) return v === -Infinity ? 0 : -1;
  return 0; // NaN
}

/**
 * The direction a player faces while input `[dx, dy]` moves it: `atan2` of the clamped
 * components, in (-π, π]. For an input that does not move it (zero or non-finite) the player
 * keeps facing the way it did: `current`.
 */
export function inputHeading(dx: number, dy: number, current: number): number {
  const cx = clampAxis(dx);
  const cy = clampAxis(dy);
  return cx !== 0 || cy !== 0 ? Math.atan2(cy, cx) : current;
}

/**
 * The scale that brings the clamped direction (cx, cy) to length at most 1: `1 / length` when
 * longer, else 1. Multiply by 1 / len (not divide by len): the arithmetic both ends have always
 * used, so prediction replays bit for bit what the server simulated.
 */
function unitScale(cx: number, cy: number): number {
  const len = Math.hypot(cx, cy);
  return len > 1 ? 1 / len : 1;
}

/** A mutable position (an entity, or a prediction's scratch point). */
export interface Position {
  x: number;
  y: number;
}

/**
 * One movement step of the standard scene: moves `pos` in place by `speed * dtSeconds` along
 * `inputVelocity(dx, dy)` and wraps both coordinates into the world. Returns false, leaving
 * `pos` untouched, when there is nothing to do: a zero (or non-finite) direction, or a
 * duration that is not a positive finite number.
 *
 * This is the rule both ends run: the server once per simulation tick (dt = 1/60 s, through
 * `stepEntity`), the client's prediction once per span between two of its inputs (any dt); for
 * the same start, input and dt they compute the very same bits. It allocates nothing.
 */
export function stepPosition(
  pos: Position, dx: number, dy: number, dtSeconds: number, world: WorldSize, speed: number = STANDARD_PLAYER_SPEED,
): boolean {
  if (!(dtSeconds > 0 && dtSeconds < Infinity)) return false;
  const cx = clampAxis(dx);
  const cy = clampAxis(dy);
  if (cx === 0 && cy === 0) return false;
  advance(pos, cx, cy, dtSeconds, world, speed);
  return true;
}

/** A position with a heading (radians): a simulated entity. */
export interface Pose extends Position {
  angle: number;
}

/**
 * `stepPosition` for an entity that also turns: when it moves, it faces its input
 * (`inputHeading`). The server's standard scene runs this for every player at every tick, so
 * it clamps once and computes the heading from the same clamped components.
 */
export function stepEntity(
  e: Pose, dx: number, dy: number, dtSeconds: number, world: WorldSize, speed: number = STANDARD_PLAYER_SPEED,
): boolean {
  if (!(dtSeconds > 0 && dtSeconds < Infinity)) return false;
  const cx = clampAxis(dx);
  const cy = clampAxis(dy);
  if (cx === 0 && cy === 0) return false;
  advance(e, cx, cy, dtSeconds, world, speed);
  e.angle = Math.atan2(cy, cx);
  return true;
}

/** The step itself, for a clamped, non-zero direction (cx, cy) and a valid duration. */
function advance(pos: Position, cx: number, cy: number, dtSeconds: number, world: WorldSize, speed: number): void {
  const scale = unitScale(cx, cy);
  pos.x = wrapCoord(pos.x + cx * scale * speed * dtSeconds, world.width);
  pos.y = wrapCoord(pos.y + cy * scale * speed * dtSeconds, world.height);
}
