/**
 * Rendered-position error: how far from the truth a player sees the others. Pure (no I/O), so
 * it is tested with hand-computed tables.
 *
 * Inputs: frame rows from observers (a bot's WorldView sampled at 60 Hz, or the real page's
 * drawn frames) and the server's ground truth (every player's position after every simulation
 * step). For each drawn remote player at frame time t, the error is the distance, the short way
 * round the wrapping world, between where it was drawn and where the server had it at t (the
 * newest truth row at or before t). That charges everything a player sees: the interpolation
 * delay (rendering in the past), snapshots that arrived late or never, and extrapolation that
 * guessed wrong. Both sides use the machine's one epoch clock (the namespaces share the kernel).
 *
 * A *freeze* is a (frame, remote player) pair drawn exactly where the observer's previous frame
 * drew it while the player really moved between the two frames (the buffer ran dry and held).
 */
import { wrappedDistance } from '../client/game/wrap.js';
import { summarize, type Distribution } from './metrics.js';
import { FRAME_FIELDS, TRUTH_FIELDS } from './types.js';

/** A truth move below this (world units) between two frames counts as standing still. */
const STILL_UNITS = 0.01;
/** Drawn positions closer than this are "the same place" (a held frame repeats exact values). */
const SAME_PLACE_UNITS = 1e-6;

export interface RenderErrorInput {
  /** Flat frame rows [t, observer, id, x, y] (FRAME_FIELDS each). */
  frames: readonly number[];
  /** Flat truth rows [t, id, x, y] (TRUTH_FIELDS each), any order. */
  truth: readonly number[];
  world: { w: number; h: number };
  /** Only frames with start <= t <= end count. */
  start: number;
  end: number;
}

export interface RenderErrorResult {
  errors: number[];
  summary: Distribution;
  /** Remote-player frames compared with the truth. */
  compared: number;
  /** Of those with a previous frame and a moving player: how many were drawn frozen. */
  freezeCandidates: number;
  frozen: number;
  /** Frame rows with no truth at or before their time (entity unknown to the log, or too early). */
  noTruth: number;
}

interface Track {
  t: Float64Array;
  x: Float64Array;
  y: Float64Array;
}

/** Truth rows grouped per entity, sorted by time. */
function tracks(truth: readonly number[]): Map<number, Track> {
  const rows = new Map<number, Array<[number, number, number]>>();
  for (let i = 0; i + TRUTH_FIELDS <= truth.length; i += TRUTH_FIELDS) {
    const id = truth[i + 1];
    let r = rows.get(id);
    if (!r) rows.set(id, (r = []));
    r.push([truth[i], truth[i + 2], truth[i + 3]]);
  }
  const out = new Map<number, Track>();
  for (const [id, r] of rows) {
    r.sort((a, b) => a[0] - b[0]);
    out.set(id, { t: Float64Array.from(r, (v) => v[0]), x: Float64Array.from(r, (v) => v[1]), y: Float64Array.from(r, (v) => v[2]) });
  }
  return out;
}

/** Index of the newest entry at or before `t`, -1 when none. */
function atOrBefore(times: Float64Array, t: number): number {
  let lo = 0;
  let hi = times.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
}

export function renderedError(input: RenderErrorInput): RenderErrorResult {
  const { frames, world, start, end } = input;
  const byId = tracks(input.truth);
  const errors: number[] = [];
  let noTruth = 0;
  let freezeCandidates = 0;
  let frozen = 0;
  /** Per observer and entity: the previous frame's drawn position and truth index. */
  const prev = new Map<string, { x: number; y: number; k: number }>();
  for (let i = 0; i + FRAME_FIELDS <= frames.length; i += FRAME_FIELDS) {
    const t = frames[i];
    if (t < start || t > end) continue;
    const id = frames[i + 2];
    const x = frames[i + 3];
    const y = frames[i + 4];
    const track = byId.get(id);
    const k = track ? atOrBefore(track.t, t) : -1;
    if (!track || k < 0) {
      noTruth++;
      continue;
    }
    errors.push(wrappedDistance(x, y, track.x[k], track.y[k], world.w, world.h));
    const key = `${frames[i + 1]}:${id}`;
    const p = prev.get(key);
    if (p) {
      const moved = wrappedDistance(track.x[p.k], track.y[p.k], track.x[k], track.y[k], world.w, world.h) > STILL_UNITS;
      if (moved) {
        freezeCandidates++;
        if (Math.abs(p.x - x) < SAME_PLACE_UNITS && Math.abs(p.y - y) < SAME_PLACE_UNITS) frozen++;
      }
    }
    prev.set(key, { x, y, k });
  }
  return { errors, summary: summarize(errors), compared: errors.length, freezeCandidates, frozen, noTruth };
}
