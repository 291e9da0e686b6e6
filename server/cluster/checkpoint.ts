/**
 * Room checkpoints (docs/cluster.md, "Checkpoints"): what a room needs to continue on another
 * node after a handoff or a crash, and its encoding. I/O-free; checkpoint-store.ts writes it.
 *
 * Encoded with msgpack (msgpackr, no records: every checkpoint decodes alone), versioned by
 * `v`, and checked field by field on decode: a checkpoint that does not validate is treated as
 * missing (the room starts fresh) rather than restored half-way.
 */
import { Packr } from 'msgpackr';
import { ID_PATTERN, MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_ROOM_PLAYERS, MAX_WORLD_SIZE, U32_MAX } from '../../shared/limits.js';
import type { SeatState } from '../rooms/room-state.js';
import { MAX_ROOM_SPECTATORS } from '../rooms/spectators.js';

/** Format version; a reader refuses other versions. */
export const CHECKPOINT_FORMAT = 1;
/** Largest encoded checkpoint (a full room is ~100 bytes per seat plus the definition's state). */
export const CHECKPOINT_MAX_BYTES = 1024 * 1024;
/** Entity ids are u16 (server/rooms/room.ts ENTITY_ID_LIMIT). */
const MAX_ENTITY_ID = 65_535;
/** Keys of a seat's free `data` object (RoomPlayer.data). */
const MAX_DATA_KEYS = 64;

/** One player's seat (server/rooms/room-state.ts) and how its session is resumed. */
export interface SeatCheckpoint extends SeatState {
  /**
   * base64url SHA-256 of the session's resume token, so the new owner can check a resume
   * without the token itself ever being stored in Redis. Null: the seat cannot be resumed.
   */
  resumeTokenHash: string | null;
  /**
   * The session's highest accepted `chatSend.seq` (PlayerSession.lastChatSeq), so a line the
   * client resends after the handoff is not shown twice; absent in checkpoints written before
   * it travelled (read as 0), which still decode.
   */
  lastChatSeq?: number;
}

/**
 * A spectator's seat (no entity): enough for its client to resume it as a spectator on the new
 * owner. Only resumable spectators are stored (their token hash is known).
 */
export interface WatcherCheckpoint {
  playerId: string;
  name: string;
  /** base64url SHA-256 of the spectator session's resume token. */
  resumeTokenHash: string;
}

export interface RoomCheckpoint {
  v: typeof CHECKPOINT_FORMAT;
  roomId: string;
  /** Fencing token of the writer (its lease). */
  token: number;
  /** Writer's clock (ms since the epoch) at capture. */
  savedAt: number;
  /** Simulation step the state belongs to. */
  tick: number;
  /** Next entity id the room would hand out (ids are not reused at once). */
  nextEntityId: number;
  /** Chat position at capture (the stream's own top is authoritative on restore). */
  chat: { epoch: string; lastId: number } | null;
  seats: SeatCheckpoint[];
  /**
   * Spectators (at most MAX_ROOM_SPECTATORS); absent in checkpoints written before spectators
   * followed handoffs, which still decode.
   */
  watchers?: WatcherCheckpoint[];
  /**
   * The room definition's own state from its `serialize` hook (RoomDefinition, server/rooms/
   * types.ts); absent when it has none. Plain data: objects, arrays, strings, numbers, booleans,
   * null, Uint8Array (a Map comes back as a plain object, a class instance as its fields).
   */
  state?: unknown;
}

const packr = new Packr({ useRecords: false, moreTypes: true });

/** Encodes a checkpoint; throws RangeError past CHECKPOINT_MAX_BYTES (the caller counts it). */
export function encodeCheckpoint(checkpoint: RoomCheckpoint, maxBytes = CHECKPOINT_MAX_BYTES): Buffer {
  const bytes = packr.pack(checkpoint);
  if (bytes.length > maxBytes) throw new RangeError(`checkpoint of room ${checkpoint.roomId} is ${bytes.length} bytes, over ${maxBytes}`);
  return bytes;
}

