/** The codec tests' byte mutations (test/shared/byte-mutations.ts): each kind, the kept prefix. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteMutation, mutateBytes } from './byte-mutations.js';

const bytes = Uint8Array.of(10, 20, 30, 40);

describe('mutateBytes', () => {
  it('applies each kind at the position taken modulo the length', () => {
    expect([...mutateBytes(bytes, [{ kind: 'flip', at: 5, bit: 0 }])]).toEqual([10, 21, 30, 40]);
    expect([...mutateBytes(bytes, [{ kind: 'insert', at: 2, byte: 99 }])]).toEqual([10, 20, 99, 30, 40]);
    expect([...mutateBytes(bytes, [{ kind: 'delete', at: 0 }])]).toEqual([20, 30, 40]);
    expect([...mutateBytes(bytes, [{ kind: 'truncate', at: 3 }])]).toEqual([10, 20, 30]);
    expect([...mutateBytes(bytes, [{ kind: 'set', at: 7, byte: 0 }])]).toEqual([10, 20, 30, 0]);
    // In order: the second sees what the first left.
    expect([...mutateBytes(bytes, [{ kind: 'truncate', at: 1 }, { kind: 'set', at: 0, byte: 7 }])]).toEqual([7]);
    expect([...bytes]).toEqual([10, 20, 30, 40]);
  });

  it('never touches the kept prefix', () => {
    fc.assert(fc.property(fc.array(byteMutation, { minLength: 1, maxLength: 8 }), (muts) => {
      const out = mutateBytes(bytes, muts, 1);
      expect(out[0]).toBe(10);
    }), { numRuns: 500 });
  });
});
