/**
 * The one message table (docs/protocol.md, "Messages"; a test checks the two agree).
 *
 * Every message on either channel and either transport is `[u8 message id][body]`. Bodies are
 * msgpack records with predefined structures (shared/codec.ts), except `snapshot`, whose body is
 * the compact bit-packed snapshot codec (shared/snapshot/). Ids 1-31 are reliable messages, ids
 * 32-63 unreliable ones; ids are stable: never renumber or reuse one.
 */
import {
  MAX_CHAT_TEXT_LENGTH, MAX_DURATION_MS, MAX_ENTITY_ID, MAX_ERROR_MESSAGE_LENGTH, MAX_ID_LENGTH,
  ID_PATTERN, MAX_INPUTS_PER_MESSAGE, MAX_NAME_LENGTH, MAX_RELIABLE_MESSAGE_BYTES, MAX_RESUME_TOKEN_LENGTH,
  MAX_ROOM_PLAYERS, MAX_SNAPSHOT_HZ, MAX_TICK_HZ, MAX_TICKET_LENGTH, MAX_UNRELIABLE_MESSAGE_BYTES,
  MAX_URL_LENGTH, MAX_WORLD_SIZE, U32_MAX,
} from './limits.js';
import {
  arrayOf, axisPairs, bool, field, int, num, oneOf, record, str, validate,
  type FieldType, type Infer, type RecordType,
} from './schema.js';

/**
 * Protocol version carried in `hello.v` and `welcome.v`. Bump it on any incompatible change to
 * the table, a schema, the framing or the snapshot format; a server closes a hello with another
 * version with PROTOCOL_VERSION (4001).
 *
 * 2: `input.inputs` travels as quantized signed bytes (shared/input.ts) instead of float64s.
 * 3: `error` gains `retryAfterMs` (its record structure has a third field), with SERVER_BUSY.
 * 4: the cluster (docs/cluster.md): `hello` and `welcome` carry `chatEpoch`, `welcome` the
 *    `nodeId`, `drain` the node taking the room over (`nodeId`, `httpUrl`), and `chatRejected`
 *    may say `unavailable` (the chat history cannot be stored now).
 * 5: the chat outbox (docs/protocol.md, "Chat lines the client wrote"): `chatSend` carries the
 *    client's per-session `seq`, `chatRejected` names the `seq` it refuses, the new
 *    `chatAccepted` (id 11) names the `seq` it accepts, and a resumed `welcome` carries
 *    `lastChatSeq`, the highest seq the session accepted. New record structures (and fields in
 *    existing ones) shift the record ids, so the version changes.
 */
export const PROTOCOL_VERSION = 5;

export type Channel = 'reliable' | 'unreliable';
/** c2s: client to server; s2c: server to client; both: either way. */
export type Direction = 'c2s' | 's2c' | 'both';

// ---------------------------------------------------------------------------------------------
// Schemas.

const u16 = int(0, 0xffff);
const u32 = int(0, U32_MAX);
const entityId = int(0, MAX_ENTITY_ID);
const idString = str(MAX_ID_LENGTH, { minLength: 1, asciiPattern: ID_PATTERN });
const displayName = str(MAX_NAME_LENGTH, { minLength: 1 });
const ms = int(0, MAX_DURATION_MS);
const safeUint = int(0, Number.MAX_SAFE_INTEGER);
/** A chatSend's client sequence number: per session, from 1 (shared/chat-outbox.ts). */
const chatSeq = int(1, U32_MAX);
/** The same, or 0 for "none accepted yet" (welcome.lastChatSeq). */
const chatSeq0 = int(0, U32_MAX);

/**
 * Why a chat line was not accepted (`chatRejected.reason`); `unavailable`: the room cannot store
 * chat now (cluster: Redis away, or the room is moving).
 */
export const CHAT_REJECT_REASONS = ['rate_limited', 'too_long', 'empty', 'unavailable'] as const;

/** A player's fields, shared by `welcome.players` (records named PlayerInfo) and `playerJoined`. */
const playerInfoFields = [
  field('entityId', entityId, 'entity id in snapshots'),
  field('playerId', idString, 'stable player id from the ticket'),
  field('name', displayName, 'display name'),
] as const;
const playerInfo = record('PlayerInfo', playerInfoFields);

