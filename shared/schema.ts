/**
 * A tiny schema language for message bodies. One schema per message drives four things, so they
 * cannot drift apart: validation of every decoded body, the msgpackr record structures (the
 * key order of each record), the field lists in docs/protocol.md (checked by a test), and the
 * TypeScript type of the body (`Infer<typeof schema>`: each builder carries the static type of
 * what it admits).
 *
 * A body has two forms that differ only in `axisPairs` fields: the value form (what
 * encodeMessage takes and decodeMessage returns: pairs of numbers) and the wire form (what
 * msgpack carries: one byte string of quantized components). `toWire` turns the first into the
 * second; `validate(..., 'wire')` checks the second and turns it back into the first.
 *
 * I/O-free and allocation-light: validation walks the value once and builds a clean copy that
 * holds only declared fields (no prototype tricks, no extra keys survive).
 */

import { dequantizeAxis, INPUT_AXIS_STEPS, quantizeAxis } from './input.js';

/** Field types. Every numeric type rejects NaN and ±Infinity; every string type bounds length. */
export interface IntType { readonly kind: 'int'; readonly min: number; readonly max: number }
export interface NumberType { readonly kind: 'number'; readonly min: number; readonly max: number }
export interface StringType {
  readonly kind: 'string'; readonly minLength: number; readonly maxLength: number;
  /** A pattern that admits only ASCII, so the encoded size is one byte per character. */
  readonly asciiPattern?: RegExp;
}
export interface BoolType { readonly kind: 'bool' }
export interface EnumType { readonly kind: 'enum'; readonly values: readonly string[] }
export interface ArrayType { readonly kind: 'array'; readonly of: FieldType; readonly minLength: number; readonly maxLength: number }
export interface TupleType { readonly kind: 'tuple'; readonly of: readonly FieldType[] }
/**
 * minLength..maxLength pairs of numbers in [-1, 1] (input directions). On the wire: a msgpack
 * bin of 2 bytes per pair, each a signed byte q in [-INPUT_AXIS_STEPS, INPUT_AXIS_STEPS]
 * (shared/input.ts) standing for q / INPUT_AXIS_STEPS.
 */
export interface AxisPairsType { readonly kind: 'axisPairs'; readonly minLength: number; readonly maxLength: number }
export interface RecordType { readonly kind: 'record'; readonly name: string; readonly fields: readonly FieldSpec[] }

export type FieldType =
  | IntType | NumberType | StringType | BoolType | EnumType | ArrayType | TupleType | AxisPairsType | RecordType;

/**
 * Static typing of schemas. Every builder below returns its field type marked with the
 * TypeScript type of the values it admits (in value form: what encodeMessage takes and
 * decodeMessage returns), so a message body's type is read off its schema with `Infer` instead
 * of being written a second time. The mark is a type only: it never exists at run time.
 */
declare const VALUE: unique symbol;
export interface Typed<T> {
  readonly [VALUE]?: T;
}
/** A field type that admits values of type T. */
export type Schema<T> = FieldType & Typed<T>;
/** The value type a schema admits, e.g. `Infer<typeof helloSchema>`. */
export type Infer<S> = S extends Typed<infer T> ? T : never;

/** One input direction `[dx, dy]` as axisPairs hold it (value form). */
export type AxisPair = [dx: number, dy: number];

/** One named field of a record. `O` says whether it may be absent. */
export interface FieldSpec<N extends string = string, T = unknown, O extends boolean = boolean> {
  readonly name: N;
  readonly type: Schema<T>;
  /** Optional fields travel as msgpack nil when absent and come back absent. */
  readonly optional: O;
  /** One line for docs/protocol.md. */
  readonly doc: string;
}

/** Flattens an intersection of object types into one, for readable inferred types. */
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The value a record with fields `F` admits: required fields, then optional ones. A record with
 * no fields admits only an empty object.
 */
export type RecordValue<F extends readonly FieldSpec[]> = F extends readonly [] ? Record<string, never> : Simplify<
  { -readonly [S in F[number] as S['optional'] extends true ? never : S['name']]: Infer<S['type']> }
  & { -readonly [S in F[number] as S['optional'] extends true ? S['name'] : never]?: Infer<S['type']> }
>;

export const int = (min: number, max: number): IntType & Typed<number> => ({ kind: 'int', min, max });
export const num = (min: number, max: number): NumberType & Typed<number> => ({ kind: 'number', min, max });
export const str = (maxLength: number, opts: { minLength?: number; asciiPattern?: RegExp } = {}): StringType & Typed<string> =>
  ({ kind: 'string', minLength: opts.minLength ?? 0, maxLength, asciiPattern: opts.asciiPattern });
