/**
 * A room's seats across the cluster (docs/cluster.md, "Seats"): one sorted set per room,
 * `tw:{room:<id>}:seats`, member = player id, score = when the seat lapses (Redis time, ms).
 *
 * - connect-info on any node `reserve`s the asking player's seat for SEAT_RESERVATION_MS, unless
 *   the room's seats (held and reserved) already reach its maxPlayers: the client then hears
 *   ROOM_FULL before it connects, and a client told "go to node B" finds its seat there.
 * - The owner `take`s the seat of a brand-new player at its join (the same count, so seats
 *   reserved by others are respected), and `hold`s every player of the room at each checkpoint
 *   for SEAT_HOLD_MS, so a crashed owner's seats lapse by themselves; a leaving player's seat is
 *   `free`d.
 * Every script first drops the lapsed members. All times are Redis's (TIME), so nodes agree.
 */
import type { ClusterKeys } from './keys.js';
import { LuaScript, isRedisUnavailable, type ClusterRedis } from './redis.js';

/** How long connect-info holds a seat for the player it answered (connect, fall back, retry). */
export const SEAT_RESERVATION_MS = 15_000;
/** How long a seated player's seat outlives the owner's last refresh (checkpoints refresh it). */
export const SEAT_HOLD_MS = 30_000;
/** Player ids one hold writes at most (MAX_ROOM_PLAYERS, shared/limits.ts). */
const MAX_HOLD_IDS = 1_024;

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)`;

/**
 * KEYS seats; ARGV playerId, ttlMs, maxPlayers -> 1 (the seat is the player's until now + ttl),
 * 0 (full). A seat already the player's is extended, never shortened.
 */
const RESERVE = new LuaScript('seats.reserve', 1, `${NOW}
local until_ = now + tonumber(ARGV[2])
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if current then
  if tonumber(current) < until_ then redis.call('ZADD', KEYS[1], until_, ARGV[1]) end
else
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
  redis.call('ZADD', KEYS[1], until_, ARGV[1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2] * 2)
return 1`);

/** KEYS seats; ARGV ttlMs, playerIds... -> 1. Every listed player's seat runs until now + ttl. */
const HOLD = new LuaScript('seats.hold', 1, `${NOW}
local until_ = now + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], until_, ARGV[i]) end
if #ARGV >= 2 then redis.call('PEXPIRE', KEYS[1], ARGV[1] * 2) end
return 1`);

/** KEYS seats; ARGV playerId -> 1. */
const FREE = new LuaScript('seats.free', 1, `redis.call('ZREM', KEYS[1], ARGV[1])
return 1`);

export type SeatResult = { ok: true } | { ok: false; reason: 'full' } | { ok: false; reason: 'unavailable' };

export interface SeatStoreOptions {
  redis: ClusterRedis;
  keys: ClusterKeys;
  reservationMs?: number;
  holdMs?: number;
}

export class SeatStore {
  readonly reservationMs: number;
  readonly holdMs: number;

  constructor(private readonly options: SeatStoreOptions) {
    this.reservationMs = options.reservationMs ?? SEAT_RESERVATION_MS;
    this.holdMs = options.holdMs ?? SEAT_HOLD_MS;
  }

  /** connect-info: keep a seat in `roomId` for `playerId` a short while, unless the room is full. */
  reserve(roomId: string, playerId: string, maxPlayers: number): Promise<SeatResult> {
    return this.script(RESERVE, roomId, [playerId, this.reservationMs, maxPlayers]);
  }

  /** The owner, at a new player's join: the seat is the player's (for SEAT_HOLD_MS), unless full. */
  take(roomId: string, playerId: string, maxPlayers: number): Promise<SeatResult> {
    return this.script(RESERVE, roomId, [playerId, this.holdMs, maxPlayers]);
  }

  /** The owner, periodically: every player of the room keeps its seat for SEAT_HOLD_MS more. */
  async hold(roomId: string, playerIds: readonly string[]): Promise<void> {
    await this.options.redis.run(HOLD, [this.options.keys.seats(roomId)], [this.holdMs, ...playerIds.slice(0, MAX_HOLD_IDS)]);
  }

  /** The player left for good. */
  async free(roomId: string, playerId: string): Promise<void> {
    await this.options.redis.run(FREE, [this.options.keys.seats(roomId)], [playerId]);
  }

  private async script(script: LuaScript, roomId: string, args: (string | number)[]): Promise<SeatResult> {
    try {
      const reply = await this.options.redis.run(script, [this.options.keys.seats(roomId)], args);
      return reply === 1 ? { ok: true } : { ok: false, reason: 'full' };
    } catch (error) {
      if (isRedisUnavailable(error)) return { ok: false, reason: 'unavailable' };
      throw error;
    }
  }
}
