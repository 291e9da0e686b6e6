/**
 * Turning keys and pointer targets into the move direction sent to the server. Pure: the DOM
 * listeners live in client/ui/input-binder.ts.
 */

/** Key codes (KeyboardEvent.code, layout-independent) and the axis they push. */
const KEY_AXES: ReadonlyMap<string, [number, number]> = new Map(Object.entries({
  KeyW: [0, -1],
  ArrowUp: [0, -1],
  KeyS: [0, 1],
  ArrowDown: [0, 1],
  KeyA: [-1, 0],
  ArrowLeft: [-1, 0],
  KeyD: [1, 0],
  ArrowRight: [1, 0],
} satisfies Record<string, [number, number]>));

/** Whether a key code is one of the movement keys. */
export function isMovementKey(code: string): boolean {
  return KEY_AXES.has(code);
}

/**
 * Direction from the set of held keys: opposite keys cancel, diagonals are unit length
 * (screen coordinates: y grows downward, as in the world).
 */
export function keysToDirection(held: Iterable<string>): [number, number] {
  let x = 0;
  let y = 0;
  const seen = new Set<string>();
  for (const code of held) {
    const axis = KEY_AXES.get(code);
    // W and ArrowUp together must not move twice as fast.
    const key = axis ? `${axis[0]},${axis[1]}` : '';
    if (!axis || seen.has(key)) continue;
    seen.add(key);
    x += axis[0];
    y += axis[1];
  }
  const len = Math.hypot(x, y);
  return len > 0 ? [x / len, y / len] : [0, 0];
}

/** Within this distance (world units) of a pointer target the player stops. */
export const ARRIVE_RADIUS = 2;

/**
 * Direction toward a pointer target, straight across the screen as the player sees it (not the
 * short way round the wrapping edges: a click to the right should walk right). Null once
 * arrived, meaning the target is done.
 */
export function steerToward(from: { x: number; y: number }, target: { x: number; y: number }): [number, number] | null {
  const dx = target.x - from.x;
  const dy = target.y - from.y;
  const len = Math.hypot(dx, dy);
  if (!(len > ARRIVE_RADIUS)) return null;
  return [dx / len, dy / len];
}
