/**
 * Client-side prediction with server reconciliation for the own player (Gambetta, "Fast-Paced
 * Multiplayer"; Quake 3 / Source "client prediction"). The own player moves at once when a key
 * is pressed instead of one round trip later; each snapshot corrects the prediction.
 *
 * Model. Inputs are held directions: input `seq` is in effect locally from the moment it was
 * issued until the next one, and the server applies it from the moment it arrives (one one-way
 * delay later) at the same speed, wrapping at the edges (the standard scene of DESIGN.md). Both
 * move by the one rule of shared/scene.ts, `stepPosition`: the server per 60 Hz tick, this
 * predictor per span between two inputs.
 * A snapshot is the server's state about half a round trip before it reached us, and the server
 * had then applied input `lastProcessedSeq` but not yet the next one. Shifting the server's
 * timeline by one one-way delay onto ours, that state corresponds to our local time
 * `receiveTime - rtt`, clamped into the interval in which input `lastProcessedSeq` was the
 * newest one (the seq is exact, the RTT an estimate). The predicted position now is the server
 * position plus our own recorded motion from that instant to now.
 *
 * A correction is not shown as a jump: the difference between what was displayed and the new
 * prediction becomes a visual offset that decays exponentially; a large difference (a teleport
 * or a resume) snaps.
 *
 * Pure: time comes in as arguments; no timers, no DOM.
 */
import { stepPosition, wrapCoord, type Position } from '../../shared/scene.js';
import { shortDelta } from './wrap.js';

export interface PredictionConfig {
  /** Movement speed in world units per second (standard scene: 100). */
  speed: number;
  worldW: number;
  worldH: number;
  /** Time constant of the correction smoothing, ms (default 100). */
  smoothingMs?: number;
  /** A correction longer than this snaps instead of smoothing (default 100 units). */
  snapDistance?: number;
}

/** A position in world units. */
export type Point = Position;

/**
 * Inputs kept for replay. 128 at 20 Hz is 6.4 s, far more than any round trip; when no
 * snapshot arrives for longer, the oldest inputs are folded into the anchor position.
 */
export const MAX_INPUT_HISTORY = 128;

interface RecordedInput {
  seq: number;
  /** The direction as recorded (the same quantized numbers the server receives). */
  dx: number;
  dy: number;
  /** Local time it took effect. */
  t: number;
}

export class Predictor {
  private readonly cfg: Required<PredictionConfig>;
  private inputs: RecordedInput[] = [];
  private anchor: Point | null = null;
  private anchorTime = 0;
  private offset: Point = { x: 0, y: 0 };
  private offsetTime = 0;
  private lastCorrection = 0;
  private lastProcessed = 0;

  constructor(config: PredictionConfig) {
    this.cfg = { smoothingMs: 100, snapDistance: 100, ...config };
  }

  /** Forget everything (a fresh session; a different entity). */
  reset(): void {
    this.inputs = [];
    this.anchor = null;
    this.offset = { x: 0, y: 0 };
    this.lastCorrection = 0;
    this.lastProcessed = 0;
  }

  /** Records that input `seq` with direction (dx, dy) took effect locally at `t`. Seqs increase. */
  recordInput(seq: number, dx: number, dy: number, t: number): void {
    const last = this.inputs[this.inputs.length - 1];
    if (last && (seq <= last.seq || t < last.t)) return;
    this.inputs.push({ seq, dx, dy, t });
    while (this.inputs.length > MAX_INPUT_HISTORY) {
      // Fold the motion up to the second input into the anchor so nothing is lost.
      if (this.anchor && this.anchorTime < this.inputs[1].t) {
        this.anchor = this.integrate(this.anchor, this.anchorTime, this.inputs[1].t);
        this.anchorTime = this.inputs[1].t;
      }
      this.inputs.shift();
    }
  }

