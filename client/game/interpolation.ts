/**
 * Adaptive interpolation buffer for remote entities (the "entity interpolation" of Valve's
 * Source engine and Gaffer on Games' "Snapshot Interpolation"): render the world a little in the
 * past, between two received snapshots, so that motion stays smooth although snapshots arrive
 * at 20 Hz, with jitter, and some never arrive at all (unreliable datagrams).
 *
 * Clock model. Each snapshot carries the server time it describes. `transit = localReceiveTime
 * - serverTime` is one-way delay plus the (unknown, constant) clock offset; its minimum over a
 * recent window is the fastest path. We render the server time `now - playoutOffset`, where the
 * playout offset is that minimum transit plus the buffering delay. The delay targets about
 * three snapshot intervals (enough to bridge two consecutive lost snapshots), plus a multiple of
 * the measured jitter, plus extra intervals when the measured loss makes longer runs of lost
 * snapshots likely. The render clock never jumps: the offset grows quickly toward a larger
 * target (the render clock briefly runs slower) and shrinks back slowly (it runs slightly
 * faster), so corrections are invisible.
 *
 * Pure: time comes in as arguments; no timers, no DOM.
 */
import { wrapCoord } from '../../shared/scene.js';
import type { EntityState } from '../../shared/snapshot/view.js';
import { unwrapTime32 } from '../../shared/time32.js';
import { lerpAngle, lerpWrapped, shortDelta, wrappedDistance } from './wrap.js';
import type { SnapshotPath } from '../net/game-client-types.js';

/** One entity as rendered at a given instant (a snapshot's EntityState, world units and radians). */
export interface RenderedEntity extends EntityState {
  /** True when the render time is past the newest snapshot and this state was extrapolated (or held). */
  extrapolated: boolean;
}

export interface InterpolationConfig {
  /** Nominal time between snapshots (1000 / snapshotHz). */
  snapshotIntervalMs: number;
  worldW: number;
  worldH: number;
  /** Base target delay in snapshot intervals (default 3: bridges two lost snapshots in a row). */
  baseIntervals?: number;
  /**
   * Extra intervals cover runs of lost snapshots until a longer run is rarer than this
   * (default LOSS_RESIDUAL; 1 adds nothing for loss).
   */
  lossResidual?: number;
  /** Target delay grows by this multiple of the measured jitter (default 2). */
  jitterFactor?: number;
  /** Lower bound of the target delay (default 2 snapshot intervals). */
  minDelayMs?: number;
  /** Upper bound of the target delay (default 500 ms: beyond that the game feels laggy anyway). */
  maxDelayMs?: number;
  /** How fast the delay may grow, in ms of delay per ms of real time (default 0.25). */
  growRate?: number;
  /** How fast the delay may shrink, in ms of delay per ms of real time (default 0.02). */
  shrinkRate?: number;
  /** Longest extrapolation past the newest snapshot before holding still (default 1 interval). */
  maxExtrapolationMs?: number;
  /** A move longer than this between two snapshots is a teleport: snap, don't glide (default 100). */
  teleportDistance?: number;
}

/**
 * Most snapshots kept. 32 at 20 Hz is 1.6 s, three times the largest delay (500 ms); older ones
 * are pruned as the render time passes them, so this bound only bites if time stalls.
 */
export const MAX_BUFFERED_SNAPSHOTS = 32;
/** Transit samples over which the minimum (fastest path) is taken: 64 at 20 Hz is ~3 s. */
export const TRANSIT_WINDOW = 64;
/** Loss estimate is an exponential average over about this many snapshot slots (5 s at 20 Hz). */
export const LOSS_WINDOW = 100;
/** Extra delay covers runs of lost snapshots until the chance of a longer run is below this. */
export const LOSS_RESIDUAL = 1e-3;
/**
 * The datagram path's residual: with two intervals a run of two losses is the first the buffer
 * does not bridge; a run is allowed that often up to 10 % loss (1 % of snapshot slots at 10 %),
 * and the delay grows beyond (at 15 %: three intervals).
 */
export const DATAGRAM_LOSS_RESIDUAL = 0.1;
/** Loss below this adds no delay (the base already bridges two lost snapshots in a row). */
export const LOSS_FLOOR = 0.01;
/** Most extra intervals added for loss. */
export const MAX_LOSS_INTERVALS = 4;
/** When the wanted offset is this far from the current one (reconnect, server restart), jump. */
export const RESYNC_THRESHOLD_MS = 1000;
/** RFC 3550 §6.4.1 jitter estimator gain. */
const JITTER_GAIN = 1 / 16;

