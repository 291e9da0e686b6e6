/**
 * One node's cluster membership, assembled (docs/cluster.md): the Redis connection, the node
 * registry, room leases, the chat fan-out, checkpoints, routing and admission. Phase 2's
 * `createGameServer({ cluster })` starts one of these after `listen()` (when the public URLs are
 * known) and wires its parts into the room manager, the session manager and the HTTP routes.
 */
import { systemScheduler, type Scheduler } from '../clock.js';
import { AdmissionControl, type AdmissionOptions } from './admission.js';
import { RedisChatFanout, type ChatWriterLostReason } from './chat-fanout.js';
import { CheckpointStore } from './checkpoint-store.js';
import { ClusterKeys } from './keys.js';
import { LeaseManager } from './lease.js';
import type { LeaseTiming } from './lease-timing.js';
import { NodeRegistry, type NodeAddress, type NodeLoadReport } from './node-registry.js';
import { connectRedis, type ClusterRedis, type RedisConnectOptions } from './redis.js';
import { ClusterRouter } from './router.js';
import { SeatStore } from './seats.js';
import { RedisSingleUseTickets } from './single-use-tickets.js';

/** What `createGameServer({ cluster })` and `npm start`'s TICKWIRE_CLUSTER_* variables set. */
export interface ClusterOptions {
  /** `redis://host:port`, `rediss://...` or `unix:///path/redis.sock`. */
  redisUrl: string;
  /** Unique, stable per process: `[A-Za-z0-9_.-]{1,64}` (e.g. host name plus port). */
  nodeId: string;
  /** First segment of every key (several clusters on one Redis). Default `tw`. */
  keyPrefix?: string;
  /** Overrides for tests and tuning. */
  lease?: Partial<LeaseTiming>;
  nodeTtlMs?: number;
  heartbeatMs?: number;
  admission?: AdmissionOptions;
  redis?: Omit<RedisConnectOptions, 'url'>;
  /** How often a running room is checkpointed (CHECKPOINT_INTERVAL_MS). */
  checkpointIntervalMs?: number;
  /** How long connect-info keeps a seat for the player it answered (SEAT_RESERVATION_MS). */
  seatReservationMs?: number;
}

export interface ClusterNodeHooks {
  /** Public addresses of this node (known after listen()). */
  address: Omit<NodeAddress, 'nodeId'>;
  /** Current load, read at each heartbeat. */
  load: () => NodeLoadReport;
  /** Event-loop utilisation source (default: this process's, since the last heartbeat). */
  elu?: () => number;
  /** This node lost the right to write a room's chat: stop or reopen the room. */
  onChatWriterLost?: (roomId: string, reason: ChatWriterLostReason) => void;
  scheduler?: Scheduler;
}

export class ClusterNode {
  private stopped = false;

  private constructor(
    readonly options: ClusterOptions,
    readonly redis: ClusterRedis,
    readonly keys: ClusterKeys,
    readonly registry: NodeRegistry,
    readonly leases: LeaseManager,
    readonly chat: RedisChatFanout,
    readonly checkpoints: CheckpointStore,
    readonly router: ClusterRouter,
    readonly admission: AdmissionControl,
    readonly seats: SeatStore,
    readonly tickets: RedisSingleUseTickets,
  ) {}

  /** Connects to Redis and publishes this node. Rejects when Redis does not answer at startup. */
  static async start(options: ClusterOptions, hooks: ClusterNodeHooks): Promise<ClusterNode> {
    const scheduler = hooks.scheduler ?? systemScheduler;
    const keys = new ClusterKeys(options.keyPrefix);
    const redis = await connectRedis({ ...options.redis, url: options.redisUrl, clientName: options.redis?.clientName ?? `tickwire:${options.nodeId}` });
    try {
      const registry = new NodeRegistry({
        redis, keys, scheduler, address: { nodeId: options.nodeId, ...hooks.address }, load: hooks.load, elu: hooks.elu,
        ttlMs: options.nodeTtlMs, heartbeatMs: options.heartbeatMs,
      });
      const leases = new LeaseManager({ redis, keys, nodeId: options.nodeId, scheduler, timing: options.lease });
      const chat = new RedisChatFanout({ redis, keys, scheduler, onWriterLost: hooks.onChatWriterLost });
      const checkpoints = new CheckpointStore({ redis, keys });
      const router = new ClusterRouter({ leases, registry });
      const admission = new AdmissionControl(options.admission, scheduler.now());
      const seats = new SeatStore({ redis, keys, reservationMs: options.seatReservationMs });
      const tickets = new RedisSingleUseTickets(redis, keys, options.nodeId);
      await registry.start();
      return new ClusterNode(options, redis, keys, registry, leases, chat, checkpoints, router, admission, seats, tickets);
    } catch (error) {
      await redis.close();
      throw error;
    }
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /**
   * True while this node can take part: Redis answers and the other nodes can see it. While
   * false, running rooms go on (within their leases) but new joins are refused.
   */
  healthy(): boolean {
    return !this.stopped && this.redis.state === 'ready' && this.registry.registered();
  }

  /** Stop taking rooms (published at once); drain hands the rooms over afterwards. */
  async setDraining(draining: boolean): Promise<void> {
    await this.registry.setDraining(draining);
  }

  /**
   * Leave the cluster: leases released, chat writers detached, the record removed, Redis closed.
   * `graceful: false` leaves like a crash (tests): leases and record stay until they expire.
   */
  async stop(options: { graceful?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const graceful = options.graceful !== false;
    await this.leases.close({ release: graceful });
    await this.chat.close();
    if (graceful) await this.registry.stop();
    await this.redis.close();
    if (!graceful) await this.registry.stop(); // Redis is closed: this only stops the heartbeats
  }
}
