import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  RECORD_STRUCTURES, createBodyDecoder, decodeMessage, encodeMessage, MessageEncodeError,
  type DecodeContext, type DecodeResult,
} from '../../shared/codec.js';
import { DROP_REASONS, ErrorCode, isErrorCode } from '../../shared/errors.js';
import { INPUT_AXIS_STEPS, quantizeInput } from '../../shared/input.js';
import { MAX_RELIABLE_MESSAGE_BYTES, MAX_UNRELIABLE_MESSAGE_BYTES } from '../../shared/limits.js';
import { MESSAGES, messageSpec, type MessageName, type MessageSpec } from '../../shared/messages.js';
import { toWire, type FieldType } from '../../shared/schema.js';
import { arbitraryOf } from './arbitrary.js';
import { SAMPLES } from './samples.js';

/** The context in which a message is legitimately received. */
const ctxFor = (m: MessageSpec): DecodeContext => ({ channel: m.channel, direction: m.direction === 'both' ? 'c2s' : m.direction });
/** Plain msgpack (maps with key names, no records): lets tests send bodies our encoder refuses. */
const plain = new Packr({ useRecords: false, variableMapSize: true });
const raw = (id: number, body: unknown): Uint8Array => {
  const p = plain.pack(body);
  const out = new Uint8Array(1 + p.length);
  out[0] = id;
  out.set(p, 1);
  return out;
};
/**
 * Records with the table's structures, as our encoder writes them, but without its validation:
 * lets tests send compact bodies our encoder refuses (a plain map may exceed a small message's
 * max bytes, as for `input`).
 */
const packed = new Packr({
  structures: RECORD_STRUCTURES.map((k) => [...k]), useRecords: true, maxSharedStructures: RECORD_STRUCTURES.length,
  maxOwnStructures: 0, bundleStrings: false, moreTypes: false,
});
const rec = (id: number, body: unknown): Uint8Array => {
  const p = packed.pack(body);
  const out = new Uint8Array(1 + p.length);
  out[0] = id;
  out.set(p, 1);
  return out;
};
const concat = (...parts: (Uint8Array | number[])[]): Uint8Array => {
  const all = parts.flatMap((p) => [...p]);
  return Uint8Array.from(all);
};

/** Asserts the shape of any decode result: never an exception, failures carry catalogued codes. */
function checkResult(r: DecodeResult): void {
  if (r.ok) {
    const spec = messageSpec(r.name)!;
    expect(spec.validate(r.body).ok).toBe(true);
  } else {
    expect(DROP_REASONS).toContain(r.reason);
    expect(isErrorCode(r.code)).toBe(true);
    expect(typeof r.detail).toBe('string');
  }
}

