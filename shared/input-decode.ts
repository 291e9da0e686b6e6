/**
 * The `input` message body read straight from its bytes, without msgpackr and the schema walk:
 * every client sends one 20 times a second, and the general path (unpack a record, reset the
 * decoder's structures, build a clean copy against the schema) cost several times what the game
 * does with the input. Used by decodeMessage (shared/codec.ts) only; the outcome is the general
 * path's, byte for byte (test/shared/input-decode.test.ts compares both on random and mutated
 * messages).
 *
 * It reads the form our encoder writes: the record's one-byte structure id (the shared
 * structure of the input record, shared/codec.ts), `seq` and `ack` as msgpack positive fixint
 * (0-63: with records, 0x40-0x7f are structure references), uint 8, 16 or 32, `inputs` as a bin 8 of quantized components (shared/input.ts). Anything else
 * (another integer form, an inline structure, a bad or out-of-range value, trailing bytes) is
 * not an error here: it returns null and the general path decides, with its drop reason.
 *
 * The limits come from the message table: the fast path is built from the `input` schema and
 * switches itself off (always null) if that schema is ever not three fields of these kinds.
 */
import { dequantizeAxis, INPUT_AXIS_STEPS } from './input.js';
import type { InputBody, InputVector } from './messages.js';
import type { RecordType } from './schema.js';

/** What the fast path needs of the input schema, or null when it does not have that shape. */
interface InputShape {
  /** The record's structure byte: 0x40 + its index among the shared structures. */
  structureByte: number;
  seqMin: number;
  seqMax: number;
  ackMin: number;
  ackMax: number;
  pairsMin: number;
  pairsMax: number;
}

/**
 * Reads the input record's limits from its schema; null (fast path off) unless it is exactly
 * [int seq, int ack, axisPairs inputs], all required, at structure index `structureIndex` < 32.
 */
export function inputShape(schema: RecordType | null, structureIndex: number): InputShape | null {
  if (!schema || structureIndex < 0 || structureIndex >= 32) return null;
  const [seq, ack, inputs, ...rest] = schema.fields;
  if (rest.length || !seq || !ack || !inputs) return null;
  if (seq.name !== 'seq' || ack.name !== 'ack' || inputs.name !== 'inputs') return null;
  if (seq.optional || ack.optional || inputs.optional) return null;
  if (seq.type.kind !== 'int' || ack.type.kind !== 'int' || inputs.type.kind !== 'axisPairs') return null;
  return {
    structureByte: 0x40 + structureIndex,
    seqMin: seq.type.min, seqMax: seq.type.max,
    ackMin: ack.type.min, ackMax: ack.type.max,
    pairsMin: inputs.type.minLength, pairsMax: inputs.type.maxLength,
  };
}

/** The value of the last uint readUint read (module scratch: nothing allocated per read). */
let uintValue = 0;

/**
 * A msgpack positive fixint or uint 8/16/32 at `at`; the offset after it, or -1. With records
 * on (shared/codec.ts), msgpackr reads 0x40-0x7f as structure references, not fixints, and writes
 * 64-127 as uint 8: only 0x00-0x3f are fixints here.
 */
function readUint(b: Uint8Array, at: number): number {
  if (at >= b.length) return -1;
  const t = b[at];
  if (t <= 0x3f) {
    uintValue = t;
    return at + 1;
  }
  if (t === 0xcc) {
    if (at + 2 > b.length) return -1;
    uintValue = b[at + 1];
    return at + 2;
  }
  if (t === 0xcd) {
    if (at + 3 > b.length) return -1;
    uintValue = (b[at + 1] << 8) | b[at + 2];
    return at + 3;
  }
  if (t === 0xce) {
    if (at + 5 > b.length) return -1;
    uintValue = ((b[at + 1] << 24) >>> 0) + ((b[at + 2] << 16) | (b[at + 3] << 8) | b[at + 4]);
    return at + 5;
  }
  return -1;
}

/** Where the last parseInput found its fields (module scratch, like uintValue). */
let parsedSeq = 0;
let parsedAck = 0;
let parsedAt = 0;

/**
 * Checks the input message `bytes` (message id at byte 0, not checked here) against the form
 * described above and `shape`'s limits: the number of input pairs, with the fields left in
 * parsedSeq, parsedAck and parsedAt (the first pair's offset); -1 when the general path decides.
 * Nothing is allocated; the callers build the body of the form they hand out.
 */