/** The two knobs of the delay rule (InterpolationConfig `baseIntervals`, `lossResidual`). */
export interface DelayRule {
  baseIntervals: number;
  lossResidual: number;
}

/**
 * The delay rule for each way snapshots can travel: the one place it is chosen. The buffer
 * starts with `ordered` and applies the path its snapshots report (WorldView passes it on);
 * values given in the config win (the experiment harness compares rules that way).
 *
 * - `ordered` (reliable stream, WebSocket): three intervals. Nothing is lost, but a lost packet
 *   holds back every later snapshot for at least a round trip; the jitter term follows those
 *   stalls, and the base must cover the rest.
 * - `datagram`: two intervals, and extra ones only above 10 % loss (DATAGRAM_LOSS_RESIDUAL).
 *   Nothing holds a datagram back, so the buffer only has to bridge the gap a lost one leaves;
 *   two intervals (plus the jitter term) bridge a single loss, and longer runs are rare below
 *   10 %. Measured over the delay stage at 100 and 200 ms RTT with 5 % loss and 5 ms jitter
 *   (docs/experiments/2026-12-03-delay-loss, "Interpolation delay over datagrams"): rendered
 *   error p50 14.3 / 19.2 units against 23.9 / 29.1 with the ordered rule (which waited
 *   205 ms), extrapolating in 0.5 / 0.3 % of frames, never frozen.
 */
export const DELAY_RULES: Readonly<Record<SnapshotPath, Readonly<DelayRule>>> = {
  ordered: { baseIntervals: 3, lossResidual: LOSS_RESIDUAL },
  datagram: { baseIntervals: 2, lossResidual: DATAGRAM_LOSS_RESIDUAL },
};

interface BufferedSnapshot {
  /** Unwrapped server time, ms. */
  t: number;
  entities: Map<number, EntityState>;
}

/** Extra intervals of delay for a loss rate `p`: enough that a longer run of losses is rarer than `residual`. */
export function lossIntervals(p: number, baseIntervals = 3, residual = LOSS_RESIDUAL): number {
  if (!(p >= LOSS_FLOOR)) return 0;
  if (p >= 1) return MAX_LOSS_INTERVALS;
  // A run of n losses has probability p^n; with d intervals of delay we bridge d - 1 losses.
  const run = Math.ceil(Math.log(residual) / Math.log(p));
  return Math.max(0, Math.min(MAX_LOSS_INTERVALS, run + 1 - baseIntervals));
}

export class InterpolationBuffer {
  private readonly cfg: Required<InterpolationConfig>;
  private snapshots: BufferedSnapshot[] = [];
  private transits: number[] = [];
  private transitIdx = 0;
  private lastTransit: number | null = null;
  private jitter = 0;
  private loss = 0;
  /** Unwrapped server time of the newest snapshot; null before the first. */
  private newestT: number | null = null;
  /** local - server time at which we render; null until the first snapshot. */
  private offset: number | null = null;
  private lastAdvance = 0;
  private starved = 0;
  private pathValue: SnapshotPath = 'ordered';

  constructor(private readonly config: InterpolationConfig) {
    const iv = config.snapshotIntervalMs;
    if (!(iv > 0)) throw new RangeError('snapshotIntervalMs must be positive');
    this.cfg = {
      ...DELAY_RULES.ordered,
      jitterFactor: 2,
      minDelayMs: 2 * iv,
      maxDelayMs: 500,
      growRate: 0.25,
      shrinkRate: 0.02,
      maxExtrapolationMs: iv,
      teleportDistance: 100,
      ...config,
    };
  }

  /**
   * The way the snapshots travel (DELAY_RULES): the target delay follows its rule from now on,
   * reached at the usual grow and shrink rates, so the switch is smooth.
   */
  usePath(path: SnapshotPath): void {
    if (path === this.pathValue) return;
    this.pathValue = path;
    const rule = DELAY_RULES[path];
    this.cfg.baseIntervals = this.config.baseIntervals ?? rule.baseIntervals;
    this.cfg.lossResidual = this.config.lossResidual ?? rule.lossResidual;
  }

  /** The path whose delay rule is in force. */
  get path(): SnapshotPath {
    return this.pathValue;
  }

