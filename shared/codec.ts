/**
 * Message codec: `[u8 message id][body]` (docs/protocol.md, "Message encoding").
 *
 * Bodies are msgpack (msgpackr) records with predefined structures: every record type in the
 * message table is registered as a shared structure, in table order, on both ends. A record then
 * costs one byte (its structure id, 0x40 + index) instead of its key names, and because the
 * encoder only ever writes bodies rebuilt in declared key order (schema.toWire) and may not add
 * structures (maxOwnStructures 0), nothing is learned at run time: every message, and so every
 * datagram, decodes alone with a fresh decoder. The decoder forgets any structure an input
 * defines inline, so a hostile message cannot change how later messages decode.
 *
 * Input directions (`input.inputs`) travel quantized, one signed byte per component in a msgpack
 * bin (shared/input.ts); the encoder quantizes and the decoder hands back `q / INPUT_AXIS_STEPS`.
 *
 * Never throws on input: decodeMessage returns a result with a drop reason and a close code.
 */
import { Packr, Unpackr } from 'msgpackr';
import { ErrorCode, type DropReason } from './errors.js';
import { MAX_RELIABLE_MESSAGE_BYTES, MAX_UNRELIABLE_MESSAGE_BYTES } from './limits.js';
import {
  MESSAGES, messageSpec, messageSpecById,
  type Channel, type MessageBodies, type MessageName, type AnyMessage,
} from './messages.js';
import { createInputScratch, decodeInputBody, decodeInputInto, inputShape, type InputScratch } from './input-decode.js';
import { recordsIn, toWire, type RecordType } from './schema.js';

/** Successful decode: name and validated body (a clean copy; snapshot bodies are a subarray). */
export type DecodeOk = AnyMessage & { ok: true };
/** Failed decode: what to count (`reason`) and the close code to use if the caller closes. */
export interface DecodeError {
  ok: false;
  reason: DropReason;
  code: number;
  detail: string;
}
export type DecodeResult = DecodeOk | DecodeError;

/** Where a message arrived: its channel and its direction of travel. */
export interface DecodeContext {
  channel: Channel;
  /** 'c2s' when the server decodes what a client sent; 's2c' when a client decodes. */
  direction: 'c2s' | 's2c';
  /**
   * Where an `input` message is decoded to (createDecodeScratch): the result is then the
   * scratch's own object, overwritten by the next decode with the same scratch, instead of a
   * fresh one. For a caller that is done with the input before it decodes the next message (the
   * server's session: 20 inputs a second per player, none allocating).
   */
  scratch?: InputScratch;
}

/** Thrown by encodeMessage when our own code hands it a body that breaks the schema (a bug). */
export class MessageEncodeError extends Error {
  override readonly name = 'MessageEncodeError';
}

/**
 * The predefined record structures: each record type's field names, in table order, deduplicated
 * (playerJoined and PlayerInfo share one). Exported so tests and docs can show them.
 */
export const RECORD_STRUCTURES: readonly (readonly string[])[] = (() => {
  const records: RecordType[] = [];
  for (const m of MESSAGES) if (m.schema) recordsIn(m.schema, records);
  const out: string[][] = [];
  const seen = new Set<string>();
  for (const r of records) {
    const keys = r.fields.map((f) => f.name);
    const sig = keys.join('\u0000');
    if (keys.length === 0 || seen.has(sig)) continue; // an empty record is an empty map
    seen.add(sig);
    out.push(keys);
  }
  if (out.length > 32) throw new Error('record structures must fit the one-byte record id range (32)');
  return Object.freeze(out.map((k) => Object.freeze(k)));
})();

const freshStructures = (): string[][] => RECORD_STRUCTURES.map((k) => [...k]);

/** Options shared by encoder and decoder: the table's structures, and nothing learned later. */
function msgpackOptions() {
  const structures = freshStructures();
  return {
    structures,
    useRecords: true,
    maxSharedStructures: structures.length,
    maxOwnStructures: 0,
    // Keep the wire plain msgpack + records: no bundled strings, no extra types.
    bundleStrings: false,
    moreTypes: false,
    mapsAsObjects: true,
  };
}

const packr = new Packr(msgpackOptions());

/**
 * A decoder holding only the table's structures. Exported for tests that prove a fresh decoder
 * reads every message alone; production code uses decodeMessage.
 */
export function createBodyDecoder(): (bytes: Uint8Array) => unknown {
  const options = msgpackOptions();
  const unpackr = new Unpackr(options);
  const shared = options.structures.length;
  return (bytes) => {
    try {
      return unpackr.unpack(bytes);
    } finally {
      // Forget structures defined inline by the input (msgpackr restores overwritten shared
      // ones itself); a message must never influence how the next one decodes.
      const s = (unpackr as unknown as { structures: unknown }).structures as (string[] | undefined)[] & { sharedLength?: number };
      if (s.length > shared) s.length = shared;
      for (let i = 0; i < shared; i++) {
        const want = RECORD_STRUCTURES[i];
        const have = s[i];
        if (!have || have.length !== want.length || have.some((k, j) => k !== want[j])) s[i] = [...want];
      }
    }
  };
}

const decodeBody = createBodyDecoder();

/** The `input` message and its fast path's limits (shared/input-decode.ts), from the table. */
const INPUT_SPEC = messageSpec('input');
const INPUT_SHAPE = (() => {
  const keys = INPUT_SPEC?.schema?.fields.map((f) => f.name).join('\u0000');
  return inputShape(INPUT_SPEC?.schema ?? null, RECORD_STRUCTURES.findIndex((s) => s.join('\u0000') === keys));
})();

