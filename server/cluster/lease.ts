/**
 * Room ownership: a lease in Redis with a fencing token (docs/cluster.md, "Lease and fencing").
 *
 * - Acquire: SET NX PX of `<token>:<nodeId>` with a fresh token (ACQUIRE script); only when the
 *   lease is free and no other node is the room's target (placement or handover).
 * - Renew every ttl/3 by compare-and-extend; valid until the local deadline computed from the
 *   send time of the last successful renewal (lease-timing.ts). A room's tick loop consults
 *   `lease.valid()` every step and stops when it turns false; `onLost` tells the owner too.
 * - Release by compare-and-delete; handover deletes the lease and names the next owner at once.
 * - Every externally visible write of a room (checkpoint, chat line) carries `lease.token` and
 *   is refused by Redis when a newer token exists (fencing), which also ends the lease here.
 * - Redis that lost its data (restart without persistence) is recognised by its incarnation
 *   marker: for one ttl after that, only a node whose own lease is still valid may take a room
 *   (it reclaims it); everyone else waits, so an old owner never overlaps a new one.
 *
 * Size: about 460 lines, over the ~400 of the guide: `RoomLease` (one room's acquire, renew,
 * handover and the local deadline that stops the room before the lease can pass) and
 * `LeaseManager` (the renewal loop over all of them) implement one safety rule together, that two
 * nodes never simulate one room; the Lua scripts they run live in lease-scripts.ts.
 */
import { randomBytes } from 'node:crypto';
import { systemScheduler, type Scheduler, type Timer } from '../clock.js';
import { isNodeId, type ClusterKeys } from './keys.js';
import {
  ACQUIRE, DECLARE_FRESH, HANDOVER, INCARNATION, LOCATE, RELEASE, RENEW, RESERVE, parseLeaseValue,
} from './lease-scripts.js';
import { leaseDeadline, leaseTiming, type LeaseTiming } from './lease-timing.js';
import { RedisReplyError, isRedisUnavailable, type ClusterRedis } from './redis.js';

/** How long a placement (connect-info choosing a node for a room without owner) holds. */
export const PLACEMENT_TTL_MS = 15_000;
/** How long the target of a handover may take to acquire the room before anyone may. */
export const HANDOVER_TTL_MS = 15_000;

/** Why a lease ended without being released. */
export type LeaseLostReason =
  /** No renewal succeeded before the local deadline (Redis away or slow). */
  | 'expired'
  /** Redis says another node holds it (clock bound violated, or the lease was deleted and retaken). */
  | 'taken'
  /** A fenced write was refused: a newer token exists. */
  | 'fenced'
  /** The lease vanished from Redis and could not be reclaimed. */
  | 'missing';

export interface LeaseOwner {
  nodeId: string;
  token: number;
}

export type AcquireResult =
  | { ok: true; lease: RoomLease }
  | { ok: false; reason: 'held'; owner: LeaseOwner }
  | { ok: false; reason: 'reserved'; target: string }
  /** Redis lost its data recently; fresh acquisitions wait until old owners surely stopped. */
  | { ok: false; reason: 'grace'; retryAfterMs: number }
  | { ok: false; reason: 'unavailable' };

export interface RoomLocation {
  owner: LeaseOwner | null;
  /** Node named to acquire the room next (placement or handover), if any. */
  target: string | null;
  /** Time until the owner's lease expires in Redis unless renewed (0 without owner). */
  ownerTtlMs: number;
  /** Time until the target expires (0 without target). */
  targetTtlMs: number;
}

export interface LeaseStats {
  acquired: number;
  renewed: number;
  renewFailures: number;
  reclaimed: number;
  released: number;
  handedOver: number;
  lost: Record<LeaseLostReason, number>;
  /** Times this node saw Redis come back without its data (a new incarnation). */
  redisDataLoss: number;
}

export interface LeaseManagerOptions {
  redis: ClusterRedis;
  keys: ClusterKeys;
  nodeId: string;
  scheduler?: Scheduler;
  timing?: Partial<LeaseTiming>;
}