export const bool = (): BoolType & Typed<boolean> => ({ kind: 'bool' });
export const oneOf = <const V extends readonly string[]>(values: V): EnumType & Typed<V[number]> => ({ kind: 'enum', values });
export const arrayOf = <T>(of: Schema<T>, minLength: number, maxLength: number): ArrayType & Typed<T[]> =>
  ({ kind: 'array', of, minLength, maxLength });
export const tuple = <const E extends readonly Schema<unknown>[]>(...of: E): TupleType & Typed<{ -readonly [K in keyof E]: Infer<E[K]> }> =>
  ({ kind: 'tuple', of });
export const axisPairs = (minLength: number, maxLength: number): AxisPairsType & Typed<AxisPair[]> =>
  ({ kind: 'axisPairs', minLength, maxLength });
export const record = <const F extends readonly FieldSpec[]>(name: string, fields: F): RecordType & Typed<RecordValue<F>> =>
  ({ kind: 'record', name, fields });

/** A required field. */
export function field<N extends string, T>(name: N, type: Schema<T>, doc: string): FieldSpec<N, T, false>;
/** An optional field (`optional` true): absent values travel as nil. */
export function field<N extends string, T>(name: N, type: Schema<T>, doc: string, optional: true): FieldSpec<N, T, true>;
export function field(name: string, type: FieldType, doc: string, optional = false): FieldSpec {
  return { name, type, doc, optional };
}

/** Result of validating a decoded value. `path` names the offending field, e.g. `inputs[2][0]`. */
export type ValidateResult = { ok: true; value: unknown } | { ok: false; path: string; problem: string };

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/**
 * Which form a body is in: 'value' (what callers hand to the encoder and get from the decoder)
 * or 'wire' (what msgpack decoded, before axisPairs are dequantized).
 */
export type BodyForm = 'value' | 'wire';

/**
 * Validates `value` against `type`; on success returns a clean copy holding only declared fields,
 * always in value form. With `form` 'wire', axisPairs fields must be byte strings (their wire
 * form) and come back as pairs of numbers.
 */
export function validate(type: FieldType, value: unknown, path = '', form: BodyForm = 'value'): ValidateResult {
  // Every message of every client passes here, and almost all are valid: check without building
  // field paths or error texts, and walk again with them only to explain a failure.
  const v = check(type, value, form);
  return v === INVALID ? explain(type, value, path, form) : { ok: true, value: v };
}

/** What `check` returns for an invalid value (never a valid clean copy). */
const INVALID: unique symbol = Symbol('invalid');

/**
 * The clean copy of a valid `value` (as validate returns it), or INVALID. Same rules as
 * `explain`, which must reject exactly what this rejects (test/shared/schema.test.ts checks both
 * on random values).
 */
function check(type: FieldType, value: unknown, form: BodyForm): unknown {
  switch (type.kind) {
    case 'int':
      return typeof value === 'number' && Number.isInteger(value) && value >= type.min && value <= type.max ? value : INVALID;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && value >= type.min && value <= type.max ? value : INVALID;
    case 'string':
      if (typeof value !== 'string' || value.length < type.minLength || value.length > type.maxLength) return INVALID;
      return type.asciiPattern && !type.asciiPattern.test(value) ? INVALID : value;
    case 'bool':
      return typeof value === 'boolean' ? value : INVALID;
    case 'enum':
      return typeof value === 'string' && type.values.includes(value) ? value : INVALID;
    case 'array': {
      if (!Array.isArray(value) || value.length < type.minLength || value.length > type.maxLength) return INVALID;
      const out: unknown[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) {
        const r = check(type.of, value[i], form);
        if (r === INVALID) return INVALID;
        out[i] = r;
      }
      return out;
    }
    case 'axisPairs': {
      const r = form === 'wire' ? axisPairsFromWire(type, value, '') : validateAxisPairs(type, value, '');
      return r.ok ? r.value : INVALID;
    }
    case 'tuple': {
      if (!Array.isArray(value) || value.length !== type.of.length) return INVALID;
      const out: unknown[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) {
        const r = check(type.of[i], value[i], form);
        if (r === INVALID) return INVALID;
        out[i] = r;
      }
      return out;
    }
    case 'record': {
      if (!isPlainObject(value)) return INVALID;
      const out: Record<string, unknown> = {};
      let known = 0;
      const fields = type.fields;
      for (let i = 0; i < fields.length; i++) {
        const f = fields[i];
        const has = Object.prototype.hasOwnProperty.call(value, f.name);
        if (has) known++;
        const v = has ? value[f.name] : undefined;
        if (v === undefined || v === null) {
          if (f.optional) continue;
          return INVALID;
        }
        const r = check(f.type, v, form);
        if (r === INVALID) return INVALID;
        out[f.name] = r;
      }
      return Object.keys(value).length === known ? out : INVALID;
    }
  }
}