/** One row of the message table, for a message named N with body schema S. */
export interface MessageRow<N extends string = string, S extends RecordType | null = RecordType | null> {
  readonly id: number;
  readonly name: N;
  readonly channel: Channel;
  readonly direction: Direction;
  /** Largest encoded message, id byte included; bigger ones are dropped as `too_large`. */
  readonly maxBytes: number;
  /** Body schema; null for `snapshot` (its body is the snapshot codec). */
  readonly schema: S;
  /** One line for docs/protocol.md. */
  readonly doc: string;
  /**
   * Validates a decoded body; on success `value` is a clean copy holding only declared fields
   * (optional fields that were nil are absent).
   */
  readonly validate: (body: unknown) => { ok: true; value: unknown } | { ok: false; detail: string };
  /**
   * Validates a body as msgpack decoded it (wire form: axisPairs are byte strings) and returns
   * it in value form, as decodeMessage hands it out.
   */
  readonly fromWire: (body: unknown) => { ok: true; value: unknown } | { ok: false; detail: string };
}

/**
 * Worst-case msgpack size of a value of `type` as our encoder writes it: records as single-byte
 * record ids (predefined structures 0x40-0x5f), strings at 3 bytes per UTF-16 unit.
 */
export function maxEncodedSize(type: FieldType): number {
  const strHeader = (n: number) => (n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5);
  const arrHeader = (n: number) => (n < 16 ? 1 : n < 65536 ? 3 : 5);
  const intSize = (min: number, max: number) => {
    const m = Math.max(Math.abs(min), Math.abs(max));
    // With records on, bytes 0x40-0x7f are record ids, so msgpackr writes 64-127 as uint8.
    return m < 64 ? 1 : m < 256 ? 2 : m < 65536 ? 3 : m <= U32_MAX ? 5 : 9;
  };
  switch (type.kind) {
    case 'int': return intSize(type.min, type.max);
    case 'number': return 9; // float64, or a shorter int when the value is integral
    case 'string': {
      const bytes = type.asciiPattern ? type.maxLength : type.maxLength * 3;
      return strHeader(bytes) + bytes;
    }
    case 'bool': return 1;
    case 'enum': return Math.max(...type.values.map((v) => strHeader(v.length) + v.length));
    case 'array': return arrHeader(type.maxLength) + type.maxLength * maxEncodedSize(type.of);
    case 'tuple': return arrHeader(type.of.length) + type.of.reduce((s, t) => s + maxEncodedSize(t), 0);
    // A msgpack bin: bin8 header (2 bytes) up to 255 bytes of data, bin16 (3) above.
    case 'axisPairs': return (2 * type.maxLength < 256 ? 2 : 3) + 2 * type.maxLength;
    // A record is its one-byte structure id plus the values; msgpackr writes an empty record as
    // an empty map16 (3 bytes).
    case 'record': return type.fields.length === 0 ? 3 : 1 + type.fields.reduce((s, f) => s + maxEncodedSize(f.type), 0);
  }
}

function row<N extends string, S extends RecordType | null>(id: number, name: N, channel: Channel, direction: Direction,
  doc: string, schema: S, maxBytes?: number): MessageRow<N, S> {
  const limit = channel === 'reliable' ? MAX_RELIABLE_MESSAGE_BYTES : MAX_UNRELIABLE_MESSAGE_BYTES;
  const bound = maxBytes ?? (schema ? 1 + maxEncodedSize(schema) : limit);
  if (bound > limit) throw new Error(`message table: ${name} can reach ${bound} bytes, over the ${channel} limit ${limit}`);
  const validator = (form: 'value' | 'wire') => schema
    ? (body: unknown) => {
      const r = validate(schema, body, '', form);
      return r.ok ? r : { ok: false as const, detail: `${r.path}: ${r.problem}` };
    }
    : (body: unknown) => (body instanceof Uint8Array ? { ok: true as const, value: body } : { ok: false as const, detail: 'snapshot body must be bytes' });
  return Object.freeze({
    id, name, channel, direction, maxBytes: bound, schema, doc,
    validate: validator('value'),
    fromWire: validator('wire'),
  });
}

