/**
 * Node registry (docs/cluster.md, "Node registry"): each node publishes its URLs, certificate
 * hashes, load and draining flag about once a second under an expiry; every heartbeat also
 * returns the live nodes, so each node knows the cluster as of one second ago without asking.
 *
 * Records live in one hash (`tw:{cluster}:nodes`, field = node id) as `<expiresAtMs> <JSON>`;
 * liveness is judged by Redis's clock inside the scripts, so every node agrees on it, and
 * expired fields are deleted by whichever script sees them first.
 */
import { performance } from 'node:perf_hooks';
import { systemScheduler, type Scheduler, type Timer } from '../clock.js';
import { isNodeId, type ClusterKeys } from './keys.js';
import { LuaScript, RedisReplyError, isRedisUnavailable, type ClusterRedis } from './redis.js';

/** A node not heard from for this long is gone (three missed heartbeats). */
export const NODE_TTL_MS = 3_000;
/** How often a node publishes its record. */
export const NODE_HEARTBEAT_MS = 1_000;
/** Nodes a registry reads; more are ignored (and counted) rather than parsed. */
export const MAX_CLUSTER_NODES = 256;
/** Room ids a node publishes for /api/status (the room manager's own limit). */
export const NODE_ROOM_IDS_LIMIT = 1_000;
/** Largest room-list value (one node's rooms) accepted from Redis: NODE_ROOM_IDS_LIMIT entries of ~100 bytes. */
export const NODE_ROOMS_MAX_BYTES = 128 * 1024;
/** Largest record accepted from Redis. */
export const NODE_RECORD_MAX_BYTES = 8 * 1024;
/** Event-loop utilisation differences below this do not decide placement (noise). */
export const ELU_BUCKET = 0.1;

/** What a node says about itself; fixed for its lifetime. */
export interface NodeAddress {
  nodeId: string;
  /** Public base URL of its HTTP server (connect-info, status). */
  httpUrl: string;
  /** Public WebSocket URL (the `/ws` route). */
  webSocketUrl: string;
  /** Public WebTransport URL, or null when the node serves WebSocket only. */
  webTransportUrl: string | null;
  /** base64 SHA-256 of the certificate(s) for `serverCertificateHashes`. */
  certificateHashes: string[];
}

export interface NodeLoad {
  sessions: number;
  rooms: number;
  /** Event-loop utilisation over the last heartbeat interval, 0..1. */
  elu: number;
  /** Open read-only feed streams and long polls (absent from nodes that do not report it). */
  feeds?: number;
}

/** One room as its node publishes it (the cluster-wide lobby and status read these). */
export interface RoomEntry {
  id: string;
  players: number;
  maxPlayers: number;
  spectators: number;
  maxSpectators: number;
}

/** What a node reports at each heartbeat. */
export interface NodeLoadReport {
  sessions: number;
  roomIds: readonly string[];
  /** The rooms with their counts (published for the lobby); absent: ids only. */
  rooms?: readonly RoomEntry[];
  feeds?: number;
}

/** Every live node and the rooms each published, read in one round trip (`NodeRegistry.directory`). */
export interface ClusterDirectory {
  nodes: NodeRecord[];
  /** Node id -> its rooms (entries without counts when the node published ids only). */
  rooms: Map<string, RoomEntry[]>;
}

export interface NodeRecord extends NodeAddress {
  v: 1;
  load: NodeLoad;
  draining: boolean;
  /** The node's clock (ms) when it started and when it wrote this record. */
  startedAt: number;
  updatedAt: number;
}

