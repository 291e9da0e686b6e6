/**
 * Arithmetic on the wrapping (toroidal) arena of the standard scene: a player leaving one edge
 * re-enters at the opposite one, so "between" two positions means the short way round. The wrap
 * rule itself, `wrapCoord`, is the scene's (shared/scene.ts), the one the server simulates with.
 */
import { wrapCoord } from '../../shared/scene.js';

/** Signed shortest displacement from `from` to `to` on a ring of length `size`, in [-size/2, size/2). */
export function shortDelta(from: number, to: number, size: number): number {
  const d = wrapCoord(to - from, size);
  return d >= size / 2 ? d - size : d;
}

/** Linear interpolation the short way round; result wrapped into [0, size). */
export function lerpWrapped(a: number, b: number, t: number, size: number): number {
  return wrapCoord(a + shortDelta(a, b, size) * t, size);
}

const TAU = Math.PI * 2;

/** Interpolates two angles (radians) the short way round; result in [0, 2π). */
export function lerpAngle(a: number, b: number, t: number): number {
  return lerpWrapped(wrapCoord(a, TAU), wrapCoord(b, TAU), t, TAU);
}

/** Distance the short way round on the torus. */
export function wrappedDistance(ax: number, ay: number, bx: number, by: number, w: number, h: number): number {
  return Math.hypot(shortDelta(ax, bx, w), shortDelta(ay, by, h));
}

/**
 * Offsets at which a thing at (x, y) must also be drawn so that, near an edge, the part that
 * has wrapped shows on the opposite side: for each axis within `margin` of an edge, a copy one
 * world size away (and the diagonal copy near a corner). Excludes [0, 0].
 */
export function wrapCopies(x: number, y: number, w: number, h: number, margin: number): Array<[number, number]> {
  const xs = [0];
  const ys = [0];
  if (x < margin) xs.push(w);
  else if (x > w - margin) xs.push(-w);
  if (y < margin) ys.push(h);
  else if (y > h - margin) ys.push(-h);
  const out: Array<[number, number]> = [];
  for (const dx of xs) for (const dy of ys) if (dx !== 0 || dy !== 0) out.push([dx, dy]);
  return out;
}