/** Values that break `type`, each with a label. */
function invalidValues(type: FieldType): [string, unknown][] {
  const out: [string, unknown][] = [['null-ish wrong type', { nested: true }]];
  switch (type.kind) {
    case 'int':
      out.push(['string', '1'], ['fraction', type.min + 0.5], ['below min', type.min - 1], ['above max', type.max + 1],
        ['NaN', Number.NaN], ['Infinity', Number.POSITIVE_INFINITY], ['boolean', true]);
      break;
    case 'number':
      out.push(['string', '1'], ['NaN', Number.NaN], ['Infinity', Number.POSITIVE_INFINITY], ['-Infinity', Number.NEGATIVE_INFINITY],
        ['below min', type.min - 1], ['above max', type.max + 1]);
      break;
    case 'string':
      out.push(['number', 5], ['too long', 'a'.repeat(type.maxLength + 1)], ['bytes', new Uint8Array([97])]);
      if (type.minLength > 0) out.push(['too short', '']);
      if (type.asciiPattern) out.push(['bad characters', 'a b'], ['non-ascii', 'é']);
      break;
    case 'bool':
      out.push(['number', 1], ['string', 'true']);
      break;
    case 'enum':
      out.push(['unknown value', 'nope'], ['number', 0]);
      break;
    case 'array': {
      out.push(['string', 'abc'], ['too long', Array.from({ length: type.maxLength + 1 }, () => sampleOf(type.of))]);
      if (type.minLength > 0) out.push(['too short', []]);
      for (const [label, bad] of invalidValues(type.of)) out.push([`element ${label}`, [bad]]);
      break;
    }
    case 'tuple':
      out.push(['too short', type.of.slice(1).map(sampleOf)], ['too long', [...type.of.map(sampleOf), 0]]);
      for (const [label, bad] of invalidValues(type.of[0])) out.push([`element ${label}`, [bad, ...type.of.slice(1).map(sampleOf)]]);
      break;
    case 'axisPairs': {
      const pairs = (n: number) => new Uint8Array(2 * n).fill(1);
      out.push(
        ['protocol-1 form (an array of pairs, not bytes)', [[1, 0]]],
        ['string', 'ab'],
        ['too long', pairs(type.maxLength + 1)],
        ['odd length', new Uint8Array(2 * type.minLength + 1)],
        ['byte -128 (0x80) in dx', Uint8Array.from([0x80, 0])],
        ['byte -128 (0x80) in dy', Uint8Array.from([0, 0x80])],
      );
      if (type.minLength > 0) out.push(['too short', new Uint8Array(0)]);
      break;
    }
    case 'record':
      out.push(['array', []], ['extra field', { ...(sampleOf(type) as object), extra: 1 }]);
      for (const f of type.fields) {
        for (const [label, bad] of invalidValues(f.type)) out.push([`${f.name} ${label}`, { ...(sampleOf(type) as object), [f.name]: bad }]);
      }
      break;
  }
  return out;
}
/** A valid value of `type` in wire form (what a peer's msgpack carries). */
function sampleOf(type: FieldType): unknown {
  return toWire(type, fc.sample(arbitraryOf(type), { numRuns: 1, seed: 7 })[0]);
}