/** A scratch for DecodeContext.scratch, sized for the table's `input` message. */
export function createDecodeScratch(): InputScratch {
  return createInputScratch(INPUT_SHAPE?.pairsMax ?? 0);
}

/**
 * Encodes one message: `[id][msgpack record body]`, or `[id][snapshot bytes]` for `snapshot`.
 * Input directions are quantized on the way (the peer decodes `quantizeInput` of each pair).
 * The returned array is freshly allocated and owned by the caller.
 * @throws MessageEncodeError when `name` is not in the table or `body` breaks its schema: that is
 *   a bug on our side, and sending it would only get the session closed by the peer.
 */
export function encodeMessage<K extends MessageName>(name: K, body: MessageBodies[K]): Uint8Array {
  const spec = messageSpec(name);
  if (!spec) throw new MessageEncodeError(`unknown message ${String(name)}`);
  const valid = spec.validate(body);
  if (!valid.ok) throw new MessageEncodeError(`${name}: ${valid.detail}`);
  let payload: Uint8Array;
  if (spec.schema === null) {
    payload = body as Uint8Array;
  } else {
    payload = packr.pack(toWire(spec.schema, valid.value));
  }
  const out = new Uint8Array(1 + payload.length);
  out[0] = spec.id;
  out.set(payload, 1);
  if (out.length > spec.maxBytes) {
    throw new MessageEncodeError(`${name}: ${out.length} bytes exceeds its limit ${spec.maxBytes}`);
  }
  return out;
}

const fail = (reason: DropReason, code: number, detail: string): DecodeError => ({ ok: false, reason, code, detail });

/**
 * Decodes and validates one message received on `ctx.channel`, travelling in `ctx.direction`.
 * Never throws. Checks, in order: empty (decode), over the channel limit (too_large), unknown id
 * (unknown_type), channel or direction not allowed (wrong_channel), over the message's own limit
 * (too_large), msgpack errors and trailing bytes (decode), schema (invalid_field).
 * For `snapshot` the body is `bytes.subarray(1)`, to be read by shared/snapshot's decoder.
 */
export function decodeMessage(bytes: Uint8Array, ctx: DecodeContext): DecodeResult {
  return decode(bytes, ctx, true);
}

/**
 * decodeMessage without the input fast path (shared/input-decode.ts): the general path alone,
 * for the test that checks both give the same outcome.
 */
export function decodeMessageWithoutFastPath(bytes: Uint8Array, ctx: DecodeContext): DecodeResult {
  return decode(bytes, ctx, false);
}

function decode(bytes: Uint8Array, ctx: DecodeContext, fast: boolean): DecodeResult {
  try {
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) return fail('decode', ErrorCode.BAD_MESSAGE, 'empty message');
    const channelLimit = ctx.channel === 'reliable' ? MAX_RELIABLE_MESSAGE_BYTES : MAX_UNRELIABLE_MESSAGE_BYTES;
    if (bytes.length > channelLimit) {
      return fail('too_large', ErrorCode.MESSAGE_TOO_LARGE, `${bytes.length} bytes exceeds the ${ctx.channel} limit ${channelLimit}`);
    }
    const spec = messageSpecById(bytes[0]);
    if (!spec) return fail('unknown_type', ErrorCode.UNKNOWN_MESSAGE_TYPE, `unknown message id ${bytes[0]}`);
    if (spec.channel !== ctx.channel) {
      return fail('wrong_channel', ErrorCode.WRONG_CHANNEL, `${spec.name} is a ${spec.channel} message, received on ${ctx.channel}`);
    }
    if (spec.direction !== 'both' && spec.direction !== ctx.direction) {
      return fail('wrong_channel', ErrorCode.WRONG_CHANNEL, `${spec.name} travels ${spec.direction}, received ${ctx.direction}`);
    }
    if (bytes.length > spec.maxBytes) {
      return fail('too_large', ErrorCode.MESSAGE_TOO_LARGE, `${spec.name}: ${bytes.length} bytes exceeds its limit ${spec.maxBytes}`);
    }
    if (bytes.length === 1) return fail('decode', ErrorCode.BAD_MESSAGE, `${spec.name}: empty body`);
    if (fast && spec === INPUT_SPEC) {
      const scratch = ctx.scratch;
      if (scratch) {
        if (decodeInputInto(bytes, INPUT_SHAPE, scratch)) return scratch.result as DecodeOk;
      } else {
        const body = decodeInputBody(bytes, INPUT_SHAPE);
        if (body) return { ok: true, name: 'input', body } as DecodeOk;
      }
    }
    const payload = bytes.subarray(1);
    if (spec.schema === null) return { ok: true, name: spec.name, body: payload } as DecodeOk;
    let raw: unknown;
    try {
      raw = decodeBody(payload);
    } catch (e) {
      return fail('decode', ErrorCode.BAD_MESSAGE, `${spec.name}: ${e instanceof Error ? e.message.slice(0, 120) : 'undecodable'}`);
    }
    const valid = spec.fromWire(raw);
    if (!valid.ok) return fail('invalid_field', ErrorCode.BAD_MESSAGE, `${spec.name}: ${valid.detail}`);
    return { ok: true, name: spec.name, body: valid.value } as DecodeOk;
  } catch (e) {
    // Defensive: nothing above should throw, but a peer's bytes must never crash the caller.
    return fail('decode', ErrorCode.BAD_MESSAGE, `unexpected decoder failure: ${e instanceof Error ? e.message.slice(0, 120) : String(e)}`);
  }
}

export type { Channel, MessageName, MessageBodies };
