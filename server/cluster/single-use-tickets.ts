/**
 * Single-use tickets (dev tickets, the `once` claim) remembered in Redis, so that every node of a
 * cluster agrees: a ticket that started a session on one node cannot start a second on another
 * (server/session/single-use-tickets.ts is the per-process registry this replaces in cluster
 * mode, with the same `take`/`giveBack` shape). One key per ticket, `SET NX PX` until the
 * ticket expires (after that the ticket is refused as expired anyway).
 */
import type { ClusterKeys } from './keys.js';
import { LuaScript, isRedisUnavailable, type ClusterRedis } from './redis.js';

/** `retryAfterMs` of a single-use join refused because Redis did not answer. */
export const TICKET_REGISTRY_RETRY_MS = 1_000;

/** KEYS used; ARGV value, ttlMs -> 1 taken, 0 already used. */
const TAKE = new LuaScript('tickets.take', 1, `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0`);

/** KEYS used; ARGV value -> 1 when it was ours and is gone. Compare-and-delete. */
const GIVE_BACK = new LuaScript('tickets.giveBack', 1, `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

export type RedisTicketUse = { ok: true } | { ok: false; reason: 'used' } | { ok: false; reason: 'unavailable'; retryAfterMs: number };

export class RedisSingleUseTickets {
  constructor(private readonly redis: ClusterRedis, private readonly keys: ClusterKeys, private readonly nodeId: string) {}

  /** Marks the ticket (its signature `key`) used until `expiresAt`; refused when it already was. */
  async take(key: string, expiresAt: number, now: number): Promise<RedisTicketUse> {
    try {
      // The value names this node, so a give-back deletes only a mark this node made.
      const taken = await this.redis.run(TAKE, [this.keys.usedTicket(key)], [this.nodeId, Math.max(1, Math.ceil(expiresAt - now))]);
      return taken === 1 ? { ok: true } : { ok: false, reason: 'used' };
    } catch (error) {
      if (isRedisUnavailable(error)) return { ok: false, reason: 'unavailable', retryAfterMs: TICKET_REGISTRY_RETRY_MS };
      throw error;
    }
  }

  /** The join that took `key` did not happen: the ticket may start a session again. */
  async giveBack(key: string): Promise<void> {
    await this.redis.run(GIVE_BACK, [this.keys.usedTicket(key)], [this.nodeId]).catch(() => {});
  }
}