describe('encodeMessage / decodeMessage round trip', () => {
  for (const m of MESSAGES) {
    it(`${m.name} (id ${m.id}) round-trips its sample`, () => {
      const body = SAMPLES[m.name];
      const bytes = encodeMessage(m.name, body as never);
      expect(bytes[0]).toBe(m.id);
      const r = decodeMessage(bytes, ctxFor(m));
      expect(r).toEqual({ ok: true, name: m.name, body });
    });
  }

  it('optional fields absent on encode are absent after decode (not null)', () => {
    const r = decodeMessage(encodeMessage('hello', { v: 1, ticket: 't' }), { channel: 'reliable', direction: 'c2s' });
    expect(r).toEqual({ ok: true, name: 'hello', body: { v: 1, ticket: 't' } });
    expect(r.ok && Object.keys(r.body)).toEqual(['v', 'ticket']);
  });

  it('the chat outbox fields (protocol 5): chatSend.seq, chatRejected.seq, chatAccepted, welcome.lastChatSeq', () => {
    const rel = { channel: 'reliable', direction: 'c2s' } as const;
    const s2c = { channel: 'reliable', direction: 's2c' } as const;
    expect(decodeMessage(encodeMessage('chatSend', { text: 'hi', seq: 4_294_967_295 }), rel))
      .toEqual({ ok: true, name: 'chatSend', body: { text: 'hi', seq: 4_294_967_295 } });
    // Without a seq (a debugging tool) the line is still a valid chatSend.
    expect(decodeMessage(encodeMessage('chatSend', { text: 'hi' }), rel)).toEqual({ ok: true, name: 'chatSend', body: { text: 'hi' } });
    expect(decodeMessage(encodeMessage('chatAccepted', { seq: 7 }), s2c)).toEqual({ ok: true, name: 'chatAccepted', body: { seq: 7 } });
    expect(decodeMessage(encodeMessage('chatRejected', { reason: 'too_long', retryAfterMs: 0, seq: 9 }), s2c))
      .toEqual({ ok: true, name: 'chatRejected', body: { reason: 'too_long', retryAfterMs: 0, seq: 9 } });
    const welcome = { ...SAMPLES.welcome, resumed: true, lastChatSeq: 0 };
    expect(decodeMessage(encodeMessage('welcome', welcome), s2c)).toEqual({ ok: true, name: 'welcome', body: welcome });
    // Seqs count from 1; 0 only means "none accepted" in the welcome.
    expect(() => encodeMessage('chatSend', { text: 'hi', seq: 0 })).toThrow(MessageEncodeError);
    expect(() => encodeMessage('chatAccepted', { seq: 2 ** 32 })).toThrow(MessageEncodeError);
    const zero = new Uint8Array([messageSpec('chatSend')!.id, 0x82, 0xa4, ...new TextEncoder().encode('text'), 0xa1, 0x78, 0xa3, ...new TextEncoder().encode('seq'), 0x00]);
    expect(decodeMessage(zero, rel)).toMatchObject({ ok: false, reason: 'invalid_field' });
  });

  it('uses record ids instead of key names on the wire', () => {
    const bytes = encodeMessage('input', SAMPLES.input);
    const text = new TextDecoder().decode(bytes);
    expect(text).not.toContain('inputs');
    expect(text).not.toContain('seq');
    // [id][record id 0x40 + structure index]
    expect(bytes[1]).toBe(0x40 + RECORD_STRUCTURES.findIndex((k) => k.join() === 'seq,ack,inputs'));
  });

  it('key order and extra undefined properties of the caller do not change the bytes', () => {
    const a = encodeMessage('chat', { id: 3, entityId: 1, name: 'A', text: 'x', t: 5 });
    const b = encodeMessage('chat', { t: 5, text: 'x', name: 'A', entityId: 1, id: 3 });
    expect(b).toEqual(a);
  });

  it('refuses to encode an invalid body or an unknown name (our bug, not the peer\'s)', () => {
    expect(() => encodeMessage('chatSend', { text: '' })).toThrow(MessageEncodeError);
    expect(() => encodeMessage('chatSend', { text: 'x', extra: 1 } as never)).toThrow(/unknown field/);
    expect(() => encodeMessage('input', { seq: 1, ack: 0, inputs: [[2, 0]] })).toThrow(/inputs\[0\]\[0\]/);
    expect(() => encodeMessage('nope' as never, {} as never)).toThrow(MessageEncodeError);
  });
});

describe('nothing is learned at run time', () => {
  it('a fresh decoder decodes every message alone, in any order', () => {
    const encoded = MESSAGES.filter((m) => m.schema).map((m) => ({ m, bytes: encodeMessage(m.name, SAMPLES[m.name] as never) }));
    for (const { m, bytes } of encoded) {
      expect(plainBytes(createBodyDecoder()(bytes.subarray(1))), m.name).toEqual(plainBytes(toWire(m.schema!, SAMPLES[m.name])));
    }
    const one = createBodyDecoder();
    for (const { m, bytes } of [...encoded].reverse()) {
      expect(m.fromWire(one(bytes.subarray(1))), m.name).toEqual({ ok: true, value: SAMPLES[m.name] });
    }
  });

  it('encoding is stateless: the same body gives the same bytes before and after other messages', () => {
    const first = encodeMessage('welcome', SAMPLES.welcome);
    for (const m of MESSAGES) encodeMessage(m.name, SAMPLES[m.name] as never);
    encodeMessage('chat', { id: 9, entityId: 2, name: 'new shape?', text: 'x', t: 1 });
    expect(encodeMessage('welcome', SAMPLES.welcome)).toEqual(first);
  });

  it('an inline record definition from a peer cannot change how later messages decode', () => {
    const helloId = messageSpec('hello')!.id;
    const legit = encodeMessage('hello', SAMPLES.hello);
    const helloRecord = legit[1];
    // fixext1 0x72 = msgpackr record definition, redefining the hello structure id as ['evil'].
    const hostile = concat([helloId, 0xd4, 0x72, helloRecord], plain.pack(['evil']), [0x01]);
    const r1 = decodeMessage(hostile, { channel: 'reliable', direction: 'c2s' });
    expect(r1).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(decodeMessage(legit, { channel: 'reliable', direction: 'c2s' })).toEqual({ ok: true, name: 'hello', body: SAMPLES.hello });
    // Defining a new (non-shared) structure id and using it in a later message must not work.
    const define = concat([helloId, 0xd4, 0x72, 0x60], plain.pack(['v', 'ticket']), [0x01, 0xa1, 0x74]);
    expect(decodeMessage(define, { channel: 'reliable', direction: 'c2s' })).toEqual({ ok: true, name: 'hello', body: { v: 1, ticket: 't' } });
    const reuse = concat([helloId, 0x60, 0x01, 0xa1, 0x74]);
    expect(decodeMessage(reuse, { channel: 'reliable', direction: 'c2s' }).ok).toBe(false);
  });
});