interface LeaseContext {
  readonly redis: ClusterRedis;
  readonly keys: ClusterKeys;
  readonly nodeId: string;
  readonly scheduler: Scheduler;
  readonly timing: LeaseTiming;
  readonly stats: LeaseStats;
  /** Runs ACQUIRE; for reclaims. */
  acquireRaw(roomId: string): Promise<{ status: string; value: string; sentAt: number }>;
  forget(lease: RoomLease): void;
}

/**
 * This node's ownership of one room. The room simulates only while `valid()`; `onLost` runs once
 * when the lease ends without release (expired, taken, fenced, missing).
 */
export class RoomLease {
  readonly roomId: string;
  readonly nodeId: string;
  /** Called once, when the lease ends without `release()`/`handover()`; stop the room. */
  onLost: ((reason: LeaseLostReason) => void) | null = null;
  /** Called when a reclaim (after Redis lost its data) gave this lease a new token. */
  onTokenChanged: ((token: number) => void) | null = null;
  private value: string;
  private currentToken: number;
  private deadline: number;
  private state: 'held' | 'lost' | 'ended' = 'held';
  private renewTimer: Timer | null = null;
  private deadlineTimer: Timer | null = null;
  private lostReason: LeaseLostReason | null = null;

  /** @internal Created by LeaseManager.acquire. */
  constructor(private readonly ctx: LeaseContext, roomId: string, value: string, sentAt: number) {
    this.roomId = roomId;
    this.nodeId = ctx.nodeId;
    this.value = value;
    this.currentToken = parseLeaseValue(value)!.token;
    this.deadline = leaseDeadline(sentAt, ctx.timing);
    this.armDeadline();
    this.scheduleRenewal(sentAt + ctx.timing.renewEveryMs);
  }

  /** Fencing token: carry it on every write for this room (it changes only on a reclaim). */
  get token(): number {
    return this.currentToken;
  }

  /** Local time (scheduler clock) until which the room may run, unless renewed. */
  get validUntil(): number {
    return this.deadline;
  }

  /** Why the lease was lost, or null while held or after a release. */
  get lost(): LeaseLostReason | null {
    return this.lostReason;
  }

  /** True while this node may simulate the room and write for it. Pure: no side effects. */
  valid(now: number = this.ctx.scheduler.now()): boolean {
    return this.state === 'held' && now < this.deadline;
  }

  /** End the lease now (e.g. a fenced write was refused). Idempotent. */
  lose(reason: LeaseLostReason): void {
    if (this.state !== 'held') return;
    this.state = 'lost';
    this.lostReason = reason;
    this.ctx.stats.lost[reason]++;
    this.stopTimers();
    this.ctx.forget(this);
    // Our value may still sit in Redis (a renewal that landed after our deadline): free it so
    // the next owner need not wait for the TTL. Compare-and-delete cannot touch anyone else's.
    if (reason !== 'taken') this.ctx.redis.run(RELEASE, [this.ctx.keys.lease(this.roomId)], [this.value]).catch(() => {});
    try {
      this.onLost?.(reason);
    } catch {
      // The owner's handler failing must not break the lease bookkeeping.
    }
  }

  /** Give the room up (compare-and-delete). The caller stops simulating first. */
  async release(): Promise<boolean> {
    if (this.state !== 'held') return false;
    this.end();
    this.ctx.stats.released++;
    try {
      return (await this.ctx.redis.run(RELEASE, [this.ctx.keys.lease(this.roomId)], [this.value])) === 1;
    } catch {
      return false; // it expires by itself
    }
  }

  /**
   * Hand the room to `targetNodeId`: our lease is deleted and that node alone may acquire it for
   * `ttlMs`. The caller stops simulating and writes its final checkpoint first. False when the
   * lease was no longer ours (or Redis was away: then it simply expires).
   */
  async handover(targetNodeId: string, ttlMs: number = HANDOVER_TTL_MS): Promise<boolean> {
    if (!isNodeId(targetNodeId)) throw new RangeError(`invalid node id ${JSON.stringify(targetNodeId)}`);
    if (!this.valid()) return false;
    this.end();
    try {
      const done = (await this.ctx.redis.run(HANDOVER, [this.ctx.keys.lease(this.roomId), this.ctx.keys.target(this.roomId)],
        [this.value, targetNodeId, ttlMs])) === 1;
      if (done) this.ctx.stats.handedOver++;
      return done;
    } catch {
      return false;
    }
  }

