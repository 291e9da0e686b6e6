/**
 * Snapshot quantization (docs/protocol.md, "Quantization"). Both ends build the same
 * SnapshotFormat from the world size in `welcome`; the reasons for each number are in the doc.
 */
import { MAX_WORLD_SIZE } from '../limits.js';

/** World units per position step: error at most POSITION_STEP / 2 per axis. */
export const POSITION_STEP = 0.25;
/** Angle resolution: 2^ANGLE_BITS steps per turn, error at most π / 2^ANGLE_BITS rad. */
export const ANGLE_BITS = 8;
/**
 * Short position deltas use a signed width chosen per snapshot (the one that makes that snapshot
 * smallest), between these bounds, written in a SHORT_DELTA_WIDTH_FIELD_BITS field as
 * `width - SHORT_DELTA_MIN_BITS`.
 */
export const SHORT_DELTA_MIN_BITS = 3;
export const SHORT_DELTA_MAX_BITS = 10;
export const SHORT_DELTA_WIDTH_FIELD_BITS = 3;
/** Bits of an entity id written in full (entity ids are u16). */
export const ENTITY_ID_BITS = 16;

const ANGLE_STEPS = 2 ** ANGLE_BITS;

/** The quantization for one world size. */
export interface SnapshotFormat {
  readonly worldW: number;
  readonly worldH: number;
  /** Largest quantized x (the world's right edge). */
  readonly xMax: number;
  readonly yMax: number;
  /** Bits of an absolute quantized x / y. */
  readonly xBits: number;
  readonly yBits: number;
}

/**
 * The format for a world of `worldW` x `worldH` units (each clamped to [1, MAX_WORLD_SIZE]).
 * Position bits per axis: ceil(log2(size / POSITION_STEP + 1)).
 */
export function snapshotFormat(worldW: number, worldH: number): SnapshotFormat {
  const clampSize = (s: number) => (Number.isFinite(s) ? Math.min(Math.max(s, 1), MAX_WORLD_SIZE) : 1);
  const w = clampSize(worldW);
  const h = clampSize(worldH);
  const xMax = Math.round(w / POSITION_STEP);
  const yMax = Math.round(h / POSITION_STEP);
  return Object.freeze({
    worldW: w, worldH: h, xMax, yMax,
    xBits: Math.ceil(Math.log2(xMax + 1)),
    yBits: Math.ceil(Math.log2(yMax + 1)),
  });
}

/** The standard scene's format (1000 x 1000 world: 12 bits per axis). */
export const STANDARD_FORMAT = snapshotFormat(1000, 1000);

/** Quantized position along one axis: round to the step, clamp to [0, max]; NaN goes to 0. */
export function quantizePosition(v: number, max: number): number {
  if (!(v > 0)) return 0; // also catches NaN
  const q = Math.round(v / POSITION_STEP);
  return q > max ? max : q;
}

export function dequantizePosition(q: number): number {
  return q * POSITION_STEP;
}

/** Quantized angle in [0, 2^ANGLE_BITS): radians modulo one turn; non-finite goes to 0. */
export function quantizeAngle(a: number): number {
  if (!Number.isFinite(a)) return 0;
  const turns = a / (2 * Math.PI);
  const q = Math.round((turns - Math.floor(turns)) * ANGLE_STEPS);
  return q % ANGLE_STEPS;
}

/** Dequantized angle in (-π, π], the range of Math.atan2. */
export function dequantizeAngle(q: number): number {
  const a = (q * 2 * Math.PI) / ANGLE_STEPS;
  return a > Math.PI ? a - 2 * Math.PI : a;
}

/** Smallest two's-complement width holding the integer `d` (1 for 0 and -1). */
export function signedBitsNeeded(d: number): number {
  // For d >= 0 the magnitude bits plus a sign bit; for d < 0 the same for ~d (= -d - 1).
  return 33 - Math.clz32(d >= 0 ? d : ~d);
}

/** Bits of a delta's position part: short form when `need` <= `width`, else absolute. */
export function positionDeltaBits(f: SnapshotFormat, width: number, need: number): number {
  return need <= width ? 1 + 2 * width : 1 + f.xBits + f.yBits;
}

/** Upper bound of one entered entity's bits: id flag + full id + full state. */
export function enterBitsMax(f: SnapshotFormat): number {
  return 1 + ENTITY_ID_BITS + f.xBits + f.yBits + ANGLE_BITS;
}
