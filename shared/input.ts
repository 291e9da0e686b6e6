/**
 * Quantization of input directions (docs/protocol.md, "Messages", `input`).
 *
 * A direction component in [-1, 1] travels as an integer q in [-INPUT_AXIS_STEPS,
 * INPUT_AXIS_STEPS], one signed byte, and the server sees exactly `q / INPUT_AXIS_STEPS`. The
 * client records that same value for prediction (quantizeInput), so its replay and the server's
 * simulation start from bit-identical directions. Pure and I/O-free.
 */

/**
 * A direction component is quantized to an integer in [-127, 127]: the symmetric range of a
 * signed byte (the byte -128 is refused, so 0 and ±1 are exact and the range is symmetric).
 * The step, 1/127, turns a unit direction by at most 0.30°, far below what a player can aim or
 * see, while an input of four directions fits in 8 bytes.
 */
export const INPUT_AXIS_STEPS = 127;

/**
 * The integer in [-INPUT_AXIS_STEPS, INPUT_AXIS_STEPS] that stands for component `v`: `v` is
 * clamped to [-1, 1] (NaN and ±Infinity become 0) and rounded to the nearest step, halves away
 * from zero so that `quantizeAxis(-v) === -quantizeAxis(v)`. Never returns -0.
 */
export function quantizeAxis(v: number): number {
  if (!Number.isFinite(v)) return 0;
  const c = v > 1 ? 1 : v < -1 ? -1 : v;
  const q = Math.round(Math.abs(c) * INPUT_AXIS_STEPS);
  return c < 0 && q !== 0 ? -q : q;
}

/** The component an integer `q` (from quantizeAxis, or off the wire) stands for: `q / 127`. */
export function dequantizeAxis(q: number): number {
  return q / INPUT_AXIS_STEPS;
}

/**
 * The direction the server will see when a client sends `[dx, dy]`: each component quantized and
 * dequantized. Idempotent; its result encodes and decodes to the very same numbers.
 */
export function quantizeInput(input: readonly [number, number]): [number, number] {
  return [dequantizeAxis(quantizeAxis(input[0])), dequantizeAxis(quantizeAxis(input[1]))];
}