  /** @internal Stop renewing without touching Redis (LeaseManager.close without release). */
  abandon(): void {
    if (this.state === 'held') this.end();
  }

  private end(): void {
    this.state = 'ended';
    this.stopTimers();
    this.ctx.forget(this);
  }

  private stopTimers(): void {
    this.renewTimer?.cancel();
    this.renewTimer = null;
    this.deadlineTimer?.cancel();
    this.deadlineTimer = null;
  }

  private armDeadline(): void {
    this.deadlineTimer?.cancel();
    const check = () => {
      if (this.state !== 'held') return;
      const left = this.deadline - this.ctx.scheduler.now();
      if (left <= 0) this.lose('expired');
      else this.deadlineTimer = this.ctx.scheduler.after(left, check);
    };
    this.deadlineTimer = this.ctx.scheduler.after(Math.max(0, this.deadline - this.ctx.scheduler.now()), check);
  }

  private scheduleRenewal(at: number): void {
    this.renewTimer?.cancel();
    this.renewTimer = this.ctx.scheduler.after(Math.max(0, at - this.ctx.scheduler.now()), () => {
      this.renewTimer = null;
      void this.renew();
    });
  }

  private async renew(): Promise<void> {
    if (this.state !== 'held') return;
    const { redis, keys, timing, scheduler, stats } = this.ctx;
    const sentAt = scheduler.now();
    let reply: unknown;
    try {
      reply = await redis.run(RENEW, [keys.lease(this.roomId)], [this.value, timing.ttlMs]);
    } catch (error) {
      if (this.state !== 'held') return;
      stats.renewFailures++;
      // Redis away (or, unexpectedly, an error reply): keep trying while the lease is valid;
      // the deadline timer ends it otherwise.
      if (isRedisUnavailable(error) || error instanceof RedisReplyError) this.scheduleRenewal(scheduler.now() + timing.retryMs);
      return;
    }
    if (this.state !== 'held') return;
    const status = Array.isArray(reply) ? reply[0] : null;
    if (status === 'ok') {
      stats.renewed++;
      this.extend(sentAt);
      this.scheduleRenewal(sentAt + timing.renewEveryMs);
    } else if (status === 'missing') {
      await this.reclaim();
    } else {
      this.lose('taken');
    }
  }

  /**
   * The lease vanished while ours was still valid here: Redis lost its data (or expired it
   * early). Nobody can hold a valid lease for this room but us (other nodes wait out the
   * incarnation grace), so take it again with a new token.
   */
  private async reclaim(): Promise<void> {
    if (!this.valid()) return;
    let result: { status: string; value: string; sentAt: number };
    try {
      result = await this.ctx.acquireRaw(this.roomId);
    } catch {
      if (this.state === 'held') this.scheduleRenewal(this.ctx.scheduler.now() + this.ctx.timing.retryMs);
      return;
    }
    if (this.state !== 'held') return;
    if (result.status !== 'ok' || !this.valid()) {
      this.lose('missing');
      return;
    }
    this.ctx.stats.reclaimed++;
    this.value = result.value;
    this.currentToken = parseLeaseValue(result.value)!.token;
    this.extend(result.sentAt);
    this.scheduleRenewal(result.sentAt + this.ctx.timing.renewEveryMs);
    try {
      this.onTokenChanged?.(this.currentToken);
    } catch {
      // as for onLost
    }
  }

  private extend(sentAt: number): void {
    this.deadline = Math.max(this.deadline, leaseDeadline(sentAt, this.ctx.timing));
    this.armDeadline();
  }
}

