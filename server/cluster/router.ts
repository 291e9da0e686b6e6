/**
 * Routing (docs/cluster.md, "Routing"): which node a client for a room must talk to, and
 * whether this node may run a room a hello asks for. Phase 2 wires `route()` into
 * `/api/connect-info` (any node answers with the owner's URLs) and `claim()` into the hello
 * (a hello at a node that does not own the room is closed with WRONG_NODE).
 *
 * A room with an owner goes to the owner. A room without one goes to its target (a handover in
 * progress, or an earlier placement), else it is placed on the least loaded live node that is
 * not draining, which then acquires it when the first hello arrives (and restores its checkpoint
 * if there is one: that is how rooms come back after a crash).
 */
import type { LeaseManager, RoomLease } from './lease.js';
import type { NodeRecord, NodeRegistry } from './node-registry.js';
import { isRedisUnavailable } from './redis.js';

/** Retry hint when Redis does not answer (the client spreads its own retry on top). */
export const ROUTE_RETRY_MS = 1_000;

export type RouteUnavailableReason =
  /** Redis does not answer: no room can be located or placed. */
  | 'redis'
  /** No live node that is not draining. */
  | 'no-nodes'
  /** The room's owner (or target) is not in the registry: it crashed or lost Redis; wait for its lease. */
  | 'owner-unreachable'
  /** Redis lost its data recently; rooms without an owner wait (lease.ts, incarnation). */
  | 'grace'
  /** This node is draining and takes no rooms. */
  | 'draining';

export type Route =
  /** Send the client to `node`: it runs the room (`owned`), or is the one to take it. */
  | { kind: 'node'; node: NodeRecord; owned: boolean }
  | { kind: 'unavailable'; reason: RouteUnavailableReason; retryAfterMs: number };

export type Claim =
  /** This node runs the room; `acquired`: just now (restore the checkpoint, open chat). */
  | { kind: 'local'; lease: RoomLease; acquired: boolean }
  /** Another node owns the room or is named to take it: WRONG_NODE, ask connect-info again. */
  | { kind: 'elsewhere'; nodeId: string }
  | { kind: 'unavailable'; reason: RouteUnavailableReason; retryAfterMs: number };

export interface ClusterRouterOptions {
  leases: LeaseManager;
  registry: NodeRegistry;
  random?: () => number;
}

export class ClusterRouter {
  private readonly leases: LeaseManager;
  private readonly registry: NodeRegistry;

  constructor(private readonly options: ClusterRouterOptions) {
    this.leases = options.leases;
    this.registry = options.registry;
  }

  /** Where a client for `roomId` must go (connect-info). Never throws for Redis being away. */
  async route(roomId: string): Promise<Route> {
    try {
      const where = await this.leases.locate(roomId);
      if (where.owner) {
        const node = await this.find(where.owner.nodeId);
        return node ? { kind: 'node', node, owned: true } : unavailable('owner-unreachable', where.ownerTtlMs);
      }
      if (where.target) {
        const node = await this.find(where.target);
        return node ? { kind: 'node', node, owned: false } : unavailable('owner-unreachable', where.targetTtlMs);
      }
      if (this.registry.nodes().length === 0) await this.registry.list();
      const pick = this.registry.pickForNewRoom(this.options.random);
      if (!pick) return unavailable('no-nodes', ROUTE_RETRY_MS);
      const placed = await this.leases.reserve(roomId, pick.nodeId);
      const chosen = placed.kind === 'owner' ? placed.owner.nodeId : placed.nodeId;
      const node = chosen === pick.nodeId ? pick : await this.find(chosen);
      return node ? { kind: 'node', node, owned: placed.kind === 'owner' } : unavailable('owner-unreachable', ROUTE_RETRY_MS);
    } catch (error) {
      if (isRedisUnavailable(error)) return unavailable('redis', ROUTE_RETRY_MS);
      throw error;
    }
  }

  /** May this node run `roomId` for a hello that just arrived? Acquires the lease when free. */
  async claim(roomId: string): Promise<Claim> {
    const held = this.leases.get(roomId);
    if (held?.valid()) return { kind: 'local', lease: held, acquired: false };
    if (this.registry.isDraining) return unavailable('draining', ROUTE_RETRY_MS);
    const result = await this.leases.acquire(roomId);
    if (result.ok) return { kind: 'local', lease: result.lease, acquired: true };
    switch (result.reason) {
      case 'held':
        // Our own old lease still in Redis (it lapsed here first): it expires within the ttl.
        return result.owner.nodeId === this.leases.nodeId ? unavailable('owner-unreachable', ROUTE_RETRY_MS) : { kind: 'elsewhere', nodeId: result.owner.nodeId };
      case 'reserved':
        return { kind: 'elsewhere', nodeId: result.target };
      case 'grace':
        return unavailable('grace', result.retryAfterMs);
      default:
        return unavailable('redis', ROUTE_RETRY_MS);
    }
  }

  /** A live node by id, from the last heartbeat's list (read again once if it is not there). */
  private async find(nodeId: string): Promise<NodeRecord | null> {
    const known = this.registry.nodes().find((n) => n.nodeId === nodeId);
    if (known) return known;
    return (await this.registry.list()).find((n) => n.nodeId === nodeId) ?? null;
  }
}

function unavailable(reason: RouteUnavailableReason, retryAfterMs: number): { kind: 'unavailable'; reason: RouteUnavailableReason; retryAfterMs: number } {
  return { kind: 'unavailable', reason, retryAfterMs: Math.max(1, Math.ceil(retryAfterMs || ROUTE_RETRY_MS)) };
}