/** `v` with every byte array (Node's Buffer included) as a plain number array, for toEqual. */
function plainBytes(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytes: [...v] };
  if (Array.isArray(v)) return v.map(plainBytes);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainBytes(x)]));
  return v;
}

describe('decodeMessage rejects bad input with a counted reason and a close code', () => {
  const rel: DecodeContext = { channel: 'reliable', direction: 'c2s' };
  const unrel: DecodeContext = { channel: 'unreliable', direction: 'c2s' };
  const cases: [string, Uint8Array, DecodeContext, string, number][] = [
    ['empty', new Uint8Array(0), rel, 'decode', ErrorCode.BAD_MESSAGE],
    ['id only', new Uint8Array([1]), rel, 'decode', ErrorCode.BAD_MESSAGE],
    ['unknown id', new Uint8Array([200, 0x80]), rel, 'unknown_type', ErrorCode.UNKNOWN_MESSAGE_TYPE],
    ['unknown id 0', new Uint8Array([0, 0x80]), unrel, 'unknown_type', ErrorCode.UNKNOWN_MESSAGE_TYPE],
    ['reliable message on the unreliable channel', encodeMessage('hello', SAMPLES.hello), unrel, 'wrong_channel', ErrorCode.WRONG_CHANNEL],
    ['unreliable message on the reliable channel', encodeMessage('input', SAMPLES.input), rel, 'wrong_channel', ErrorCode.WRONG_CHANNEL],
    ['server message sent by a client', encodeMessage('welcome', SAMPLES.welcome), rel, 'wrong_channel', ErrorCode.WRONG_CHANNEL],
    ['client message sent by the server', encodeMessage('hello', SAMPLES.hello), { channel: 'reliable', direction: 's2c' }, 'wrong_channel', ErrorCode.WRONG_CHANNEL],
    ['snapshot sent by a client', new Uint8Array([35, 1, 2]), unrel, 'wrong_channel', ErrorCode.WRONG_CHANNEL],
    ['over the reliable limit', new Uint8Array(MAX_RELIABLE_MESSAGE_BYTES + 1).fill(1), rel, 'too_large', ErrorCode.MESSAGE_TOO_LARGE],
    ['over the unreliable limit', new Uint8Array(MAX_UNRELIABLE_MESSAGE_BYTES + 1).fill(32), unrel, 'too_large', ErrorCode.MESSAGE_TOO_LARGE],
    ['over its own limit', concat(encodeMessage('chatSend', { text: 'x' }), new Uint8Array(messageSpec('chatSend')!.maxBytes)), rel, 'too_large', ErrorCode.MESSAGE_TOO_LARGE],
    ['trailing bytes', concat(encodeMessage('chatSend', { text: 'hi' }), [0]), rel, 'decode', ErrorCode.BAD_MESSAGE],
    ['truncated', encodeMessage('chatSend', { text: 'hello' }).subarray(0, 4), rel, 'decode', ErrorCode.BAD_MESSAGE],
    ['string header longer than the data', new Uint8Array([5, 0xd9, 0x10, 0x61]), rel, 'decode', ErrorCode.BAD_MESSAGE],
    ['reserved byte 0xc1 (msgpackr reads it as no value)', new Uint8Array([5, 0xc1]), rel, 'invalid_field', ErrorCode.BAD_MESSAGE],
    ['body is nil', new Uint8Array([5, 0xc0]), rel, 'invalid_field', ErrorCode.BAD_MESSAGE],
    ['body is a number', new Uint8Array([5, 0x01]), rel, 'invalid_field', ErrorCode.BAD_MESSAGE],
    ['uint64 integer (BigInt)', rec(32, { seq: 2n ** 63n, ack: 0, inputs: new Uint8Array(2) }), unrel, 'invalid_field', ErrorCode.BAD_MESSAGE],
    ['unknown extension type', new Uint8Array([5, 0xd4, 0x33, 0x00]), rel, 'decode', ErrorCode.BAD_MESSAGE],
  ];
  for (const [label, bytes, ctx, reason, code] of cases) {
    it(label, () => {
      const r = decodeMessage(bytes, ctx);
      expect(r).toMatchObject({ ok: false, reason, code });
      checkResult(r);
    });
  }

  it('deeply nested arrays (stack exhaustion) end in a result, and later messages still decode', () => {
    const depth = 140_000;
    const bytes = new Uint8Array(1 + depth + 1).fill(0x91);
    bytes[0] = messageSpec('welcome')!.id;
    bytes[depth + 1] = 0xc0;
    const r = decodeMessage(bytes, { channel: 'reliable', direction: 's2c' });
    expect(r.ok).toBe(false);
    checkResult(r);
    expect(decodeMessage(encodeMessage('chat', SAMPLES.chat), { channel: 'reliable', direction: 's2c' }).ok).toBe(true);
  });

  it('msgpackr extension values (Date, Set, RegExp, Error, typed arrays) are invalid fields, not crashes', () => {
    const full = new Packr({ useRecords: false, moreTypes: true });
    for (const v of [new Date(0), new Set([1]), /a+/, new Error('x'), new Float32Array(2), new Map([[1, 2]])]) {
      const p = full.pack({ text: v });
      const r = decodeMessage(concat([5], p), rel);
      expect(r.ok, String(v)).toBe(false);
      checkResult(r);
    }
  });

  it('accepts a plain msgpack map body (keys spelled out) as long as it validates', () => {
    expect(decodeMessage(raw(5, { text: 'hi' }), rel)).toEqual({ ok: true, name: 'chatSend', body: { text: 'hi' } });
  });
});

