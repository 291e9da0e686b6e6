/**
 * The snapshot header carries the server clock as milliseconds modulo 2^32 (docs/protocol.md,
 * "Snapshots", `serverTime`): it wraps every ~49.7 days, and epoch-based clocks are far past
 * 2^32 ms, so every receiver has to put the full value back. This is the one rule for that, for
 * the client's interpolation, the bots, the benches and the experiments.
 *
 * The rule: of all the values congruent to the 32-bit time, take the one nearest a reference on
 * the same timeline (a local clock on the same machine, or the newest time already unwrapped),
 * in the half-open window [reference - 2^31, reference + 2^31). A value exactly 2^31 away is
 * read as the earlier one, as serial-number arithmetic reads it (RFC 1982 §3.2 leaves that case
 * undefined; a half-open window makes it a definite answer).
 *
 * Exact: for an integral 32-bit time and a reference within 2^53 of zero, the result is exact,
 * with no rounding from a fractional reference (performance.now()-based clocks).
 */

/** 2^32: the modulus of the wire's server time. */
export const TIME32_MODULUS = 2 ** 32;
const HALF = TIME32_MODULUS / 2;

/** `v` modulo 2^32, in [0, 2^32) (exact: `%` on doubles is). */
function mod32(v: number): number {
  const r = v % TIME32_MODULUS;
  return r < 0 ? r + TIME32_MODULUS : r + 0;
}

/** Brings a difference of two values in [0, 2^32) into [-2^31, 2^31). */
function signed(d: number): number {
  return d >= HALF ? d - TIME32_MODULUS : d < -HALF ? d + TIME32_MODULUS : d;
}

/**
 * The full time congruent to `time` modulo 2^32 that lies in [reference - 2^31,
 * reference + 2^31). `time` may be the wrapped 32-bit value or an already unwrapped one (then
 * it comes back unchanged when it is in that window). A non-finite argument leaves nothing to
 * unwrap: `time` is returned as it is.
 */
export function unwrapTime32(time: number, reference: number): number {
  if (!Number.isFinite(time) || !Number.isFinite(reference)) return time;
  const low = mod32(time);
  const refLow = mod32(reference);
  const base = reference - refLow; // a multiple of 2^32, exactly
  // refLow + signed(...) is low plus a multiple of 2^32: exact, and added to base last so a
  // fractional reference never rounds the result.
  return base + (refLow + signed(low - refLow));
}

/**
 * The signed difference `a - b` of two 32-bit times (or of any two values, taken modulo 2^32),
 * in [-2^31, 2^31): how much later `a` is than `b`. E.g. the age of a snapshot is
 * `time32Delta(receivedAt, serverTime)` when both clocks are the same.
 */
export function time32Delta(a: number, b: number): number {
  return signed(mod32(a) - mod32(b));
}