function parseInput(bytes: Uint8Array, shape: InputShape | null): number {
  if (!shape || bytes.length < 2 || bytes[1] !== shape.structureByte) return -1;
  let at = readUint(bytes, 2);
  if (at < 0 || uintValue < shape.seqMin || uintValue > shape.seqMax) return -1;
  const seq = uintValue;
  at = readUint(bytes, at);
  if (at < 0 || uintValue < shape.ackMin || uintValue > shape.ackMax) return -1;
  const ack = uintValue;
  if (at + 2 > bytes.length || bytes[at] !== 0xc4) return -1;
  const len = bytes[at + 1];
  at += 2;
  // The bin must end the message exactly: trailing bytes are the general path's error.
  if (at + len !== bytes.length || len % 2 !== 0) return -1;
  const n = len / 2;
  if (n < shape.pairsMin || n > shape.pairsMax) return -1;
  for (let i = at; i < at + len; i++) {
    const q = (bytes[i] << 24) >> 24;
    // The byte -128 is refused: the range is symmetric.
    if (q < -INPUT_AXIS_STEPS || q > INPUT_AXIS_STEPS) return -1;
  }
  parsedSeq = seq;
  parsedAck = ack;
  parsedAt = at;
  return n;
}

/** Component `i` (0-based over all pairs) of the input parsed last, dequantized. */
function axisAt(bytes: Uint8Array, i: number): number {
  return dequantizeAxis((bytes[parsedAt + i] << 24) >> 24);
}

/**
 * The body of the input message `bytes` (message id at byte 0, not checked here), a fresh object
 * as decodeMessage returns it; null when the bytes are not in the form described above or break
 * a limit (then the general path gives the outcome).
 */
export function decodeInputBody(bytes: Uint8Array, shape: InputShape | null): InputBody | null {
  const n = parseInput(bytes, shape);
  if (n < 0) return null;
  const inputs: InputVector[] = new Array(n);
  for (let i = 0; i < n; i++) inputs[i] = [axisAt(bytes, 2 * i), axisAt(bytes, 2 * i + 1)];
  return { seq: parsedSeq, ack: parsedAck, inputs };
}

/**
 * A reused home for decoded `input` bodies (DecodeContext.scratch, shared/codec.ts): one result
 * object, one body, and per pair count one array of pairs, all made once and overwritten by
 * every decode. A server decodes 20 inputs a second per player; this way none of them allocates.
 */
export interface InputScratch {
  /** What decodeMessage returns for an input decoded into this scratch (`body` is `this.body`). */
  readonly result: { ok: true; name: 'input'; body: InputBody };
  readonly body: InputBody;
  /** `lists[n]`: the `inputs` array of a body with n pairs, its pairs reused too. */
  readonly lists: InputVector[][];
}

/** A scratch for bodies of up to `maxPairs` inputs (the input schema's maxLength). */
export function createInputScratch(maxPairs: number): InputScratch {
  const lists: InputVector[][] = [];
  for (let n = 0; n <= maxPairs; n++) lists.push(Array.from({ length: n }, (): InputVector => [0, 0]));
  const body: InputBody = { seq: 0, ack: 0, inputs: lists[0] };
  return { result: { ok: true, name: 'input', body }, body, lists };
}

/**
 * decodeInputBody into `scratch` instead of fresh objects: the same values, in scratch.body, which
 * stays valid until the next decode into the same scratch; null as decodeInputBody (the scratch
 * is then untouched).
 */
export function decodeInputInto(bytes: Uint8Array, shape: InputShape | null, scratch: InputScratch): InputBody | null {
  const n = parseInput(bytes, shape);
  if (n < 0 || n >= scratch.lists.length) return null;
  const inputs = scratch.lists[n];
  for (let i = 0; i < n; i++) {
    const pair = inputs[i] as [number, number];
    pair[0] = axisAt(bytes, 2 * i);
    pair[1] = axisAt(bytes, 2 * i + 1);
  }
  const body = scratch.body;
  body.seq = parsedSeq;
  body.ack = parsedAck;
  body.inputs = inputs;
  return body;
}