/** Decodes and validates; null (never a throw) for anything that is not a valid checkpoint. */
export function decodeCheckpoint(bytes: Uint8Array, maxBytes = CHECKPOINT_MAX_BYTES): RoomCheckpoint | null {
  if (bytes.length === 0 || bytes.length > maxBytes) return null;
  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch {
    return null;
  }
  return validCheckpoint(raw) ? raw : null;
}

const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);
const int = (n: unknown, min: number, max: number): n is number => Number.isSafeInteger(n) && (n as number) >= min && (n as number) <= max;
const plainObject = (o: unknown): o is Record<string, unknown> => typeof o === 'object' && o !== null && !Array.isArray(o)
  && Object.getPrototypeOf(o) === Object.prototype;
const id = (s: unknown): s is string => typeof s === 'string' && s.length > 0 && s.length <= MAX_ID_LENGTH && ID_PATTERN.test(s);

function validSeat(s: unknown): s is SeatCheckpoint {
  if (!plainObject(s)) return false;
  const e = s.entity;
  const input = s.input;
  return id(s.playerId) && typeof s.name === 'string' && s.name.length <= MAX_NAME_LENGTH
    && plainObject(e) && int(e.id, 1, MAX_ENTITY_ID) && finite(e.x) && finite(e.y) && finite(e.angle)
    && Math.abs(e.x) <= MAX_WORLD_SIZE && Math.abs(e.y) <= MAX_WORLD_SIZE
    && plainObject(input) && finite(input.dx) && finite(input.dy) && Math.abs(input.dx) <= 1 && Math.abs(input.dy) <= 1
    && int(s.lastInputSeq, -1, Number.MAX_SAFE_INTEGER)
    && plainObject(s.data) && Object.keys(s.data).length <= MAX_DATA_KEYS
    && (s.resumeTokenHash === null || (typeof s.resumeTokenHash === 'string' && /^[A-Za-z0-9_-]{43}$/.test(s.resumeTokenHash)))
    && (s.lastChatSeq === undefined || int(s.lastChatSeq, 0, U32_MAX));
}

const tokenHash = (s: unknown): s is string => typeof s === 'string' && /^[A-Za-z0-9_-]{43}$/.test(s);

function validWatcher(w: unknown): w is WatcherCheckpoint {
  return plainObject(w) && id(w.playerId) && typeof w.name === 'string' && w.name.length <= MAX_NAME_LENGTH && tokenHash(w.resumeTokenHash);
}

function validCheckpoint(c: unknown): c is RoomCheckpoint {
  if (!plainObject(c)) return false;
  if (!(c.v === CHECKPOINT_FORMAT && typeof c.roomId === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(c.roomId))) return false;
  if (!(int(c.token, 1, Number.MAX_SAFE_INTEGER) && finite(c.savedAt) && int(c.tick, 0, Number.MAX_SAFE_INTEGER))) return false;
  if (!int(c.nextEntityId, 1, MAX_ENTITY_ID)) return false;
  const chat = c.chat;
  if (!(chat === null || (plainObject(chat) && typeof chat.epoch === 'string' && chat.epoch.length <= 64 && int(chat.lastId, 0, Number.MAX_SAFE_INTEGER)))) return false;
  if (!Array.isArray(c.seats) || c.seats.length > MAX_ROOM_PLAYERS || !c.seats.every(validSeat)) return false;
  // One seat per player and per entity, or the restored room would be inconsistent.
  const players = new Set(c.seats.map((s) => s.playerId));
  const entities = new Set(c.seats.map((s) => s.entity.id));
  if (players.size !== c.seats.length || entities.size !== c.seats.length) return false;
  if (c.watchers === undefined) return true;
  if (!Array.isArray(c.watchers) || c.watchers.length > MAX_ROOM_SPECTATORS || !c.watchers.every(validWatcher)) return false;
  return new Set(c.watchers.map((w) => w.playerId)).size === c.watchers.length;
}