/**
 * `validate` walking with field paths and problem texts all the way (slower): what validate runs
 * to explain a failure. Exported for the test that both reject exactly the same values.
 */
export function explain(type: FieldType, value: unknown, path = '', form: BodyForm = 'value'): ValidateResult {
  const fail = (problem: string): ValidateResult => ({ ok: false, path: path || '(body)', problem });
  switch (type.kind) {
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value)) return fail('expected an integer');
      if (value < type.min || value > type.max) return fail(`out of range [${type.min}, ${type.max}]`);
      return { ok: true, value };
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail('expected a finite number');
      if (value < type.min || value > type.max) return fail(`out of range [${type.min}, ${type.max}]`);
      return { ok: true, value };
    case 'string':
      if (typeof value !== 'string') return fail('expected a string');
      if (value.length < type.minLength || value.length > type.maxLength) {
        return fail(`length ${value.length} outside [${type.minLength}, ${type.maxLength}]`);
      }
      if (type.asciiPattern && !type.asciiPattern.test(value)) return fail('does not match the allowed characters');
      return { ok: true, value };
    case 'bool':
      if (typeof value !== 'boolean') return fail('expected a boolean');
      return { ok: true, value };
    case 'enum':
      if (typeof value !== 'string' || !type.values.includes(value)) return fail(`expected one of ${type.values.join(', ')}`);
      return { ok: true, value };
    case 'array': {
      if (!Array.isArray(value)) return fail('expected an array');
      if (value.length < type.minLength || value.length > type.maxLength) {
        return fail(`array length ${value.length} outside [${type.minLength}, ${type.maxLength}]`);
      }
      const out: unknown[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) {
        const r = explain(type.of, value[i], `${path}[${i}]`, form);
        if (!r.ok) return r;
        out[i] = r.value;
      }
      return { ok: true, value: out };
    }
    case 'axisPairs':
      return form === 'wire' ? axisPairsFromWire(type, value, path) : validateAxisPairs(type, value, path);
    case 'tuple': {
      if (!Array.isArray(value)) return fail('expected an array');
      if (value.length !== type.of.length) return fail(`expected exactly ${type.of.length} elements`);
      const out: unknown[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) {
        const r = explain(type.of[i], value[i], `${path}[${i}]`, form);
        if (!r.ok) return r;
        out[i] = r.value;
      }
      return { ok: true, value: out };
    }
    case 'record': {
      if (!isPlainObject(value)) return fail('expected a record (object)');
      const out: Record<string, unknown> = {};
      let known = 0;
      for (const f of type.fields) {
        const sub = path ? `${path}.${f.name}` : f.name;
        const has = Object.prototype.hasOwnProperty.call(value, f.name);
        if (has) known++;
        const v = has ? value[f.name] : undefined;
        if (v === undefined || v === null) {
          if (f.optional) continue;
          return { ok: false, path: sub, problem: 'missing required field' };
        }
        const r = explain(f.type, v, sub, form);
        if (!r.ok) return r;
        out[f.name] = r.value;
      }
      if (Object.keys(value).length !== known) {
        const extra = Object.keys(value).find((k) => !type.fields.some((f) => f.name === k));
        return fail(`unknown field ${JSON.stringify(extra)}`);
      }
      return { ok: true, value: out };
    }
  }
}

/** Value form of axisPairs: an array of [number, number] with both in [-1, 1]. */
function validateAxisPairs(type: AxisPairsType, value: unknown, path: string): ValidateResult {
  const at = path || '(body)';
  if (!Array.isArray(value)) return { ok: false, path: at, problem: 'expected an array' };
  if (value.length < type.minLength || value.length > type.maxLength) {
    return { ok: false, path: at, problem: `array length ${value.length} outside [${type.minLength}, ${type.maxLength}]` };
  }
  const out: [number, number][] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const pair: unknown = value[i];
    if (!Array.isArray(pair)) return { ok: false, path: `${path}[${i}]`, problem: 'expected an array' };
    if (pair.length !== 2) return { ok: false, path: `${path}[${i}]`, problem: 'expected exactly 2 elements' };
    for (let j = 0; j < 2; j++) {
      const v: unknown = pair[j];
      if (typeof v !== 'number' || !Number.isFinite(v)) return { ok: false, path: `${path}[${i}][${j}]`, problem: 'expected a finite number' };
      if (v < -1 || v > 1) return { ok: false, path: `${path}[${i}][${j}]`, problem: 'out of range [-1, 1]' };
    }
    out[i] = [pair[0] as number, pair[1] as number];
  }
  return { ok: true, value: out };
}

