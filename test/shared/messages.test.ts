import { describe, expect, expectTypeOf, it } from 'vitest';
import { encodeMessage } from '../../shared/codec.js';
import { MAX_RELIABLE_MESSAGE_BYTES, MAX_UNRELIABLE_MESSAGE_BYTES } from '../../shared/limits.js';
import {
  MESSAGES, SNAPSHOT_MESSAGE_ID, UNRELIABLE_ID_MAX, UNRELIABLE_ID_MIN, channelOf, channelOfId, channelOfMessage,
  messageSpec, messageSpecById,
  type ChatRejectedBody, type HelloBody, type InputVector, type MessageBodies, type MessageName, type PlayerInfo,
} from '../../shared/messages.js';
import { arrayOf, axisPairs, bool, field, int, num, oneOf, record, str, tuple, validate, type Infer } from '../../shared/schema.js';
import { SAMPLES, worstCase } from './samples.js';

describe('message table', () => {
  it('holds exactly the messages of docs/architecture.md with unique ids and names', () => {
    expect(MESSAGES.map((m) => m.name).sort()).toEqual([
      'chat', 'chatAccepted', 'chatRejected', 'chatSend', 'drain', 'error', 'hello', 'input', 'leave', 'ping',
      'playerJoined', 'playerLeft', 'pong', 'snapshot', 'spectate', 'welcome',
    ]);
    expect(new Set(MESSAGES.map((m) => m.id)).size).toBe(MESSAGES.length);
    for (const m of MESSAGES) {
      expect(m.id).toBeGreaterThan(0);
      expect(m.id).toBeLessThan(256);
      expect(messageSpec(m.name)).toBe(m);
      expect(messageSpecById(m.id)).toBe(m);
    }
    expect(messageSpec('snapshot')?.id).toBe(SNAPSHOT_MESSAGE_ID);
  });

  it('puts snapshots, inputs (and a spectator\'s spectate) and pings on the unreliable channel and the rest on the reliable one', () => {
    const unreliable = MESSAGES.filter((m) => m.channel === 'unreliable').map((m) => m.name).sort();
    expect(unreliable).toEqual(['input', 'ping', 'pong', 'snapshot', 'spectate']);
    expect(messageSpec('input')?.direction).toBe('c2s');
    expect(messageSpec('spectate')?.direction).toBe('c2s');
    expect(messageSpec('snapshot')?.direction).toBe('s2c');
    expect(messageSpec('ping')?.direction).toBe('both');
  });

  it('ids 1-31 are reliable and 32-63 unreliable, as docs/protocol.md promises for WebSocket', () => {
    for (const m of MESSAGES) {
      if (m.channel === 'reliable') expect(m.id, m.name).toBeLessThanOrEqual(31);
      else expect([m.id >= 32, m.id <= 63], m.name).toEqual([true, true]);
    }
  });

  it('keeps every maxBytes within its channel limit', () => {
    for (const m of MESSAGES) {
      const limit = m.channel === 'reliable' ? MAX_RELIABLE_MESSAGE_BYTES : MAX_UNRELIABLE_MESSAGE_BYTES;
      expect(m.maxBytes).toBeLessThanOrEqual(limit);
    }
  });

  it('the worst-case body of every message encodes within its maxBytes', () => {
    for (const m of MESSAGES) {
      if (!m.schema) continue;
      const body = worstCase(m.schema);
      expect(m.validate(body).ok, m.name).toBe(true);
      const bytes = encodeMessage(m.name, body as never);
      expect(bytes.length, m.name).toBeLessThanOrEqual(m.maxBytes);
    }
  });

  it('every sample is valid for its schema', () => {
    for (const name of Object.keys(SAMPLES) as MessageName[]) {
      expect(messageSpec(name)!.validate(SAMPLES[name]).ok, name).toBe(true);
    }
  });
});