  /** Forget everything (use on a fresh session; a resumed one may keep the buffer). */
  reset(): void {
    this.snapshots = [];
    this.transits = [];
    this.transitIdx = 0;
    this.lastTransit = null;
    this.jitter = 0;
    this.loss = 0;
    this.newestT = null;
    this.offset = null;
    this.starved = 0;
  }

  /**
   * Adds a snapshot. `serverTimeMs` is the u32 server time from its header, `localTimeMs` the
   * local receive time. Returns false for a duplicate (ignored), or one too old to matter (its
   * transit and loss accounting still count). The entity list is the complete visible set at
   * that time.
   */
  push(serverTimeMs: number, entities: readonly EntityState[], localTimeMs: number): boolean {
    if (!Number.isFinite(serverTimeMs) || !Number.isFinite(localTimeMs)) return false;
    const t = this.unwrap(serverTimeMs);
    const iv = this.cfg.snapshotIntervalMs;

    if (this.newestT !== null && Math.abs(t - this.newestT) > 30_000) {
      // Another server or a restarted one: its timeline has nothing to do with ours.
      this.reset();
      return this.push(serverTimeMs, entities, localTimeMs);
    }

    // A duplicated datagram carries nothing new (and must not count as a late arrival).
    if (this.snapshots.some((s) => s.t === t)) return false;
    this.observeTransit(localTimeMs - t);

    if (this.newestT === null) {
      this.newestT = t;
    } else if (t > this.newestT) {
      const missed = Math.max(0, Math.round((t - this.newestT) / iv) - 1);
      const a = 1 / LOSS_WINDOW;
      for (let i = 0; i < Math.min(missed, LOSS_WINDOW); i++) this.loss += (1 - this.loss) * a;
      this.loss += (0 - this.loss) * a;
      this.newestT = t;
    } else {
      // Late (reordered) arrival: it was counted as lost when a newer one came first.
      this.loss = Math.max(0, this.loss - 1 / LOSS_WINDOW);
    }

    const renderT = this.offset === null ? -Infinity : localTimeMs - this.offset;
    // Too late: the render time is already past a newer snapshot than this one.
    const before = this.snapshots.filter((s) => s.t <= renderT);
    if (before.length > 0 && t < before[before.length - 1].t) return false;

    const map = new Map<number, EntityState>();
    for (const e of entities) {
      if (Number.isFinite(e.x) && Number.isFinite(e.y) && Number.isFinite(e.angle)) map.set(e.id, { ...e });
    }
    const snap: BufferedSnapshot = { t, entities: map };
    let i = this.snapshots.length;
    while (i > 0 && this.snapshots[i - 1].t > t) i--;
    this.snapshots.splice(i, 0, snap);
    while (this.snapshots.length > MAX_BUFFERED_SNAPSHOTS) this.snapshots.shift();

    const want = this.wantedOffset();
    if (this.offset === null || Math.abs(want - this.offset) > RESYNC_THRESHOLD_MS) {
      this.offset = want;
      this.lastAdvance = localTimeMs;
    }
    return true;
  }

  /** Entities as they should be drawn at local time `localTimeMs` (call once per frame). */
  sample(localTimeMs: number): RenderedEntity[] {
    if (this.offset === null || this.snapshots.length === 0) return [];
    this.advance(localTimeMs);
    const r = localTimeMs - this.offset;
    const snaps = this.snapshots;

    // Keep one snapshot at or before the render time; older ones can never be used again.
    while (snaps.length > 2 && snaps[1].t <= r) snaps.shift();

    const first = snaps[0];
    if (r <= first.t) return toRendered(first.entities, false);
    const newest = snaps[snaps.length - 1];
    if (r >= newest.t) {
      this.starved++;
      const prev = snaps.length >= 2 ? snaps[snaps.length - 2] : null;
      return this.extrapolate(prev, newest, Math.min(r - newest.t, this.cfg.maxExtrapolationMs));
    }
    let b = 1;
    while (snaps[b].t <= r) b++;
    const sa = snaps[b - 1];
    const sb = snaps[b];
    const f = (r - sa.t) / (sb.t - sa.t);
    const out: RenderedEntity[] = [];
    for (const eb of sb.entities.values()) {
      const ea = sa.entities.get(eb.id);
      out.push(ea ? this.blend(ea, eb, f) : { ...eb, extrapolated: false });
    }
    return out;
  }

  /** Buffering delay currently applied on top of the fastest observed path, ms. */
  get delayMs(): number {
    return this.offset === null ? 0 : this.offset - this.minTransit();
  }

