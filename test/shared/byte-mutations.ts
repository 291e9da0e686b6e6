/**
 * Byte mutations of a valid message for the codec's property tests (codec.test.ts,
 * input-decode.test.ts): flip a bit, insert, delete, truncate or overwrite a byte.
 */
import fc from 'fast-check';

/** One mutation; `at` is reduced modulo the bytes it may touch. */
export const byteMutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
);

export type ByteMutation = typeof byteMutation extends fc.Arbitrary<infer M> ? M : never;

/** `valid` with `muts` applied in order; the first `keep` bytes are never touched (a message id). */
export function mutateBytes(valid: Uint8Array, muts: readonly ByteMutation[], keep = 0): Uint8Array {
  const bytes = [...valid];
  for (const mu of muts) {
    const at = bytes.length > keep ? keep + (mu.at % (bytes.length - keep)) : keep;
    if (mu.kind === 'flip') bytes[at] ^= 1 << mu.bit;
    else if (mu.kind === 'insert') bytes.splice(at, 0, mu.byte);
    else if (mu.kind === 'delete') bytes.splice(at, 1);
    else if (mu.kind === 'truncate') bytes.length = at;
    else bytes[at] = mu.byte;
  }
  return Uint8Array.from(bytes);
}