describe('channel of a message, from the table', () => {
  it('is the row channel for every message, by name, id and encoded bytes', () => {
    for (const m of MESSAGES) {
      expect(channelOf(m.name)).toBe(m.channel);
      expect(channelOfId(m.id)).toBe(m.channel);
      expect(channelOfMessage(new Uint8Array([m.id, 0]))).toBe(m.channel);
    }
    expect(channelOfMessage(encodeMessage('ping', { id: 1, t: 2 }))).toBe('unreliable');
    expect(channelOfMessage(encodeMessage('chatSend', { text: 'x' }))).toBe('reliable');
  });

  it.each([
    // Ids without a row go by range (docs/protocol.md): 32-63 unreliable, everything else reliable.
    // The client sorted unknown 32-63 ids to 'reliable' before; the server sorted them as now.
    [0, 'reliable'], [12, 'reliable'], [31, 'reliable'], [37, 'unreliable'], [40, 'unreliable'],
    [UNRELIABLE_ID_MAX, 'unreliable'], [64, 'reliable'], [200, 'reliable'], [255, 'reliable'],
  ])('unknown id %d travels %s', (id, channel) => {
    expect(messageSpecById(id as number)).toBeUndefined();
    expect(channelOfId(id as number)).toBe(channel);
  });

  it('splits the id space at 32 and 64', () => {
    expect([UNRELIABLE_ID_MIN, UNRELIABLE_ID_MAX]).toEqual([32, 63]);
  });

  it('counts an empty message as reliable (where the decoder refuses it)', () => {
    expect(channelOfMessage(new Uint8Array(0))).toBe('reliable');
  });
});

describe('body types are inferred from the schemas', () => {
  it('reads each field once, from its schema', () => {
    // Compile-time checks (npm run typecheck); at run time these are no-ops.
    expectTypeOf<HelloBody>().toEqualTypeOf<{ v: number; ticket: string; resumeToken?: string; lastChatId?: number; chatEpoch?: string }>();
    expectTypeOf<PlayerInfo>().toEqualTypeOf<{ entityId: number; playerId: string; name: string }>();
    expectTypeOf<MessageBodies['playerJoined']>().toEqualTypeOf<PlayerInfo>();
    expectTypeOf<MessageBodies['welcome']['players']>().toEqualTypeOf<PlayerInfo[]>();
    expectTypeOf<ChatRejectedBody['reason']>().toEqualTypeOf<'rate_limited' | 'too_long' | 'empty' | 'unavailable'>();
    expectTypeOf<InputVector>().toEqualTypeOf<[number, number]>();
    expectTypeOf<MessageBodies['input']['inputs']>().toEqualTypeOf<InputVector[]>();
    expectTypeOf<MessageBodies['leave']>().toEqualTypeOf<Record<string, never>>();
    expectTypeOf<MessageBodies['snapshot']>().toEqualTypeOf<Uint8Array>();
    expectTypeOf<MessageBodies['pong']>().toEqualTypeOf<MessageBodies['ping']>();
    expectTypeOf<MessageName>().toEqualTypeOf<typeof MESSAGES[number]['name']>();
    // @ts-expect-error: an enum field admits only its values
    expect(() => encodeMessage('chatRejected', { reason: 'nope', retryAfterMs: 0 })).toThrow();
    // @ts-expect-error: a required field may not be missing
    expect(() => encodeMessage('playerLeft', { entityId: 1 })).toThrow();
  });

  it('types a schema built with the builders', () => {
    const s = record('t', [
      field('a', int(0, 9), 'a'),
      field('b', oneOf(['x', 'y'] as const), 'b', true),
      field('c', arrayOf(record('u', [field('d', bool(), 'd')]), 0, 2), 'c'),
      field('e', tuple(num(0, 1), str(3)), 'e'),
      field('f', axisPairs(1, 2), 'f'),
    ]);
    expectTypeOf<Infer<typeof s>>().toEqualTypeOf<{ a: number; b?: 'x' | 'y'; c: { d: boolean }[]; e: [number, string]; f: [number, number][] }>();
    expect(validate(s, { a: 1, c: [{ d: true }], e: [0.5, 'hey'], f: [[1, -1]] }).ok).toBe(true);
  });
});