  /** Delay the buffer is steering toward, ms. */
  get targetDelayMs(): number {
    const c = this.cfg;
    const iv = c.snapshotIntervalMs;
    const d = (c.baseIntervals + lossIntervals(this.loss, c.baseIntervals, c.lossResidual)) * iv + c.jitterFactor * this.jitter;
    return Math.min(c.maxDelayMs, Math.max(c.minDelayMs, d));
  }

  /** Interarrival jitter estimate (RFC 3550 §6.4.1), ms. */
  get jitterMs(): number {
    return this.jitter;
  }

  /** Estimated share of snapshots lost, 0..1 (from gaps in server time). */
  get lossRate(): number {
    return this.loss;
  }

  /** Snapshots currently buffered. */
  get size(): number {
    return this.snapshots.length;
  }

  /** Frames sampled with the render time past the newest snapshot (a sign the delay is too small). */
  get starvedFrames(): number {
    return this.starved;
  }

  /**
   * The server time on this buffer's timeline: the wire's u32 value (shared/time32.ts), unwrapped
   * against the newest snapshot's time; the first snapshot starts the timeline at its own value.
   */
  private unwrap(raw: number): number {
    const r = raw >>> 0;
    return this.newestT === null ? r : unwrapTime32(r, this.newestT);
  }

  private observeTransit(transit: number): void {
    if (this.lastTransit !== null) {
      this.jitter += (Math.abs(transit - this.lastTransit) - this.jitter) * JITTER_GAIN;
    }
    this.lastTransit = transit;
    if (this.transits.length < TRANSIT_WINDOW) this.transits.push(transit);
    else {
      this.transits[this.transitIdx] = transit;
      this.transitIdx = (this.transitIdx + 1) % TRANSIT_WINDOW;
    }
  }

  private minTransit(): number {
    let m = Infinity;
    for (const t of this.transits) if (t < m) m = t;
    return m === Infinity ? 0 : m;
  }

  private wantedOffset(): number {
    return this.minTransit() + this.targetDelayMs;
  }

  /** Moves the playout offset toward the wanted one at the configured rates. */
  private advance(now: number): void {
    if (this.offset === null) return;
    const dt = Math.max(0, now - this.lastAdvance);
    this.lastAdvance = Math.max(this.lastAdvance, now);
    const want = this.wantedOffset();
    if (Math.abs(want - this.offset) > RESYNC_THRESHOLD_MS) {
      this.offset = want;
      return;
    }
    const diff = want - this.offset;
    const step = diff > 0 ? Math.min(diff, this.cfg.growRate * dt) : Math.max(diff, -this.cfg.shrinkRate * dt);
    this.offset += step;
  }

  private blend(a: EntityState, b: EntityState, f: number): RenderedEntity {
    const { worldW: w, worldH: h, teleportDistance } = this.cfg;
    if (wrappedDistance(a.x, a.y, b.x, b.y, w, h) > teleportDistance) {
      const s = f < 0.5 ? a : b;
      return { ...s, extrapolated: false };
    }
    return {
      id: b.id,
      x: lerpWrapped(a.x, b.x, f, w),
      y: lerpWrapped(a.y, b.y, f, h),
      angle: lerpAngle(a.angle, b.angle, f),
      extrapolated: false,
    };
  }

  private extrapolate(prev: BufferedSnapshot | null, newest: BufferedSnapshot, ahead: number): RenderedEntity[] {
    const { worldW: w, worldH: h, teleportDistance } = this.cfg;
    const out: RenderedEntity[] = [];
    for (const e of newest.entities.values()) {
      const p = prev?.entities.get(e.id);
      if (!p || !prev || ahead <= 0 || wrappedDistance(p.x, p.y, e.x, e.y, w, h) > teleportDistance) {
        out.push({ ...e, extrapolated: true });
        continue;
      }
      const dt = newest.t - prev.t;
      out.push({
        id: e.id,
        x: wrapCoord(e.x + (shortDelta(p.x, e.x, w) / dt) * ahead, w),
        y: wrapCoord(e.y + (shortDelta(p.y, e.y, h) / dt) * ahead, h),
        angle: e.angle,
        extrapolated: true,
      });
    }
    return out;
  }
}

function toRendered(m: Map<number, EntityState>, extrapolated: boolean): RenderedEntity[] {
  return [...m.values()].map((e) => ({ ...e, extrapolated }));
}