/** Acquires, renews and hands over this node's room leases. */
export class LeaseManager {
  readonly nodeId: string;
  readonly timing: LeaseTiming;
  readonly stats: LeaseStats = {
    acquired: 0, renewed: 0, renewFailures: 0, reclaimed: 0, released: 0, handedOver: 0,
    lost: { expired: 0, taken: 0, fenced: 0, missing: 0 }, redisDataLoss: 0,
  };
  private readonly redis: ClusterRedis;
  private readonly keys: ClusterKeys;
  private readonly scheduler: Scheduler;
  private readonly leases = new Map<string, RoomLease>();
  private readonly acquiring = new Map<string, Promise<AcquireResult>>();
  private readonly ctx: LeaseContext;
  /** Connection epoch the incarnation was last checked on (-1: never). */
  private checkedEpoch = -1;
  private incarnation: string | null = null;
  /** Local time before which fresh acquisitions wait (Redis lost its data recently). */
  private graceUntil = 0;
  private closed = false;

  constructor(options: LeaseManagerOptions) {
    if (!isNodeId(options.nodeId)) throw new RangeError(`invalid node id ${JSON.stringify(options.nodeId)}`);
    this.redis = options.redis;
    this.keys = options.keys;
    this.nodeId = options.nodeId;
    this.scheduler = options.scheduler ?? systemScheduler;
    this.timing = leaseTiming(options.timing);
    this.ctx = {
      redis: this.redis, keys: this.keys, nodeId: this.nodeId, scheduler: this.scheduler, timing: this.timing, stats: this.stats,
      acquireRaw: (roomId) => this.acquireRaw(roomId),
      forget: (lease) => { if (this.leases.get(lease.roomId) === lease) this.leases.delete(lease.roomId); },
    };
  }

  /**
   * Mark a Redis that was just started (by the same operator, before any node ran) as fresh, so
   * nodes need not wait out the incarnation grace. Unsafe on a Redis that nodes already used.
   */
  static async declareFresh(redis: ClusterRedis, keys: ClusterKeys): Promise<boolean> {
    return (await redis.run(DECLARE_FRESH, [keys.incarnation], [])) === 1;
  }

  /** Leases this node holds. */
  held(): RoomLease[] {
    return [...this.leases.values()];
  }

  get(roomId: string): RoomLease | undefined {
    return this.leases.get(roomId);
  }

  /**
   * Take the room's lease if it is free and not placed on another node. Concurrent calls for
   * one room share one attempt; a lease already held here is returned as it is.
   */
  acquire(roomId: string): Promise<AcquireResult> {
    const held = this.leases.get(roomId);
    if (held?.valid()) return Promise.resolve({ ok: true, lease: held });
    const pending = this.acquiring.get(roomId);
    if (pending) return pending;
    const attempt = this.tryAcquire(roomId).finally(() => this.acquiring.delete(roomId));
    this.acquiring.set(roomId, attempt);
    return attempt;
  }

  /** Who owns the room, and who is named to take it next. */
  async locate(roomId: string): Promise<RoomLocation> {
    const reply = (await this.redis.run(LOCATE, [this.keys.lease(roomId), this.keys.target(roomId)], [])) as unknown[];
    const owner = parseLeaseValue(reply[0]);
    const target = typeof reply[1] === 'string' && isNodeId(reply[1]) ? reply[1] : null;
    const ttl = (v: unknown) => (typeof v === 'number' && v > 0 ? v : 0);
    return { owner, target, ownerTtlMs: owner ? ttl(reply[2]) : 0, targetTtlMs: target ? ttl(reply[3]) : 0 };
  }

  /**
   * Place a room that has no owner on `nodeId` (only it may acquire it for `ttlMs`), unless it
   * is owned or already placed: the answer says where the room is or will be.
   */
  async reserve(roomId: string, nodeId: string, ttlMs: number = PLACEMENT_TTL_MS): Promise<{ kind: 'owner'; owner: LeaseOwner } | { kind: 'target'; nodeId: string }> {
    if (!isNodeId(nodeId)) throw new RangeError(`invalid node id ${JSON.stringify(nodeId)}`);
    const reply = (await this.redis.run(RESERVE, [this.keys.lease(roomId), this.keys.target(roomId)], [nodeId, ttlMs])) as unknown[];
    if (reply[0] === 'owner') {
      const owner = parseLeaseValue(reply[1]);
      if (owner) return { kind: 'owner', owner };
    }
    if (reply[0] === 'target' && isNodeId(reply[1])) return { kind: 'target', nodeId: reply[1] };
    throw new RedisReplyError(`unexpected reply to ${RESERVE.name}`);
  }