/**
 * Wire form of axisPairs: a byte string (msgpack bin) of 2 bytes per pair, each a two's
 * complement signed byte in [-INPUT_AXIS_STEPS, INPUT_AXIS_STEPS]. Returns the dequantized pairs.
 */
function axisPairsFromWire(type: AxisPairsType, value: unknown, path: string): ValidateResult {
  const at = path || '(body)';
  if (!(value instanceof Uint8Array)) return { ok: false, path: at, problem: 'expected bytes (msgpack bin)' };
  if (value.length % 2 !== 0) return { ok: false, path: at, problem: `odd byte length ${value.length}, expected 2 bytes per pair` };
  const n = value.length / 2;
  if (n < type.minLength || n > type.maxLength) {
    return { ok: false, path: at, problem: `${n} pairs outside [${type.minLength}, ${type.maxLength}]` };
  }
  const out: [number, number][] = new Array(n);
  for (let i = 0; i < n; i++) {
    const pair: [number, number] = [0, 0];
    for (let j = 0; j < 2; j++) {
      const q = (value[2 * i + j] << 24) >> 24; // the byte as a signed 8-bit integer
      if (q < -INPUT_AXIS_STEPS || q > INPUT_AXIS_STEPS) {
        return { ok: false, path: `${path}[${i}][${j}]`, problem: `out of range [${-INPUT_AXIS_STEPS}, ${INPUT_AXIS_STEPS}]` };
      }
      pair[j] = dequantizeAxis(q);
    }
    out[i] = pair;
  }
  return { ok: true, value: out };
}

/** Wire form of valid axisPairs: the quantized components as signed bytes. */
function axisPairsToWire(value: readonly (readonly [number, number])[]): Uint8Array {
  const out = new Uint8Array(value.length * 2);
  for (let i = 0; i < value.length; i++) {
    out[2 * i] = quantizeAxis(value[i][0]) & 0xff;
    out[2 * i + 1] = quantizeAxis(value[i][1]) & 0xff;
  }
  return out;
}

/**
 * Rebuilds `value` (already valid) in wire shape: every record gets exactly its declared keys in
 * declared order, absent optionals as null. This is what makes msgpackr match a predefined
 * structure every time, so the encoder never invents a structure at run time.
 */
export function toWire(type: FieldType, value: unknown): unknown {
  switch (type.kind) {
    case 'array':
      return (value as unknown[]).map((v) => toWire(type.of, v));
    case 'tuple':
      return (value as unknown[]).map((v, i) => toWire(type.of[i], v));
    case 'axisPairs':
      return axisPairsToWire(value as [number, number][]);
    case 'record': {
      const src = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of type.fields) {
        const v = src[f.name];
        out[f.name] = v === undefined ? null : toWire(f.type, v);
      }
      return out;
    }
    default:
      return value;
  }
}

/** Every record type reachable from `type` (itself included), depth first, each once. */
export function recordsIn(type: FieldType, acc: RecordType[] = []): RecordType[] {
  if (type.kind === 'record') {
    if (!acc.includes(type)) acc.push(type);
    for (const f of type.fields) recordsIn(f.type, acc);
  } else if (type.kind === 'array') {
    recordsIn(type.of, acc);
  } else if (type.kind === 'tuple') {
    for (const t of type.of) recordsIn(t, acc);
  }
  return acc;
}

/** Short human description of a type, used in docs/protocol.md's field column. */
export function describeType(type: FieldType): string {
  switch (type.kind) {
    case 'int': return `int ${type.min}..${type.max}`;
    case 'number': return `number ${type.min}..${type.max}`;
    case 'string': return `string ${type.minLength}..${type.maxLength}${type.asciiPattern ? ' id' : ''}`;
    case 'bool': return 'bool';
    case 'enum': return type.values.map((v) => `'${v}'`).join(' or ');
    case 'array': return `${describeType(type.of)}[${type.minLength}..${type.maxLength}]`;
    case 'tuple': return `[${type.of.map(describeType).join(', ')}]`;
    case 'axisPairs':
      return `[number -1..1, number -1..1][${type.minLength}..${type.maxLength}] as bin ${2 * type.minLength}..${2 * type.maxLength}: int8 q -${INPUT_AXIS_STEPS}..${INPUT_AXIS_STEPS} per number, value q / ${INPUT_AXIS_STEPS}`;
    case 'record': return type.name;
  }
}