describe('every invalid field of every message is rejected as invalid_field', () => {
  for (const m of MESSAGES) {
    if (!m.schema) continue;
    const ctx = ctxFor(m);
    const cases = invalidValues(m.schema).filter(([label]) => label !== 'array');
    it(`${m.name}: ${cases.length} invalid variants`, () => {
      expect(cases.length).toBeGreaterThanOrEqual(m.schema!.fields.length * 2 + 1);
      for (const [label, body] of cases) {
        // Compact records (as our encoder writes them): a plain map would already exceed the
        // max bytes of a small message such as `input` and be refused for its size instead.
        const r = decodeMessage(rec(m.id, body), ctx);
        expect(r.ok, `${m.name} ${label}`).toBe(false);
        if (!r.ok) {
          // 'too long' variants may exceed the message's byte limit first; both are refusals.
          expect(['invalid_field', 'too_large', 'decode'], `${m.name} ${label}: ${r.detail}`).toContain(r.reason);
          if (r.reason === 'invalid_field') expect(r.code).toBe(ErrorCode.BAD_MESSAGE);
          // input's limit is tight (22 bytes): an extra field (msgpackr falls back to a plain map)
          // or a nested map in place of a field may be refused for its size; the rest must be
          // refused for the field.
          if (m.name === 'input' && !/too long|extra field|null-ish/.test(label)) expect(r.reason, `${m.name} ${label}: ${r.detail}`).toBe('invalid_field');
        }
      }
    });
  }

  it('missing required fields are named in the detail', () => {
    const r = decodeMessage(raw(1, { v: 1 }), { channel: 'reliable', direction: 'c2s' });
    expect(r).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(!r.ok && r.detail).toContain('ticket');
    const r2 = decodeMessage(rec(32, { seq: 1, ack: 0, inputs: Uint8Array.from([0, 0, 5, 0x80]) }), { channel: 'unreliable', direction: 'c2s' });
    expect(r2).toMatchObject({ ok: false, reason: 'invalid_field', code: ErrorCode.BAD_MESSAGE });
    expect(!r2.ok && r2.detail).toBe('input: inputs[1][1]: out of range [-127, 127]');
  });

  it('rejects a fifth input', () => {
    const r = decodeMessage(rec(32, { seq: 9, ack: 0, inputs: new Uint8Array(10) }), { channel: 'unreliable', direction: 'c2s' });
    expect(r).toMatchObject({ ok: false, reason: 'invalid_field' });
    expect(decodeMessage(rec(32, { seq: 9, ack: 0, inputs: new Uint8Array(8) }), { channel: 'unreliable', direction: 'c2s' }).ok).toBe(true);
  });

  it('ignores nothing: a prototype-polluting key is an unknown field', () => {
    const bytes = concat([5, 0x82, 0xa4], new TextEncoder().encode('text'), [0xa1, 0x78, 0xa9], new TextEncoder().encode('__proto__'), [0x80]);
    const r = decodeMessage(bytes, { channel: 'reliable', direction: 'c2s' });
    expect(r.ok).toBe(false);
    expect(({} as Record<string, unknown>).text).toBeUndefined();
  });
});

