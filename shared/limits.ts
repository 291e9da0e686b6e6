/**
 * Named protocol limits shared by server and client. Both ends validate against the same numbers,
 * so a message one side may send is always one the other side accepts. docs/protocol.md lists
 * them; change both together.
 *
 * String limits count UTF-16 code units (JavaScript `string.length`). One code unit never takes
 * more than 3 bytes of UTF-8 (a surrogate pair, 2 units, takes 4), so a limit of N units bounds
 * the encoded string at 3N bytes; the per-message byte limits in shared/messages.ts rely on that.
 */

/** Largest value of an unsigned 32-bit wire integer (sequence numbers, snapshot ids, ticks). */
export const U32_MAX = 0xffff_ffff;

/**
 * Largest reliable message (one frame on the WebTransport stream, one WebSocket binary frame).
 * Sized for the largest legitimate message, a `welcome` listing MAX_ROOM_PLAYERS players
 * (about 130 bytes each at the string limits below); anything bigger is an attack or a bug, and
 * a frame decoder must not buffer it.
 */
export const MAX_RELIABLE_MESSAGE_BYTES = 256 * 1024;

/**
 * Largest unreliable message. 1200 bytes is QUIC's minimum datagram size (RFC 9000 §14.1), so no
 * HTTP datagram payload (RFC 9297 §2) on a standards-conforming path needs more; browsers report
 * less (Chromium 1199, Firefox 1024 right after `ready`), which is why senders size snapshots to
 * the connection's `maxUnreliableSize` and this is only the acceptance ceiling.
 */
export const MAX_UNRELIABLE_MESSAGE_BYTES = 1200;

/**
 * Snapshot budget to use when the transport does not report a datagram size. 1024 bytes is the
 * smallest `maxDatagramSize` a browser reported (Firefox, right after `ready`), so a snapshot of
 * this size goes out whole on every path we know.
 */
export const DEFAULT_SNAPSHOT_BUDGET_BYTES = 1024;

/**
 * Inputs repeated per `input` message: the newest and the three before it. At 20 inputs/s one
 * lost datagram (or three in a row) loses no input, while the message stays under 100 bytes.
 */
export const MAX_INPUTS_PER_MESSAGE = 4;

/** Chat line length. Long enough for a sentence, short enough that history replay stays small. */
export const MAX_CHAT_TEXT_LENGTH = 200;

/** Display name length; names are drawn above players, so they must stay short. */
export const MAX_NAME_LENGTH = 24;

/**
 * Player and room identifiers: ASCII `[A-Za-z0-9_.:-]`, so their byte size equals their length
 * and they are safe in logs and metric labels. 64 holds a UUID with a prefix.
 */
export const MAX_ID_LENGTH = 64;
/** Pattern every player id and room id must match (see MAX_ID_LENGTH). */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]+$/;

/** Join ticket (payload plus HMAC-SHA256 signature, base64url); generous for payload growth. */
export const MAX_TICKET_LENGTH = 1024;

/** Resume token handed out in `welcome` and returned in `hello`. */
export const MAX_RESUME_TOKEN_LENGTH = 128;

/** A URL the server hands a client (a cluster node's public HTTP base in `drain`). */
export const MAX_URL_LENGTH = 512;

/** Human-readable text in an `error` message (the code is what programs act on). */
export const MAX_ERROR_MESSAGE_LENGTH = 256;

/**
 * Players listed in one `welcome`, and so the most players one room may hold. Entity ids are
 * 16-bit on the snapshot wire, so rooms could not grow past 65536 anyway; this bound keeps the
 * `welcome` under MAX_RELIABLE_MESSAGE_BYTES.
 */
export const MAX_ROOM_PLAYERS = 1024;

/** Entity ids are unsigned 16-bit on the snapshot wire. */
export const MAX_ENTITY_ID = 0xffff;

/** Simulation rate ceiling announced in `welcome` (a sanity bound, not a target). */
export const MAX_TICK_HZ = 240;
/** Snapshot rate ceiling announced in `welcome`. */
export const MAX_SNAPSHOT_HZ = 120;

/**
 * World side length ceiling in world units. The snapshot codec spends
 * ceil(log2(side / POSITION_STEP + 1)) bits per axis, so this keeps positions at 16 bits or less.
 */
export const MAX_WORLD_SIZE = 16_000;

/** Milliseconds values (retry-after, drain deadline, jitter) are capped at one day. */
export const MAX_DURATION_MS = 86_400_000;
