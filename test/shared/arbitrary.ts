// fast-check arbitraries derived from the message schemas: valid bodies of any message.
import fc from 'fast-check';
import { dequantizeAxis, INPUT_AXIS_STEPS } from '../../shared/input.js';
import type { FieldType } from '../../shared/schema.js';

/**
 * A direction component that survives the wire unchanged: a multiple of 1/INPUT_AXIS_STEPS (any
 * other number is rounded to one by the encoder; test/shared/input.test.ts covers that).
 */
export const quantizedAxis = (): fc.Arbitrary<number> =>
  fc.integer({ min: -INPUT_AXIS_STEPS, max: INPUT_AXIS_STEPS }).map(dequantizeAxis);

export function arbitraryOf(type: FieldType): fc.Arbitrary<unknown> {
  switch (type.kind) {
    case 'int': return fc.integer({ min: Math.max(type.min, Number.MIN_SAFE_INTEGER), max: Math.min(type.max, Number.MAX_SAFE_INTEGER) });
    case 'number': return fc.double({ min: type.min, max: type.max, noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? 0 : v));
    case 'string':
      return type.asciiPattern
        ? fc.stringMatching(/^[A-Za-z0-9_.:-]+$/, { size: 'small' }).filter((s) => s.length >= Math.max(1, type.minLength) && s.length <= type.maxLength)
        : fc.string({ unit: 'binary', minLength: type.minLength, maxLength: Math.min(type.maxLength, 40) })
          .filter((s) => s.length >= type.minLength && s.length <= type.maxLength);
    case 'bool': return fc.boolean();
    case 'enum': return fc.constantFrom(...type.values);
    case 'array': return fc.array(arbitraryOf(type.of), { minLength: type.minLength, maxLength: Math.min(type.maxLength, 6) });
    case 'tuple': return fc.tuple(...type.of.map(arbitraryOf));
    case 'axisPairs':
      return fc.array(fc.tuple(quantizedAxis(), quantizedAxis()), { minLength: type.minLength, maxLength: type.maxLength });
    case 'record': {
      const entries: Record<string, fc.Arbitrary<unknown>> = {};
      for (const f of type.fields) entries[f.name] = arbitraryOf(f.type);
      const optional = type.fields.filter((f) => f.optional).map((f) => f.name);
      const required = type.fields.filter((f) => !f.optional).map((f) => f.name);
      return fc.record(entries, { requiredKeys: required.concat(optional.length ? [] : []) });
    }
  }
}