/**
 * The table's rows with their precise types; `MESSAGES` below is the same array. Body types are
 * read off these schemas (`MessageBodies`), so each field is written once, here.
 */
const TABLE = [
  row(1, 'hello', 'reliable', 'c2s', 'First message of a session: version, ticket, optional resume', record('hello', [
    field('v', u16, 'PROTOCOL_VERSION of the client'),
    field('ticket', str(MAX_TICKET_LENGTH, { minLength: 1 }), 'signed join ticket'),
    field('resumeToken', str(MAX_RESUME_TOKEN_LENGTH, { minLength: 1 }), 'token from an earlier welcome', true),
    field('lastChatId', safeUint, 'newest chat id seen; replay starts after it', true),
    field('chatEpoch', idString, 'chat epoch of lastChatId (from the welcome)', true),
  ])),
  row(2, 'welcome', 'reliable', 's2c', 'Answer to hello: who you are, rates, world, players', record('welcome', [
    field('v', u16, 'PROTOCOL_VERSION of the server'),
    field('playerId', idString, 'player id from the ticket'),
    field('entityId', entityId, 'entity this player controls'),
    field('name', displayName, 'display name'),
    field('roomId', idString, 'room joined'),
    field('tickHz', int(1, MAX_TICK_HZ), 'simulation rate'),
    field('snapshotHz', int(1, MAX_SNAPSHOT_HZ), 'snapshot rate'),
    field('resumeToken', str(MAX_RESUME_TOKEN_LENGTH, { minLength: 1 }), 'token for resuming this session'),
    field('resumed', bool(), 'true when an earlier session was resumed'),
    field('serverTime', safeUint, 'server clock, ms'),
    field('worldW', num(1, MAX_WORLD_SIZE), 'world width, units'),
    field('worldH', num(1, MAX_WORLD_SIZE), 'world height, units'),
    field('players', arrayOf(playerInfo, 0, MAX_ROOM_PLAYERS), 'everyone in the room'),
    field('nodeId', idString, 'cluster node running the room', true),
    field('chatEpoch', idString, 'run of chat ids the history is in', true),
    field('lastChatSeq', chatSeq0, 'resumed session: highest chatSend seq it accepted (0: none)', true),
  ])),
  row(3, 'playerJoined', 'reliable', 's2c', 'A player entered the room', record('playerJoined', playerInfoFields)),
  row(4, 'playerLeft', 'reliable', 's2c', 'A player left the room', record('playerLeft', [
    field('entityId', entityId, 'entity that is gone'),
    field('playerId', idString, 'player id'),
  ])),
  row(5, 'chatSend', 'reliable', 'c2s', 'Send a chat line', record('chatSend', [
    field('text', str(MAX_CHAT_TEXT_LENGTH, { minLength: 1 }), 'the line'),
    field('seq', chatSeq, 'client sequence number, per session, increasing (a repeat is dropped)', true),
  ])),
  row(6, 'chat', 'reliable', 's2c', 'A chat line, in room order, exactly once', record('chat', [
    field('id', int(1, Number.MAX_SAFE_INTEGER), 'room-wide increasing chat id'),
    field('entityId', entityId, 'sender entity'),
    field('name', displayName, 'sender name'),
    field('text', str(MAX_CHAT_TEXT_LENGTH, { minLength: 1 }), 'the line'),
    field('t', safeUint, 'server wall clock, ms since epoch'),
  ])),
  row(7, 'chatRejected', 'reliable', 's2c', 'A chatSend was not accepted', record('chatRejected', [
    field('reason', oneOf(CHAT_REJECT_REASONS), 'why'),
    field('retryAfterMs', ms, 'wait before retrying (rate limit, unavailable), else 0'),
    field('seq', chatSeq, 'the refused chatSend seq (when it had one)', true),
  ])),
  row(8, 'error', 'reliable', 's2c', 'Why the session is about to close', record('error', [
    field('code', int(4000, 4099), 'close code from the error catalogue'),
    field('message', str(MAX_ERROR_MESSAGE_LENGTH), 'human-readable detail'),
    field('retryAfterMs', ms, 'wait at least this long before retrying (SERVER_BUSY)', true),
  ])),
  row(9, 'drain', 'reliable', 's2c', 'Server is shutting down: reconnect with jitter', record('drain', [
    field('deadlineMs', ms, 'sessions close after this many ms'),
    field('reconnectJitterMs', ms, 'spread reconnects uniformly over this window'),
    field('nodeId', idString, 'cluster node taking the room over', true),
    field('httpUrl', str(MAX_URL_LENGTH, { minLength: 1 }), "that node's public HTTP base URL", true),
  ])),
  row(10, 'leave', 'reliable', 'c2s', 'The player leaves on purpose (no resume)', record('leave', [])),
  row(11, 'chatAccepted', 'reliable', 's2c', 'A chatSend with a seq was accepted', record('chatAccepted', [
    field('seq', chatSeq, 'the accepted chatSend seq'),
  ])),
  row(32, 'input', 'unreliable', 'c2s', 'Newest inputs (repeated) and the snapshot ack', record('input', [
    field('seq', u32, 'seq of inputs[0]'),
    field('ack', u32, 'newest snapshot id received, 0 = none'),
    field('inputs', axisPairs(1, MAX_INPUTS_PER_MESSAGE), 'newest first: [dx, dy], quantized (shared/input.ts)'),
  ])),
  row(33, 'ping', 'unreliable', 'both', 'Heartbeat and RTT probe', record('ping', [
    field('id', u32, 'echoed in the pong'),
    field('t', num(0, Number.MAX_SAFE_INTEGER), 'sender clock, ms, echoed'),
  ])),
  row(34, 'pong', 'unreliable', 'both', 'Answer to a ping', record('pong', [
    field('id', u32, 'the ping id'),
    field('t', num(0, Number.MAX_SAFE_INTEGER), 'the ping t'),
  ])),
  row(35, 'snapshot', 'unreliable', 's2c', 'World state, delta-coded (snapshot codec)', null),
  row(36, 'spectate', 'unreliable', 'c2s', 'A spectator\'s snapshot ack and camera (instead of input)', record('spectate', [
    field('ack', u32, 'newest snapshot id received, 0 = none'),
    field('x', int(0, MAX_WORLD_SIZE), 'camera centre x, world units'),
    field('y', int(0, MAX_WORLD_SIZE), 'camera centre y, world units'),
  ])),
];