describe('property: decode never throws', () => {
  const contexts: DecodeContext[] = [
    { channel: 'reliable', direction: 'c2s' }, { channel: 'reliable', direction: 's2c' },
    { channel: 'unreliable', direction: 'c2s' }, { channel: 'unreliable', direction: 's2c' },
  ];

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...contexts), (bytes, ctx) => {
      checkResult(decodeMessage(bytes, ctx));
    }), { numRuns: 3000 });
  });

  it('random bytes behind a valid message id', () => {
    fc.assert(fc.property(fc.constantFrom(...MESSAGES), fc.uint8Array({ minLength: 1, maxLength: 200 }), (m, body) => {
      checkResult(decodeMessage(concat([m.id], body), ctxFor(m)));
    }), { numRuns: 3000 });
  });

  it('mutated valid messages (flip, insert, delete, truncate)', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    );
    const named = MESSAGES.filter((m) => m.schema);
    fc.assert(fc.property(fc.constantFrom(...named), fc.array(mutation, { minLength: 1, maxLength: 4 }), (m, muts) => {
      const bytes = [...encodeMessage(m.name, SAMPLES[m.name] as never)];
      for (const mu of muts) {
        const at = bytes.length ? mu.at % bytes.length : 0;
        if (mu.kind === 'flip') bytes[at] ^= 1 << mu.bit;
        else if (mu.kind === 'insert') bytes.splice(at, 0, mu.byte);
        else if (mu.kind === 'delete') bytes.splice(at, 1);
        else if (mu.kind === 'truncate') bytes.length = at;
        else bytes[at] = mu.byte;
      }
      checkResult(decodeMessage(Uint8Array.from(bytes), ctxFor(m)));
    }), { numRuns: 3000 });
  });

  it('every valid body of every message round-trips', () => {
    const named = MESSAGES.filter((m) => m.schema);
    fc.assert(fc.property(fc.constantFrom(...named).chain((m) => fc.tuple(fc.constant(m), arbitraryOf(m.schema!))), ([m, body]) => {
      const r = decodeMessage(encodeMessage(m.name as MessageName, body as never), ctxFor(m));
      expect(r).toEqual({ ok: true, name: m.name, body });
    }), { numRuns: 1500 });
  });
});

