/**
 * Lua scripts of the room lease protocol (docs/cluster.md, "Lease and fencing"). Each runs
 * atomically in Redis; all keys of one script share the room's hash tag.
 *
 * Values: lease = `<token>:<nodeId>` (PX ttl), fence = newest token issued (no TTL),
 * target = node id (PX ttl) that alone may acquire the free lease next (placement, handover).
 */
import { LuaScript } from './redis.js';

/**
 * Fencing token of a new lease: max(previous + 1, Redis time in microseconds). The counter part
 * makes it strictly increasing per room (INCR semantics); the clock floor keeps it increasing
 * even if Redis lost the counter (a restart without persistence), since every earlier token was
 * at most the Redis time of its issue. Below 2^53 until the year 2255, so exact in Lua and JS.
 */
const NEXT_TOKEN = `
local t = redis.call('TIME')
local floor = tonumber(t[1]) * 1000000 + tonumber(t[2])
local token = tonumber(redis.call('GET', KEYS[2]) or '0') + 1
if token < floor then token = floor end
local tokenText = string.format('%.0f', token)
redis.call('SET', KEYS[2], tokenText)`;

/**
 * KEYS lease, fence, target; ARGV nodeId, ttlMs.
 * -> {'ok', value} | {'held', value} | {'reserved', targetNodeId}
 * SET NX semantics (the lease is created only when absent), plus the target rule.
 */
export const ACQUIRE = new LuaScript('lease.acquire', 3, `
local owner = redis.call('GET', KEYS[1])
if owner then return {'held', owner} end
local target = redis.call('GET', KEYS[3])
if target and target ~= ARGV[1] then return {'reserved', target} end
${NEXT_TOKEN}
local value = tokenText .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], value, 'NX', 'PX', ARGV[2])
if target then redis.call('DEL', KEYS[3]) end
return {'ok', value}`);

/** KEYS lease; ARGV value, ttlMs -> {'ok'} | {'taken', value} | {'missing'}. Compare-and-extend. */
export const RENEW = new LuaScript('lease.renew', 1, `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {'ok'}
end
if v then return {'taken', v} end
return {'missing'}`);

/** KEYS lease; ARGV value -> 1 deleted, 0 not ours. Compare-and-delete. */
export const RELEASE = new LuaScript('lease.release', 1, `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`);

/**
 * KEYS lease, target; ARGV value, targetNodeId, targetTtlMs -> 1 handed over, 0 not ours.
 * Deletes our lease and names the only node that may acquire it next, in one step: no third
 * node can slip in between.
 */
export const HANDOVER = new LuaScript('lease.handover', 2, `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1`);

/** KEYS lease, target -> {lease value or false, target or false, lease pttl, target pttl}. */
export const LOCATE = new LuaScript('lease.locate', 2, `
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), redis.call('PTTL', KEYS[1]), redis.call('PTTL', KEYS[2])}`);

/**
 * KEYS lease, target; ARGV nodeId, ttlMs -> {'owner', value} | {'target', nodeId}.
 * Places a room without an owner on a node (the one that may acquire it) unless one is placed.
 */
export const RESERVE = new LuaScript('lease.reserve', 2, `
local owner = redis.call('GET', KEYS[1])
if owner then return {'owner', owner} end
local target = redis.call('GET', KEYS[2])
if target then return {'target', target} end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return {'target', ARGV[1]}`);

/**
 * KEYS incarnation; ARGV newId -> {'<id>:<bornMs>', nowMs}. Creates the marker of this Redis
 * data set when it is missing (a new Redis, or one that lost its data), so nodes can tell.
 */
export const INCARNATION = new LuaScript('lease.incarnation', 1, `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('GET', KEYS[1])
if not v then
  v = ARGV[1] .. ':' .. string.format('%.0f', now)
  redis.call('SET', KEYS[1], v)
end
return {v, string.format('%.0f', now)}`);

/** KEYS incarnation -> 1 if declared, 0 if the data set already had a marker. */
export const DECLARE_FRESH = new LuaScript('lease.declare-fresh', 1, `
if redis.call('SET', KEYS[1], 'fresh:0', 'NX') then return 1 end
return 0`);

/** `<token>:<nodeId>` -> parts, or null for anything else. */
export function parseLeaseValue(value: unknown): { token: number; nodeId: string } | null {
  if (typeof value !== 'string') return null;
  const colon = value.indexOf(':');
  if (colon <= 0) return null;
  const token = Number(value.slice(0, colon));
  const nodeId = value.slice(colon + 1);
  if (!Number.isSafeInteger(token) || token <= 0 || nodeId.length === 0) return null;
  return { token, nodeId };
}
