/**
 * The one catalogue of game-level close codes and drop reasons (docs/protocol.md, "Error codes").
 *
 * Close codes live in 4000-4099: that range is reserved for private use by WebSocket
 * (RFC 6455 §7.4.2), and it fits the 32-bit application error code of a WebTransport session
 * close (draft-ietf-webtrans-http3 §5), so one number means the same on both transports.
 * HTTP/3, QPACK and WebTransport protocol codes are numeric as in their RFCs and live with the
 * h3 layer (server/h3/wire/errors.ts), which knows nothing of the game.
 *
 * Codes are stable: never renumber or reuse one; add new ones at the end.
 */

/** One entry of the catalogue. */
export interface ErrorInfo {
  /** Stable numeric close code (4000-4099). */
  readonly code: number;
  /** Stable SCREAMING_SNAKE name, used in logs and docs. */
  readonly name: string;
  /** One-line human description (also the default close reason). */
  readonly description: string;
  /** True when the code blames the peer (it sent something wrong or misbehaved). */
  readonly peerCaused: boolean;
}

/** Numeric close codes by name. */
export const ErrorCode = {
  NORMAL: 4000,
  PROTOCOL_VERSION: 4001,
  BAD_MESSAGE: 4002,
  UNKNOWN_MESSAGE_TYPE: 4003,
  MESSAGE_TOO_LARGE: 4004,
  TICKET_INVALID: 4005,
  TICKET_EXPIRED: 4006,
  HELLO_TIMEOUT: 4007,
  IDLE_TIMEOUT: 4008,
  SERVER_DRAINING: 4009,
  ROOM_FULL: 4010,
  SESSION_REPLACED: 4011,
  CHAT_FLOOD: 4012,
  SLOW_CONSUMER: 4013,
  INTERNAL_ERROR: 4014,
  WRONG_CHANNEL: 4015,
  UNKNOWN_ROOM: 4016,
  SERVER_BUSY: 4017,
  // 4018 is reserved (another helper's work in progress); codes are never reused or renumbered.
  WRONG_NODE: 4019,
  CLUSTER_UNAVAILABLE: 4020,
  SPECTATORS_FULL: 4021,
  TOO_MANY_SESSIONS: 4022,
} as const;

/** Name of a catalogued close code. */
export type ErrorName = keyof typeof ErrorCode;
/** A catalogued close code. */
export type ErrorCodeValue = (typeof ErrorCode)[ErrorName];

/** The catalogue, in code order. docs/protocol.md's error table must match it (tested). */
export const ERRORS: readonly ErrorInfo[] = Object.freeze([
  { code: 4000, name: 'NORMAL', description: 'Normal closure: the session ended on purpose', peerCaused: false },
  { code: 4001, name: 'PROTOCOL_VERSION', description: 'The hello carried a protocol version this server does not speak', peerCaused: true },
  { code: 4002, name: 'BAD_MESSAGE', description: 'A message could not be decoded or a field was invalid', peerCaused: true },
  { code: 4003, name: 'UNKNOWN_MESSAGE_TYPE', description: 'A message id that is not in the message table', peerCaused: true },
  { code: 4004, name: 'MESSAGE_TOO_LARGE', description: 'A message or frame exceeded its size limit', peerCaused: true },
  { code: 4005, name: 'TICKET_INVALID', description: 'The join ticket is malformed or its signature does not verify', peerCaused: true },
  { code: 4006, name: 'TICKET_EXPIRED', description: 'The join ticket has expired', peerCaused: true },
  { code: 4007, name: 'HELLO_TIMEOUT', description: 'No valid hello arrived in time after the transport opened', peerCaused: true },
  { code: 4008, name: 'IDLE_TIMEOUT', description: 'Nothing was heard from the peer within the idle timeout', peerCaused: true },
  { code: 4009, name: 'SERVER_DRAINING', description: 'The server is shutting down; reconnect (with jitter) elsewhere', peerCaused: false },
  { code: 4010, name: 'ROOM_FULL', description: 'The room has no free player slot', peerCaused: false },
  { code: 4011, name: 'SESSION_REPLACED', description: 'The same player connected again; this older session is closed', peerCaused: false },
  { code: 4012, name: 'CHAT_FLOOD', description: 'The peer kept sending chat far above the rate limit', peerCaused: true },
  { code: 4013, name: 'SLOW_CONSUMER', description: 'The peer did not read its reliable channel fast enough', peerCaused: true },
  { code: 4014, name: 'INTERNAL_ERROR', description: 'An unexpected server-side failure', peerCaused: false },
  { code: 4015, name: 'WRONG_CHANNEL', description: 'A message arrived on a channel or in a direction it is not allowed on', peerCaused: true },
  { code: 4016, name: 'UNKNOWN_ROOM', description: 'The ticket names a room this server does not host', peerCaused: false },
  { code: 4017, name: 'SERVER_BUSY', description: 'The server cannot take this session now; retry after the error message\'s retryAfterMs', peerCaused: false },
  { code: 4019, name: 'WRONG_NODE', description: 'Another node of the cluster runs this room; ask /api/connect-info again', peerCaused: false },
  { code: 4020, name: 'CLUSTER_UNAVAILABLE', description: 'The cluster cannot place or run the room now; retry after the error message\'s retryAfterMs', peerCaused: false },
  { code: 4021, name: 'SPECTATORS_FULL', description: 'The room has no free spectator slot', peerCaused: false },
  { code: 4022, name: 'TOO_MANY_SESSIONS', description: 'This address holds as many sessions as the server allows; one must end first (retry after the error message\'s retryAfterMs)', peerCaused: false },
].map((e) => Object.freeze(e)));

const byCode = new Map<number, ErrorInfo>(ERRORS.map((e) => [e.code, e]));

/** Catalogue entry for a code, or undefined when the code is not catalogued. */
export function errorInfo(code: number): ErrorInfo | undefined {
  return byCode.get(code);
}

/** True when `code` is a catalogued game close code. */
export function isErrorCode(code: unknown): code is ErrorCodeValue {
  return typeof code === 'number' && byCode.has(code);
}

/**
 * Why an incoming message was dropped (used as a metric label, so the set is closed).
 * - decode: bytes are not a valid encoding (msgpack, trailing bytes, truncated frame)
 * - unknown_type: the message id is not in the table
 * - too_large: over the message's or channel's byte limit
 * - invalid_field: decoded, but a field has the wrong type, range or length
 * - wrong_channel: the message is not allowed on this channel or in this direction
 * - before_hello: a game message arrived before the hello exchange finished
 * - rate_limited: over a per-player rate limit
 * - stale: older than what was already applied (e.g. an out-of-order input)
 * - queue_full: a bounded queue was full
 */
export type DropReason =
  | 'decode'
  | 'unknown_type'
  | 'too_large'
  | 'invalid_field'
  | 'wrong_channel'
  | 'before_hello'
  | 'rate_limited'
  | 'stale'
  | 'queue_full';

/** Every drop reason, e.g. to pre-register metric label values. */
export const DROP_REASONS: readonly DropReason[] = Object.freeze([
  'decode', 'unknown_type', 'too_large', 'invalid_field', 'wrong_channel',
  'before_hello', 'rate_limited', 'stale', 'queue_full',
]);