  /** Stop renewing; with `release` (default) give every lease back so others need not wait. */
  async close(options: { release?: boolean } = {}): Promise<void> {
    this.closed = true;
    const leases = this.held();
    if (options.release === false) {
      for (const lease of leases) lease.abandon();
      return;
    }
    await Promise.all(leases.map((lease) => lease.release()));
  }

  private async tryAcquire(roomId: string): Promise<AcquireResult> {
    if (this.closed) return { ok: false, reason: 'unavailable' };
    try {
      await this.checkIncarnation();
      const wait = this.graceUntil - this.scheduler.now();
      if (wait > 0) return { ok: false, reason: 'grace', retryAfterMs: Math.ceil(wait) };
      const { status, value, sentAt } = await this.acquireRaw(roomId);
      if (status === 'ok') {
        if (this.closed) {
          await this.redis.run(RELEASE, [this.keys.lease(roomId)], [value]).catch(() => {});
          return { ok: false, reason: 'unavailable' };
        }
        const lease = new RoomLease(this.ctx, roomId, value, sentAt);
        this.leases.set(roomId, lease);
        this.stats.acquired++;
        return { ok: true, lease };
      }
      if (status === 'held') {
        const owner = parseLeaseValue(value);
        if (owner) return { ok: false, reason: 'held', owner };
      }
      if (status === 'reserved' && isNodeId(value)) return { ok: false, reason: 'reserved', target: value };
      throw new RedisReplyError(`unexpected reply to ${ACQUIRE.name}: ${status}`);
    } catch (error) {
      if (isRedisUnavailable(error)) return { ok: false, reason: 'unavailable' };
      throw error;
    }
  }

  private async acquireRaw(roomId: string): Promise<{ status: string; value: string; sentAt: number }> {
    const sentAt = this.scheduler.now();
    const reply = (await this.redis.run(ACQUIRE, [this.keys.lease(roomId), this.keys.fence(roomId), this.keys.target(roomId)],
      [this.nodeId, this.timing.ttlMs])) as unknown[];
    if (!Array.isArray(reply) || typeof reply[0] !== 'string' || typeof reply[1] !== 'string') {
      throw new RedisReplyError(`unexpected reply to ${ACQUIRE.name}`);
    }
    return { status: reply[0], value: reply[1], sentAt };
  }

  /**
   * Once per Redis connection: read (or create) the incarnation marker. A marker born less than
   * one lease ttl ago means Redis may have lost leases that some node still counts as valid, so
   * fresh acquisitions wait until that ttl has passed (Redlock's "delayed restart", done by the
   * clients because our Redis does not persist).
   */
  private async checkIncarnation(): Promise<void> {
    const epoch = this.redis.connectionEpoch;
    if (epoch === this.checkedEpoch) return;
    const reply = (await this.redis.run(INCARNATION, [this.keys.incarnation], [randomBytes(8).toString('hex')])) as unknown[];
    const marker = typeof reply?.[0] === 'string' ? reply[0] : '';
    const bornMs = Number(marker.slice(marker.lastIndexOf(':') + 1));
    const redisNow = Number(reply?.[1]);
    if (!Number.isFinite(bornMs) || !Number.isFinite(redisNow)) throw new RedisReplyError(`unexpected reply to ${INCARNATION.name}`);
    if (this.incarnation !== null && marker !== this.incarnation) this.stats.redisDataLoss++;
    this.incarnation = marker;
    // Measured from when the reply arrived, later than Redis's "now": the wait only grows.
    const remaining = bornMs + this.timing.ttlMs - redisNow;
    this.graceUntil = remaining > 0 ? this.scheduler.now() + remaining : 0;
    this.checkedEpoch = epoch;
  }
}