  /**
   * Applies an authoritative snapshot of the own player: server position, the last input seq
   * the server had processed (0 = none yet), the local receive time and the current RTT estimate.
   */
  reconcile(server: Point, lastProcessedSeq: number, receiveTime: number, rttMs: number): void {
    if (!Number.isFinite(server.x) || !Number.isFinite(server.y)) return;
    const before = this.anchor ? this.rawAt(receiveTime) : null;
    const shown = before ? this.displayAt(receiveTime) : null;

    let start = receiveTime - (Number.isFinite(rttMs) && rttMs > 0 ? rttMs : 0);
    const k = this.inputs.findIndex((i) => i.seq === lastProcessedSeq);
    if (k >= 0) {
      const next = this.inputs[k + 1];
      start = Math.max(start, this.inputs[k].t);
      if (next) start = Math.min(start, next.t);
    } else if (this.inputs.length > 0 && lastProcessedSeq < this.inputs[0].seq) {
      // The server has not seen even our oldest remembered input: everything we did is unacked.
      start = Math.min(start, this.inputs[0].t);
    }
    start = Math.min(start, receiveTime);
    this.lastProcessed = lastProcessedSeq;
    this.anchor = { x: wrapCoord(server.x, this.cfg.worldW), y: wrapCoord(server.y, this.cfg.worldH) };
    this.anchorTime = start;
    // Inputs that ended before the anchor can never matter again (keep the one in effect at it).
    while (this.inputs.length > 1 && this.inputs[1].t <= start) this.inputs.shift();

    const after = this.rawAt(receiveTime);
    if (!shown || !before) {
      this.offset = { x: 0, y: 0 };
      this.lastCorrection = 0;
    } else {
      const ox = shortDelta(after.x, shown.x, this.cfg.worldW);
      const oy = shortDelta(after.y, shown.y, this.cfg.worldH);
      this.lastCorrection = Math.hypot(shortDelta(before.x, after.x, this.cfg.worldW), shortDelta(before.y, after.y, this.cfg.worldH));
      this.offset = Math.hypot(ox, oy) > this.cfg.snapDistance ? { x: 0, y: 0 } : { x: ox, y: oy };
    }
    this.offsetTime = receiveTime;
  }

  /** Whether a snapshot of the own player has been applied yet. */
  get ready(): boolean {
    return this.anchor !== null;
  }

  /** Size of the last correction (distance between prediction and reconciled state), units. */
  get lastCorrectionDistance(): number {
    return this.lastCorrection;
  }

  /** Inputs not yet known to be processed by the server. */
  get pendingInputs(): number {
    return this.inputs.filter((i) => i.seq > this.lastProcessed).length;
  }

  /** Predicted position without visual smoothing (null before the first reconcile). */
  predicted(now: number): Point | null {
    return this.anchor ? this.rawAt(now) : null;
  }

  /** Position to draw at `now`: the prediction plus the decaying correction offset. */
  position(now: number): Point | null {
    return this.anchor ? this.displayAt(now) : null;
  }

  private displayAt(now: number): Point {
    const p = this.rawAt(now);
    const k = Math.exp(-Math.max(0, now - this.offsetTime) / this.cfg.smoothingMs);
    return {
      x: wrapCoord(p.x + this.offset.x * k, this.cfg.worldW),
      y: wrapCoord(p.y + this.offset.y * k, this.cfg.worldH),
    };
  }

  private rawAt(now: number): Point {
    if (!this.anchor) throw new Error('no anchor');
    return this.integrate(this.anchor, this.anchorTime, now);
  }

  /**
   * Position reached from `from` at time `t0` by time `t1` following the recorded inputs: one
   * step of the scene's rule (shared/scene.ts `stepPosition`, the server's own) per input span.
   */
  private integrate(from: Point, t0: number, t1: number): Point {
    const world = { width: this.cfg.worldW, height: this.cfg.worldH };
    const p = { x: from.x, y: from.y };
    const ins = this.inputs;
    for (let i = 0; i < ins.length; i++) {
      const segStart = Math.max(t0, ins[i].t);
      const segEnd = Math.min(t1, i + 1 < ins.length ? ins[i + 1].t : Infinity);
      if (segEnd <= segStart) continue;
      stepPosition(p, ins[i].dx, ins[i].dy, (segEnd - segStart) / 1000, world, this.cfg.speed);
    }
    return p;
  }
}