// ---------------------------------------------------------------------------------------------
// Body types (what encodeMessage takes and decodeMessage returns), inferred from the schemas.

/** A snapshot body is the snapshot codec's bytes (after the message id); see shared/snapshot/. */
export type SnapshotBody = Uint8Array;

type TableRow = (typeof TABLE)[number];

/**
 * Message name to body type: `Infer` of each row's schema (shared/schema.ts), the snapshot
 * codec's bytes for `snapshot`.
 */
export type MessageBodies = {
  [R in TableRow as R['name']]: R['schema'] extends RecordType ? Infer<R['schema']> : SnapshotBody;
};
export type MessageName = keyof MessageBodies;

/** A row of the message table. */
export type MessageSpec = MessageRow<MessageName>;

/** The message table, in id order. */
export const MESSAGES: readonly MessageSpec[] = Object.freeze(TABLE);

/** A decoded message: name and body, discriminated on the name. */
export type AnyMessage = { [K in MessageName]: { name: K; body: MessageBodies[K] } }[MessageName];

/** A player as listed in `welcome.players` and announced by `playerJoined`. */
export type PlayerInfo = Infer<typeof playerInfo>;
/** `hello`: version, join ticket (HMAC-signed, names player, name and room), optional resume token and last chat id seen. */
export type HelloBody = MessageBodies['hello'];
/** `welcome`: who you are, rates, world size, everyone in the room (this player included). */
export type WelcomeBody = MessageBodies['welcome'];
export type PlayerJoinedBody = MessageBodies['playerJoined'];
export type PlayerLeftBody = MessageBodies['playerLeft'];
export type ChatSendBody = MessageBodies['chatSend'];
/** `chat`: `id` room-wide, increasing by one per line; `t` server wall clock when accepted. */
export type ChatBody = MessageBodies['chat'];
export type ChatRejectReason = (typeof CHAT_REJECT_REASONS)[number];
/** `chatRejected`: why, and when rate limited how long until a line would be accepted (else 0). */
export type ChatRejectedBody = MessageBodies['chatRejected'];
/** `chatAccepted`: the server accepted the chatSend with this seq (its `chat` echo follows, in room order). */
export type ChatAcceptedBody = MessageBodies['chatAccepted'];
/**
 * `error`: a close code from shared/errors.ts (the session closes with it right after), the
 * catalogue's description of it (never text the peer sent), and with SERVER_BUSY (or any other
 * refusal that will pass) how long to wait before retrying.
 */
