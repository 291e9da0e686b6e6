import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDecodeScratch, decodeMessage, decodeMessageWithoutFastPath, encodeMessage, type DecodeContext } from '../../shared/codec.js';
import { decodeInputBody, inputShape } from '../../shared/input-decode.js';
import { messageSpec } from '../../shared/messages.js';
import { field, int, record } from '../../shared/schema.js';
import { arbitraryOf } from './arbitrary.js';
import { byteMutation, mutateBytes } from './byte-mutations.js';

const unrel: DecodeContext = { channel: 'unreliable', direction: 'c2s' };
const inputSchema = messageSpec('input')!.schema!;
const body = arbitraryOf(inputSchema) as fc.Arbitrary<{ seq: number; ack: number; inputs: [number, number][] }>;

describe('input fast path (shared/input-decode.ts)', () => {
  it('takes every input our encoder writes, with the general path\'s body', () => {
    fc.assert(fc.property(body, (b) => {
      const bytes = encodeMessage('input', b);
      const general = decodeMessageWithoutFastPath(bytes, unrel);
      expect(decodeInputBody(bytes, inputShapeOfTable())).toEqual(general.ok ? general.body : 'general path failed');
      expect(decodeMessage(bytes, unrel)).toEqual(general);
    }), { numRuns: 2000 });
  });

  it('gives the general path\'s outcome on mutated inputs, and answers only where that one accepts', () => {
    let taken = 0;
    fc.assert(fc.property(body, fc.array(byteMutation, { minLength: 1, maxLength: 3 }), (b, muts) => {
      // Byte 0 (the message id) stays: other ids never reach the fast path.
      const bytes = mutateBytes(encodeMessage('input', b), muts, 1);
      const general = decodeMessageWithoutFastPath(bytes, unrel);
      const fast = decodeInputBody(bytes, inputShapeOfTable());
      if (fast) {
        taken++;
        expect(general).toEqual({ ok: true, name: 'input', body: fast });
      }
      expect(decodeMessage(bytes, unrel)).toEqual(general);
    }), { numRuns: 4000 });
    // The mutations keep a fair share of messages valid (a changed seq, ack or direction).
    expect(taken).toBeGreaterThan(200);
  });

  it('decoding into a scratch gives the same outcome, in the scratch\'s own objects, and leaves it alone on a miss', () => {
    const scratch = createDecodeScratch();
    const ctx: DecodeContext = { ...unrel, scratch };
    let reused = 0;
    fc.assert(fc.property(body, fc.array(byteMutation, { maxLength: 2 }), (b, muts) => {
      const bytes = muts.length ? mutateBytes(encodeMessage('input', b), muts, 1) : encodeMessage('input', b);
      const general = decodeMessageWithoutFastPath(bytes, unrel);
      const before = structuredClone(scratch.body);
      const r = decodeMessage(bytes, ctx);
      expect(r).toEqual(general);
      if (r === scratch.result) {
        reused++;
        expect(r.body).toBe(scratch.body);
      } else {
        // Not taken (an error, or a form the fast path leaves to the general path): untouched.
        expect(scratch.body).toEqual(before);
      }
    }), { numRuns: 3000 });
    expect(reused).toBeGreaterThan(1000);
    // The next decode overwrites the same objects; pair counts have lists of their own.
    const one = decodeMessage(encodeMessage('input', { seq: 7, ack: 1, inputs: [[1, 0], [0, -1]] }), ctx);
    const two = decodeMessage(encodeMessage('input', { seq: 8, ack: 2, inputs: [[-1, 0]] }), ctx);
    expect(two).toBe(one);
    expect(two).toEqual({ ok: true, name: 'input', body: { seq: 8, ack: 2, inputs: [[-1, 0]] } });
  });

  it('leaves other integer forms, an inline structure and trailing bytes to the general path', () => {
    const valid = encodeMessage('input', { seq: 5, ack: 3, inputs: [[1, 0]] });
    const shape = inputShapeOfTable();
    expect(decodeInputBody(valid, shape)).toEqual({ seq: 5, ack: 3, inputs: [[1, 0]] });
    // seq as a msgpack uint 64 (0xcf): valid msgpack, not our encoder's form.
    const u64 = Uint8Array.from([valid[0], valid[1], 0xcf, 0, 0, 0, 0, 0, 0, 0, 5, ...valid.subarray(3)]);
    expect(decodeInputBody(u64, shape)).toBeNull();
    expect(decodeMessage(u64, unrel)).toEqual(decodeMessageWithoutFastPath(u64, unrel));
    expect(decodeInputBody(Uint8Array.from([...valid, 0]), shape)).toBeNull();
    expect(decodeMessage(Uint8Array.from([...valid, 0]), unrel)).toMatchObject({ ok: false, reason: 'decode' });
    expect(decodeInputBody(Uint8Array.from([valid[0], 0x80, ...valid.subarray(2)]), shape)).toBeNull();
  });

  it('switches itself off for a schema of another shape', () => {
    expect(inputShape(record('input', [field('seq', int(0, 9), '')]), 9)).toBeNull();
    expect(inputShape(inputSchema, 40)).toBeNull();
    expect(decodeInputBody(encodeMessage('input', { seq: 1, ack: 0, inputs: [[0, 0]] }), null)).toBeNull();
  });
});

/** The shape decodeMessage uses: the input record's structure index in the codec's table. */
function inputShapeOfTable() {
  return inputShape(inputSchema, encodeMessage('input', { seq: 0, ack: 0, inputs: [[0, 0]] })[1] - 0x40);
}
