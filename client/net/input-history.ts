/**
 * The client's input stream. Every input tick (20 Hz) samples the current move direction as a
 * new input with the next sequence number, and the datagram carries it together with the
 * previous ones, so one lost datagram loses no input (DESIGN.md "Protocol principles"; Gaffer on
 * Games, "Deterministic Lockstep" redundancy). The server applies only seqs newer than the last
 * one it processed, so repeats are harmless.
 *
 * Directions are quantized when sampled (shared/input.ts): the recorded input, which the
 * predictor replays, is exactly what the server decodes from the datagram.
 */
import { quantizeInput } from '../../shared/input.js';
import { inputVelocity } from '../../shared/scene.js';

/** Inputs carried per datagram: the newest plus the three before it (architecture.md `input`). */
export const INPUT_REDUNDANCY = 4;

/** Inputs kept for prediction replay: 2 s at 20 Hz; older ones are certainly acknowledged or moot. */
export const INPUT_HISTORY_LIMIT = 40;

export interface InputRecord {
  seq: number;
  /** Direction as the server sees it: normalized, then quantized (`sampledDirection`). */
  dx: number;
  dy: number;
  /** Client clock when the input was sampled. */
  t: number;
}

/**
 * The direction the scene applies for `[dx, dy]` (shared/scene.ts `inputVelocity`), as a pair:
 * each axis clamped to [-1, 1] (NaN becomes 0, so a broken UI never sends an invalid field) and
 * a longer vector (diagonal keys) scaled to unit length, since a diagonal must not be faster.
 */
export function normalizeDirection(dx: number, dy: number): [number, number] {
  const v = inputVelocity(dx, dy);
  return [v.x, v.y];
}

/**
 * The direction an input carries: clamped and normalized (normalizeDirection), then quantized
 * to the wire's steps (quantizeInput), so it is bit for bit the `[dx, dy]` the server decodes and
 * applies. Quantizing may leave a diagonal a hair longer than 1 (0.7071 becomes 90/127); the
 * server scales such a vector back to unit length, and so does the predictor.
 */
export function sampledDirection(dx: number, dy: number): [number, number] {
  return quantizeInput(normalizeDirection(dx, dy));
}

export class InputHistory {
  private readonly records: InputRecord[] = [];
  private seq = 0;

  /**
   * Records a new input with direction `sampledDirection(dx, dy)`; sequence numbers start at 1
   * and increase by 1.
   */
  push(dx: number, dy: number, t: number): InputRecord {
    const [x, y] = sampledDirection(dx, dy);
    this.seq += 1;
    const rec = { seq: this.seq, dx: x, dy: y, t };
    this.records.push(rec);
    if (this.records.length > INPUT_HISTORY_LIMIT) this.records.shift();
    return rec;
  }

  /** The newest `INPUT_REDUNDANCY` inputs, oldest first (the last one has `newestSeq`). */
  redundant(): InputRecord[] {
    return this.records.slice(-INPUT_REDUNDANCY);
  }

  get newestSeq(): number {
    return this.seq;
  }

  /** Inputs with seq > `afterSeq` (for prediction replay after the server's last processed seq). */
  since(afterSeq: number): InputRecord[] {
    return this.records.filter((r) => r.seq > afterSeq);
  }

  /**
   * A resumed session keeps the server's last processed seq, so the numbering continues; a new
   * session starts over. Only the history is cleared in the latter case.
   */
  reset(keepSeq: boolean): void {
    this.records.length = 0;
    if (!keepSeq) this.seq = 0;
  }
}