const HEARTBEAT_SCRIPT_PRUNE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {string.format('%.0f', now)}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local exp = tonumber(string.match(all[i + 1], '^(%d+) '))
  if exp == nil or exp <= now then
    redis.call('HDEL', KEYS[1], all[i])
    redis.call('HDEL', KEYS[2], all[i])
  elseif #out <= tonumber(ARGV[1]) then
    out[#out + 1] = all[i + 1]
  end
end
return out`;

/** KEYS nodes, nodeRooms; ARGV maxNodes -> {nowMs, live values...}; prunes expired records. */
const LIST = new LuaScript('registry.list', 2, HEARTBEAT_SCRIPT_PRUNE);

/**
 * KEYS nodes, nodeRooms; ARGV maxNodes, nodeId, recordJson, ttlMs, roomIdsJson
 * -> as LIST, after writing this node's record and room list.
 */
const HEARTBEAT = new LuaScript('registry.heartbeat', 2, `
local t0 = redis.call('TIME')
local exp = string.format('%.0f', tonumber(t0[1]) * 1000 + math.floor(tonumber(t0[2]) / 1000) + tonumber(ARGV[4]))
redis.call('HSET', KEYS[1], ARGV[2], exp .. ' ' .. ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], exp .. ' ' .. ARGV[5])
${HEARTBEAT_SCRIPT_PRUNE}`);

/** KEYS nodes, nodeRooms; ARGV nodeId. */
const LEAVE = new LuaScript('registry.leave', 2, `
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1`);

/**
 * KEYS nodes, nodeRooms; ARGV maxNodes -> {{live record values...}, {nodeId, rooms value, ...}}:
 * the whole directory in one round trip (the lobby and status feeds poll it).
 */
const DIRECTORY = new LuaScript('registry.directory', 2, `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nodes, rooms = {}, {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local exp = tonumber(string.match(all[i + 1], '^(%d+) '))
  if exp ~= nil and exp > now and #nodes < tonumber(ARGV[1]) then
    nodes[#nodes + 1] = all[i + 1]
    local r = redis.call('HGET', KEYS[2], all[i])
    if r then
      rooms[#rooms + 1] = all[i]
      rooms[#rooms + 1] = r
    end
  end
end
return {nodes, rooms}`);

/** KEYS nodeRooms -> flat {nodeId, value, ...}. */
const ROOMS = new LuaScript('registry.rooms', 1, `return redis.call('HGETALL', KEYS[1])`);

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const isUrl = (s: unknown): s is string => typeof s === 'string' && s.length > 0 && s.length <= 512 && /^(https?|wss?):\/\//.test(s);
const isHash = (s: unknown): s is string => typeof s === 'string' && /^[A-Za-z0-9+/]{43}=$/.test(s);

/** Parses and checks one record; null (never a throw) for anything malformed. */
export function decodeNodeRecord(json: string): NodeRecord | null {
  if (json.length > NODE_RECORD_MAX_BYTES) return null;
  let r: unknown;
  try {
    r = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof r !== 'object' || r === null) return null;
  const o = r as Record<string, unknown>;
  const load = o.load as Record<string, unknown> | undefined;
  const ok = o.v === 1 && isNodeId(o.nodeId) && isUrl(o.httpUrl) && isUrl(o.webSocketUrl)
    && (o.webTransportUrl === null || isUrl(o.webTransportUrl))
    && Array.isArray(o.certificateHashes) && o.certificateHashes.length <= 4 && o.certificateHashes.every(isHash)
    && typeof load === 'object' && load !== null && isCount(load.sessions) && isCount(load.rooms)
    && typeof load.elu === 'number' && load.elu >= 0 && load.elu <= 1 && (load.feeds === undefined || isCount(load.feeds))
    && typeof o.draining === 'boolean' && typeof o.startedAt === 'number' && typeof o.updatedAt === 'number';
  if (!ok) return null;
  return {
    v: 1, nodeId: o.nodeId as string, httpUrl: o.httpUrl as string, webSocketUrl: o.webSocketUrl as string,
    webTransportUrl: o.webTransportUrl as string | null, certificateHashes: [...(o.certificateHashes as string[])],
    load: {
      sessions: load!.sessions as number, rooms: load!.rooms as number, elu: load!.elu as number,
      ...(load!.feeds !== undefined ? { feeds: load!.feeds as number } : {}),
    },
    draining: o.draining as boolean, startedAt: o.startedAt as number, updatedAt: o.updatedAt as number,
  };
}

/**
 * One node's published rooms (`<expiresAtMs> <JSON>`): an array of room ids (ids only) or of
 * `[id, players, maxPlayers, spectators, maxSpectators]`; null when malformed. At most
 * NODE_ROOM_IDS_LIMIT entries are kept.
 */
export function decodeNodeRooms(value: string): RoomEntry[] | null {
  if (value.length > NODE_ROOMS_MAX_BYTES) return null;
  let list: unknown;
  try {
    list = JSON.parse(value.slice(value.indexOf(' ') + 1));
  } catch {
    return null;
  }
  if (!Array.isArray(list)) return null;
  const out: RoomEntry[] = [];
  for (const item of list.slice(0, NODE_ROOM_IDS_LIMIT)) {
    if (typeof item === 'string' && isNodeId(item)) {
      out.push({ id: item, players: 0, maxPlayers: 0, spectators: 0, maxSpectators: 0 });
    } else if (Array.isArray(item) && item.length === 5 && isNodeId(item[0]) && item.slice(1).every(isCount)) {
      out.push({ id: item[0], players: item[1], maxPlayers: item[2], spectators: item[3], maxSpectators: item[4] });
    } else {
      return null;
    }
  }
  return out;
}

/**
 * The node a new room should go to: not draining, least loaded. Load compares event-loop
 * utilisation first (in ELU_BUCKET steps, so noise does not flip the choice), then sessions,
 * then rooms; `random` breaks ties so a burst of new rooms does not all land on one of several
 * idle nodes. Each `pending` placement (made since the records were read, so not yet in them)
 * counts as one ELU bucket as well as one room: records are a heartbeat old, and without that a
 * burst of new rooms inside one heartbeat would all go to whichever node looked a bucket idler.
 */
export function pickNodeForRoom(
  nodes: readonly NodeRecord[],
  options: { pending?: ReadonlyMap<string, number>; random?: () => number } = {},
): NodeRecord | null {
  const random = options.random ?? Math.random;
  let best: NodeRecord | null = null;
  let bestKey: number[] = [];
  for (const node of nodes) {
    if (node.draining) continue;
    const pending = options.pending?.get(node.nodeId) ?? 0;
    const key = [Math.floor(node.load.elu / ELU_BUCKET) + pending, node.load.sessions, node.load.rooms + pending, random()];
    if (!best || compare(key, bestKey) < 0) {
      best = node;
      bestKey = key;
    }
  }
  return best;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** Event-loop utilisation since the previous call (Node's perf_hooks), 0..1. */
export function createEluSampler(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, last);
    last = now;
    return Math.min(1, Math.max(0, delta.utilization || 0));
  };
}

export interface NodeRegistryOptions {
  redis: ClusterRedis;
  keys: ClusterKeys;
  address: NodeAddress;
  /** Current sessions and rooms, read at each heartbeat. */
  load: () => NodeLoadReport;
  elu?: () => number;
  scheduler?: Scheduler;
  ttlMs?: number;
  heartbeatMs?: number;
}

export interface NodeRegistryStats {
  heartbeats: number;
  failures: number;
  /** Records in Redis that did not parse (skipped). */
  malformed: number;
}

/** Publishes this node and keeps the list of live nodes from the last heartbeat. */
export class NodeRegistry {
  readonly stats: NodeRegistryStats = { heartbeats: 0, failures: 0, malformed: 0 };
  private readonly redis: ClusterRedis;
  private readonly keys: ClusterKeys;
  private readonly scheduler: Scheduler;
  private readonly ttlMs: number;
  private readonly heartbeatMs: number;
  private readonly elu: () => number;
  private readonly startedAt: number;
  private draining = false;
  private timer: Timer | null = null;
  private inFlight: Promise<void> | null = null;
  private running = false;
  private lastNodes: NodeRecord[] = [];
  private lastOkAt = -Infinity;
  /** Rooms placed on a node since the node list was read (their load is not in the records yet). */
  private readonly pending = new Map<string, number>();

  constructor(private readonly options: NodeRegistryOptions) {
    if (!isNodeId(options.address.nodeId)) throw new RangeError(`invalid node id ${JSON.stringify(options.address.nodeId)}`);
    this.redis = options.redis;
    this.keys = options.keys;
    this.scheduler = options.scheduler ?? systemScheduler;
    this.ttlMs = options.ttlMs ?? NODE_TTL_MS;
    this.heartbeatMs = options.heartbeatMs ?? NODE_HEARTBEAT_MS;
    if (!(this.heartbeatMs > 0 && this.ttlMs > this.heartbeatMs)) throw new RangeError('node ttl must exceed the heartbeat interval');
    this.elu = options.elu ?? createEluSampler();
    this.startedAt = this.scheduler.now();
  }

  get nodeId(): string {
    return this.options.address.nodeId;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** True while other nodes can see this one (a heartbeat succeeded within the ttl). */
  registered(now: number = this.scheduler.now()): boolean {
    return now - this.lastOkAt < this.ttlMs;
  }

  /** Live nodes as of the last successful heartbeat (or list()). */
  nodes(): readonly NodeRecord[] {
    return this.lastNodes;
  }

  /** Publishes now and then every heartbeat interval. Rejects if the first heartbeat fails. */
  async start(): Promise<void> {
    this.running = true;
    await this.beat(true);
  }

  /** Publish the draining flag at once (new rooms stop coming here). */
  async setDraining(draining: boolean): Promise<void> {
    this.draining = draining;
    await this.beat(true);
  }

  /** Stops heartbeats and removes this node's record (best effort). */
  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
    await this.inFlight?.catch(() => {});
    try {
      await this.redis.run(LEAVE, [this.keys.nodes, this.keys.nodeRooms], [this.nodeId]);
    } catch {
      // The record expires by itself.
    }
  }

  /** Reads the live nodes now. */
  async list(): Promise<NodeRecord[]> {
    const reply = await this.redis.run(LIST, [this.keys.nodes, this.keys.nodeRooms], [MAX_CLUSTER_NODES]);
    this.lastNodes = this.parse(reply);
    this.pending.clear();
    return this.lastNodes;
  }

  /** Room ids each live node reported, for /api/status. */
  async roomsByNode(): Promise<Map<string, string[]>> {
    const flat = (await this.redis.run(ROOMS, [this.keys.nodeRooms], [])) as unknown[];
    const out = new Map<string, string[]>();
    const live = new Set(this.lastNodes.map((n) => n.nodeId));
    for (let i = 0; i + 1 < flat.length && out.size < MAX_CLUSTER_NODES; i += 2) {
      const nodeId = flat[i];
      const value = flat[i + 1];
      if (!isNodeId(nodeId) || !live.has(nodeId) || typeof value !== 'string') continue;
      const entries = decodeNodeRooms(value);
      if (entries) out.set(nodeId, entries.map((r) => r.id));
      else this.stats.malformed++;
    }
    return out;
  }

  /**
   * Every live node and its rooms, in one round trip (at most MAX_CLUSTER_NODES nodes of
   * NODE_ROOM_IDS_LIMIT rooms each); malformed values are skipped and counted.
   */
  async directory(): Promise<ClusterDirectory> {
    const reply = await this.redis.run(DIRECTORY, [this.keys.nodes, this.keys.nodeRooms], [MAX_CLUSTER_NODES]);
    if (!Array.isArray(reply) || !Array.isArray(reply[0]) || !Array.isArray(reply[1])) throw new RedisReplyError('unexpected directory reply');
    const nodes = this.parse([null, ...reply[0]]);
    const live = new Set(nodes.map((n) => n.nodeId));
    const rooms = new Map<string, RoomEntry[]>();
    const flat = reply[1] as unknown[];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const nodeId = flat[i];
      const value = flat[i + 1];
      if (typeof nodeId !== 'string' || !live.has(nodeId)) continue;
      const entries = typeof value === 'string' ? decodeNodeRooms(value) : null;
      if (entries) rooms.set(nodeId, entries);
      else this.stats.malformed++;
    }
    return { nodes, rooms };
  }

  /** The node for a new room, from the last known list; counts the placement until the next list. */
  pickForNewRoom(random?: () => number): NodeRecord | null {
    const node = pickNodeForRoom(this.lastNodes, { pending: this.pending, random });
    if (node) this.pending.set(node.nodeId, (this.pending.get(node.nodeId) ?? 0) + 1);
    return node;
  }

  private record(): NodeRecord {
    const { sessions, roomIds, feeds } = this.options.load();
    return {
      v: 1, ...this.options.address, certificateHashes: [...this.options.address.certificateHashes],
      load: { sessions, rooms: roomIds.length, elu: Math.round(this.elu() * 1000) / 1000, ...(feeds !== undefined ? { feeds } : {}) },
      draining: this.draining, startedAt: this.startedAt, updatedAt: Math.round(this.scheduler.now()),
    };
  }

  /** One heartbeat; `strict` rethrows a failure (start, setDraining) instead of only counting it. */
  private async beat(strict: boolean): Promise<void> {
    if (this.inFlight) await this.inFlight.catch(() => {});
    const attempt = (async () => {
      const record = this.record();
      const load = this.options.load();
      const rooms = load.rooms
        ? load.rooms.slice(0, NODE_ROOM_IDS_LIMIT).map((r) => [r.id, r.players, r.maxPlayers, r.spectators, r.maxSpectators])
        : load.roomIds.slice(0, NODE_ROOM_IDS_LIMIT);
      const reply = await this.redis.run(HEARTBEAT, [this.keys.nodes, this.keys.nodeRooms],
        [MAX_CLUSTER_NODES, this.nodeId, JSON.stringify(record), this.ttlMs, JSON.stringify(rooms)]);
      this.lastNodes = this.parse(reply);
      this.pending.clear();
      this.lastOkAt = this.scheduler.now();
      this.stats.heartbeats++;
    })();
    this.inFlight = attempt;
    try {
      await attempt;
    } catch (error) {
      this.stats.failures++;
      if (strict || !(isRedisUnavailable(error) || error instanceof RedisReplyError)) throw error;
    } finally {
      if (this.inFlight === attempt) this.inFlight = null;
      this.scheduleNext();
    }
  }

  private scheduleNext(): void {
    this.timer?.cancel();
    if (!this.running) return;
    this.timer = this.scheduler.after(this.heartbeatMs, () => {
      this.timer = null;
      void this.beat(false).catch(() => {});
    });
  }

  private parse(reply: unknown): NodeRecord[] {
    if (!Array.isArray(reply)) throw new RedisReplyError('unexpected registry reply');
    const nodes: NodeRecord[] = [];
    for (const value of reply.slice(1, 1 + MAX_CLUSTER_NODES)) {
      const record = typeof value === 'string' ? decodeNodeRecord(value.slice(value.indexOf(' ') + 1)) : null;
      if (record) nodes.push(record);
      else this.stats.malformed++;
    }
    return nodes.sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  }
}