describe('input directions travel as quantized signed bytes', () => {
  const unrel: DecodeContext = { channel: 'unreliable', direction: 'c2s' };
  const inputRecord = 0x40 + RECORD_STRUCTURES.findIndex((k) => k.join() === 'seq,ack,inputs');

  it('writes each component as one byte q = round(v * 127) in a msgpack bin (bin8: 0xc4, length)', () => {
    const bytes = encodeMessage('input', { seq: 5, ack: 3, inputs: [[1, -1], [0.5, -0.5], [0, 0.3]] });
    // 0.5 * 127 = 63.5 rounds away from zero to 64 (0x40), -0.5 to -64 (0xc0); 0.3 * 127 = 38.1 to 38.
    expect([...bytes]).toEqual([32, inputRecord, 5, 3, 0xc4, 6, 0x7f, 0x81, 0x40, 0xc0, 0x00, 38]);
    expect(decodeMessage(bytes, unrel)).toEqual({
      ok: true, name: 'input', body: { seq: 5, ack: 3, inputs: [[1, -1], [64 / 127, -64 / 127], [0, 38 / 127]] },
    });
  });

  it('a steady-state message (seq 6000, ack 120000, four inputs) is 20 bytes; the bound is 22', () => {
    const bytes = encodeMessage('input', { seq: 6000, ack: 120_000, inputs: [[0.3, -0.9], [0.3, -0.9], [1, 0], [-0.7071, 0.7071]] });
    expect(bytes.length).toBe(20);
    expect(messageSpec('input')!.maxBytes).toBe(22);
  });

  it('every byte but 0x80 (-128) decodes to its signed value / 127, in either component', () => {
    for (let b = 0; b < 256; b++) {
      for (const pair of [[b, 0], [0, b]]) {
        const r = decodeMessage(rec(32, { seq: 1, ack: 0, inputs: Uint8Array.from(pair) }), unrel);
        if (b === 0x80) {
          expect(r, `byte ${b}`).toMatchObject({ ok: false, reason: 'invalid_field', code: ErrorCode.BAD_MESSAGE });
        } else {
          const v = (b > 127 ? b - 256 : b) / 127;
          expect(r, `byte ${b}`).toEqual({ ok: true, name: 'input', body: { seq: 1, ack: 0, inputs: [pair[0] ? [v, 0] : [0, v]] } });
        }
      }
    }
  });

  it('property: any direction in [-1, 1] decodes to exactly quantizeInput of it, within half a step', () => {
    const axis = fc.double({ min: -1, max: 1, noNaN: true });
    fc.assert(fc.property(fc.array(fc.tuple(axis, axis), { minLength: 1, maxLength: 4 }), (inputs) => {
      const r = decodeMessage(encodeMessage('input', { seq: 7, ack: 1, inputs }), unrel);
      expect(r.ok).toBe(true);
      if (!r.ok || r.name !== 'input') return;
      expect(r.body.inputs).toEqual(inputs.map((p) => quantizeInput(p)));
      r.body.inputs.forEach(([dx, dy], i) => {
        expect(Object.is(dx, -0) || Object.is(dy, -0)).toBe(false);
        expect(Math.abs(dx - inputs[i][0])).toBeLessThanOrEqual(0.5 / INPUT_AXIS_STEPS + 1e-15);
        expect(Math.abs(dy - inputs[i][1])).toBeLessThanOrEqual(0.5 / INPUT_AXIS_STEPS + 1e-15);
      });
    }), { numRuns: 1000 });
  });
});