export type ErrorBody = MessageBodies['error'];
/** `drain`: sessions close `deadlineMs` after it; clients reconnect after a uniform random delay in [0, reconnectJitterMs]. */
export type DrainBody = MessageBodies['drain'];
/** `leave` has no fields. */
export type LeaveBody = MessageBodies['leave'];
/** `input`: `inputs[i]` has seq `seq - i`, newest first; `ack` is the newest snapshot id received (0 = none). */
export type InputBody = MessageBodies['input'];
/**
 * One input: a direction with both components in [-1, 1] (the server normalizes longer ones).
 * Each component travels quantized to a multiple of 1/INPUT_AXIS_STEPS (shared/input.ts): the
 * encoder rounds, and the receiver sees `quantizeInput([dx, dy])`.
 */
export type InputVector = InputBody['inputs'][number];
/**
 * `spectate`: what a spectator (a session without an entity: `welcome.entityId` 0) sends instead
 * of `input`, at the input rate: its snapshot ack (the delta baseline) and the centre of its free
 * camera, which picks the cell it shares budget-bound snapshot encodings with (docs/protocol.md,
 * "Spectators").
 */
export type SpectateBody = MessageBodies['spectate'];
/** `ping` / `pong`: a sender-chosen id and the sender's clock, both echoed, so RTT needs no state on the wire. */
export type PingBody = MessageBodies['ping'];
export type PongBody = MessageBodies['pong'];

const byName = new Map<string, MessageSpec>(MESSAGES.map((m) => [m.name, m]));
const byId: (MessageSpec | undefined)[] = [];
for (const m of MESSAGES) byId[m.id] = m;

/** Table row by name (undefined for a name not in the table). */
export function messageSpec(name: string): MessageSpec | undefined {
  return byName.get(name);
}

/** Table row by wire id (undefined for an unknown id). */
export function messageSpecById(id: number): MessageSpec | undefined {
  return byId[id];
}

/** The channel a message travels on: its row's. */
export function channelOf(name: MessageName): Channel {
  return byName.get(name)!.channel;
}

/**
 * Ids with no row in the table still have a channel, by range (docs/protocol.md, "Channels and
 * framing"): 32-63 unreliable, every other id reliable. A receiver that sorts messages by id
 * (both on one WebSocket) then drops an unknown unreliable id as a datagram is dropped, instead
 * of treating it as a broken reliable stream.
 */
export const UNRELIABLE_ID_MIN = 32;
export const UNRELIABLE_ID_MAX = 63;

/** The channel of wire id `id`: its row's, else by range (UNRELIABLE_ID_MIN..UNRELIABLE_ID_MAX). */
export function channelOfId(id: number): Channel {
  const spec = byId[id];
  if (spec) return spec.channel;
  return id >= UNRELIABLE_ID_MIN && id <= UNRELIABLE_ID_MAX ? 'unreliable' : 'reliable';
}

/**
 * The channel an encoded message (`[u8 id][body]`) belongs to, read from its id byte; an empty
 * message counts as reliable, where the decoder then refuses it.
 */
export function channelOfMessage(bytes: Uint8Array): Channel {
  return bytes.byteLength > 0 ? channelOfId(bytes[0]) : 'reliable';
}

/** Wire id of the snapshot message (the snapshot codec writes it as its first byte). */
export const SNAPSHOT_MESSAGE_ID = 35;
