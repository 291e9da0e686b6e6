/**
 * Checkpoints in Redis (docs/cluster.md, "Checkpoints"): one key per room, written only with the
 * newest lease token (a stale owner's write is refused by the script, and the refusal ends its
 * lease), read back when a node takes a room over. `RoomCheckpointer` writes a room's state
 * every CHECKPOINT_INTERVAL_MS while its lease is valid, and once more, last, at a handoff.
 */
import { systemScheduler, type Scheduler, type Timer } from '../clock.js';
import { CHECKPOINT_MAX_BYTES, decodeCheckpoint, encodeCheckpoint, type RoomCheckpoint } from './checkpoint.js';
import type { ClusterKeys } from './keys.js';
import { LuaScript, RedisReplyError, isRedisUnavailable, type ClusterRedis } from './redis.js';

/** How often a running room is checkpointed: what a crash can cost, in seconds of play. */
export const CHECKPOINT_INTERVAL_MS = 3_000;
/** A checkpoint nobody renewed for this long (the room closed, its nodes gone) expires. */
export const CHECKPOINT_TTL_MS = 24 * 60 * 60_000;

/** KEYS checkpoint, fence; ARGV token, bytes, ttlMs -> 1 saved, 0 fenced. */
const SAVE = new LuaScript('checkpoint.save', 2, `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`);

/** KEYS checkpoint, fence; ARGV token -> 1 deleted, 0 fenced. */
const DISCARD = new LuaScript('checkpoint.discard', 2, `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1`);

export interface CheckpointStoreOptions {
  redis: ClusterRedis;
  keys: ClusterKeys;
  ttlMs?: number;
  maxBytes?: number;
}

export class CheckpointStore {
  /** Checkpoints found in Redis that did not decode (treated as missing). */
  malformed = 0;
  private readonly redis: ClusterRedis;
  private readonly keys: ClusterKeys;
  private readonly ttlMs: number;
  private readonly maxBytes: number;

  constructor(options: CheckpointStoreOptions) {
    this.redis = options.redis;
    this.keys = options.keys;
    this.ttlMs = options.ttlMs ?? CHECKPOINT_TTL_MS;
    this.maxBytes = options.maxBytes ?? CHECKPOINT_MAX_BYTES;
  }

  /**
   * Writes the checkpoint if its `token` is the room's newest; 'fenced' otherwise. Throws
   * RangeError when it is too large, RedisUnavailableError when Redis does not answer.
   */
  async save(checkpoint: RoomCheckpoint): Promise<'saved' | 'fenced'> {
    const bytes = encodeCheckpoint(checkpoint, this.maxBytes);
    const reply = await this.redis.run(SAVE, [this.keys.checkpoint(checkpoint.roomId), this.keys.fence(checkpoint.roomId)],
      [String(checkpoint.token), bytes, this.ttlMs]);
    return reply === 1 ? 'saved' : 'fenced';
  }

  /** The room's newest checkpoint, or null (none, or one that does not validate: counted). */
  async load(roomId: string): Promise<RoomCheckpoint | null> {
    const bytes = await this.redis.getBuffer(this.keys.checkpoint(roomId));
    if (!bytes) return null;
    const checkpoint = decodeCheckpoint(bytes, this.maxBytes);
    if (!checkpoint || checkpoint.roomId !== roomId) {
      this.malformed++;
      return null;
    }
    return checkpoint;
  }

  /** Deletes the room's checkpoint (the room closed for good), fenced like save. */
  async discard(roomId: string, token: number): Promise<'discarded' | 'fenced'> {
    const reply = await this.redis.run(DISCARD, [this.keys.checkpoint(roomId), this.keys.fence(roomId)], [String(token)]);
    return reply === 1 ? 'discarded' : 'fenced';
  }
}

/** The room's lease, as the checkpointer needs it (server/cluster/lease.ts RoomLease). */
export interface CheckpointLease {
  readonly token: number;
  valid(): boolean;
  lose(reason: 'fenced'): void;
}

export type CheckpointOutcome = 'saved' | 'fenced' | 'unavailable' | 'invalid' | 'too-large' | 'not-owner';

export interface RoomCheckpointerOptions {
  store: CheckpointStore;
  lease: CheckpointLease;
  /** Captures the room's state now (synchronously, between ticks); its `token` is set to the lease's. */
  capture: () => RoomCheckpoint;
  scheduler?: Scheduler;
  intervalMs?: number;
}

export interface CheckpointerStats {
  saved: number;
  unavailable: number;
  /** Captures that failed (a throwing serialize hook) or did not fit. */
  failed: number;
  lastSavedAt: number | null;
}

/**
 * Checkpoints one room periodically while its lease is valid, one write at a time (a slow Redis
 * never stacks writes up). A fenced refusal ends the lease: another node owns the room.
 */
export class RoomCheckpointer {
  readonly stats: CheckpointerStats = { saved: 0, unavailable: 0, failed: 0, lastSavedAt: null };
  private readonly scheduler: Scheduler;
  private readonly intervalMs: number;
  private timer: Timer | null = null;
  private inFlight: Promise<CheckpointOutcome> | null = null;
  private running = false;

  constructor(private readonly options: RoomCheckpointerOptions) {
    this.scheduler = options.scheduler ?? systemScheduler;
    this.intervalMs = options.intervalMs ?? CHECKPOINT_INTERVAL_MS;
    if (!(this.intervalMs > 0)) throw new RangeError('checkpoint interval must be positive');
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  /** Stops the periodic writes (a write under way completes). */
  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
  }

  /**
   * Writes a checkpoint now, after any write under way (the final one of a handoff: stop() the
   * room and this checkpointer first, then saveNow(), then hand the lease over).
   */
  async saveNow(): Promise<CheckpointOutcome> {
    await this.inFlight?.catch(() => {});
    const attempt = this.write();
    this.inFlight = attempt;
    try {
      return await attempt;
    } finally {
      if (this.inFlight === attempt) this.inFlight = null;
    }
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.scheduler.after(this.intervalMs, () => {
      this.timer = null;
      if (!this.running) return;
      if (this.inFlight) {
        this.schedule(); // the previous write is still out: skip this turn
        return;
      }
      void this.saveNow().finally(() => this.schedule());
    });
  }

  private async write(): Promise<CheckpointOutcome> {
    const { lease, store, capture } = this.options;
    if (!lease.valid()) return 'not-owner';
    let checkpoint: RoomCheckpoint;
    try {
      // The lease's current token, not whatever the capture read: a reclaim may have changed it.
      checkpoint = { ...capture(), token: lease.token };
    } catch {
      this.stats.failed++;
      return 'invalid';
    }
    try {
      const result = await store.save(checkpoint);
      if (result === 'fenced') {
        lease.lose('fenced');
        this.stop();
        return 'fenced';
      }
      this.stats.saved++;
      this.stats.lastSavedAt = checkpoint.savedAt;
      return 'saved';
    } catch (error) {
      if (error instanceof RangeError) {
        this.stats.failed++;
        return 'too-large';
      }
      if (isRedisUnavailable(error) || error instanceof RedisReplyError) {
        this.stats.unavailable++;
        return 'unavailable';
      }
      throw error;
    }
  }
}
