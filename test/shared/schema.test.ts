/**
 * shared/schema.ts: `validate` checks without building field paths and explains a failure with a
 * second walk (`explain`). The two must agree on every value: same verdict, same clean copy.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MESSAGES } from '../../shared/messages.js';
import { explain, toWire, validate, type RecordType } from '../../shared/schema.js';
import { arbitraryOf } from './arbitrary.js';

const schemas = MESSAGES.map((m) => m.schema).filter((s): s is RecordType => s !== null);

/** A valid body, then up to three edits: a field dropped, replaced by junk, or added. */
const body = fc.constantFrom(...schemas).chain((schema) => fc.record({
  schema: fc.constant(schema),
  value: arbitraryOf(schema),
  edits: fc.array(fc.tuple(fc.constantFrom('drop', 'junk', 'extra'), fc.nat(), fc.anything()), { maxLength: 3 }),
}));

function edited(value: unknown, edits: [string, number, unknown][]): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [kind, at, junk] of edits) {
    const keys = Object.keys(out);
    const key = keys.length > 0 ? keys[at % keys.length] : 'x';
    if (kind === 'drop') delete out[key];
    else if (kind === 'junk') out[key] = junk;
    else out[`extra${at}`] = junk;
  }
  return out;
}

describe('validate and explain', () => {
  it('agree on valid, edited and arbitrary bodies, in value and wire form (property)', () => {
    fc.assert(fc.property(body, fc.boolean(), ({ schema, value, edits }, wire) => {
      const form = wire ? 'wire' : 'value';
      const input = edited(wire ? toWire(schema, value) : value, edits);
      const fast = validate(schema, input, '', form);
      const slow = explain(schema, input, '', form);
      expect(fast).toEqual(slow);
      if (edits.length === 0) expect(fast.ok).toBe(true);
    }), { numRuns: 3000 });
    fc.assert(fc.property(fc.constantFrom(...schemas), fc.anything(), (schema, junk) => {
      expect(validate(schema, junk)).toEqual(explain(schema, junk));
    }), { numRuns: 1000 });
  });

  it('names the offending field of an invalid body', () => {
    const input = MESSAGES.find((m) => m.name === 'input')!.schema!;
    const r = validate(input, { seq: -1 });
    expect(r.ok).toBe(false);
    expect(r).toEqual(explain(input, { seq: -1 }));
  });
});
