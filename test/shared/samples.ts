// Valid sample bodies for every message in the table, and a worst-case body generator.
import type { MessageBodies, MessageName } from '../../shared/messages.js';
import type { FieldType } from '../../shared/schema.js';

export const SAMPLES: { [K in MessageName]: MessageBodies[K] } = {
  hello: { v: 1, ticket: 'eyJwIjoiYSJ9.c2ln', resumeToken: 'rt-1', lastChatId: 12 },
  welcome: {
    v: 1, playerId: 'p-1', entityId: 7, name: 'Ann', roomId: 'lobby', tickHz: 60, snapshotHz: 20,
    resumeToken: 'rt-1', resumed: true, serverTime: 123456, worldW: 1000, worldH: 1000, lastChatSeq: 41,
    players: [{ entityId: 7, playerId: 'p-1', name: 'Ann' }, { entityId: 8, playerId: 'p-2', name: 'Bob' }],
  },
  playerJoined: { entityId: 8, playerId: 'p-2', name: 'Bob' },
  playerLeft: { entityId: 8, playerId: 'p-2' },
  chatSend: { text: 'hello there', seq: 42 },
  chat: { id: 1, entityId: 7, name: 'Ann', text: 'hi ✓', t: 1_763_790_000_000 },
  chatRejected: { reason: 'rate_limited', retryAfterMs: 750, seq: 43 },
  chatAccepted: { seq: 42 },
  error: { code: 4002, message: 'bad message' },
  drain: { deadlineMs: 10_000, reconnectJitterMs: 3000 },
  leave: {},
  // Components on the quantization grid (q / 127), so the sample decodes to itself.
  input: { seq: 42, ack: 17, inputs: [[64 / 127, -1], [0, 0], [-90 / 127, 90 / 127], [1, 1]] },
  spectate: { ack: 17, x: 512, y: 250 },
  ping: { id: 3, t: 1234.5 },
  pong: { id: 3, t: 1234.5 },
  snapshot: new Uint8Array([1, 2, 3]),
};

/** A value of `type` that is as large as possible when encoded. */
export function worstCase(type: FieldType): unknown {
  switch (type.kind) {
    case 'int': return Math.abs(type.min) > Math.abs(type.max) ? type.min : type.max;
    case 'number': return type.max === Math.floor(type.max) ? type.max - 0.1234567 : type.max;
    case 'string': return type.asciiPattern ? 'x'.repeat(type.maxLength) : '€'.repeat(type.maxLength);
    case 'bool': return true;
    case 'enum': return [...type.values].sort((a, b) => b.length - a.length)[0];
    case 'array': return Array.from({ length: type.maxLength }, () => worstCase(type.of));
    case 'tuple': return type.of.map(worstCase);
    case 'axisPairs': return Array.from({ length: type.maxLength }, () => [-1, 1]);
    case 'record': return Object.fromEntries(type.fields.map((f) => [f.name, worstCase(f.type)]));
  }
}
