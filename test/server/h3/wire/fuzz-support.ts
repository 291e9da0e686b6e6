import fc from 'fast-check';

/**
 * Scales property-test run counts: `TICKWIRE_FUZZ_SCALE=20 npx vitest run test/server/h3/wire`
 * runs twenty times as many cases as `npm test` does.
 */
export function runs(base: number): number {
  const scale = Number(process.env.TICKWIRE_FUZZ_SCALE ?? '1');
  return Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

/** Byte-level mutations of a valid input: flip, overwrite, insert, delete, truncate, duplicate a slice. */
export function mutated(valid: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
  );
  return fc.tuple(fc.constantFrom(...valid), fc.array(op, { minLength: 1, maxLength: 4 })).map(([base, ops]) => {
    let b = Array.from(base);
    for (const o of ops) {
      const at = b.length === 0 ? 0 : o.at % (b.length + 1);
      if (o.kind === 'set' && b.length > 0) b[at % b.length] = o.v;
      else if (o.kind === 'flip' && b.length > 0) b[at % b.length] ^= 1 << o.bit;
      else if (o.kind === 'insert') b.splice(at, 0, ...o.bytes);
      else if (o.kind === 'delete') b.splice(at, o.n);
      else if (o.kind === 'truncate') b = b.slice(0, at);
      else if (o.kind === 'repeat') b.splice(at, 0, ...b.slice(at, at + o.n));
    }
    return Uint8Array.from(b);
  });
}

/** Random bytes, mutated valid inputs, and plain valid inputs, mixed. */
export function fuzzInput(valid: readonly Uint8Array[], maxRandom = 64): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: maxRandom }) },
    { weight: 3, arbitrary: mutated(valid) },
    { weight: 1, arbitrary: fc.constantFrom(...valid) },
  );
}
