/**
 * The Redis key layout of a tickwire cluster (docs/cluster.md, "Key layout").
 *
 * Every key carries a hash tag (the part in braces, Redis Cluster specification, "Hash tags"),
 * so all keys of one room hash to one slot and a script may touch them together on a Redis
 * Cluster: `tw:{room:<id>}:lease`, `tw:{room:<id>}:fence`, ... The node registry lives under
 * the `{cluster}` tag: it is small (one hash entry per node) and read as a whole.
 */

/** Default first segment of every key; several clusters can share one Redis with different ones. */
export const DEFAULT_KEY_PREFIX = 'tw';

/** Room ids (the same rule as server/rooms/room-manager.ts): no braces, so the hash tag is intact. */
const ROOM_ID = /^[A-Za-z0-9_.-]{1,64}$/;
/** Node ids: short printable names, e.g. `node-a` or a host name. */
export const NODE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** Key prefixes: no braces or spaces, so they cannot change a key's hash tag. */
const PREFIX = /^[A-Za-z0-9_.:-]{1,32}$/;

/** Names of every key and channel a cluster uses, under one prefix. */
export class ClusterKeys {
  constructor(readonly prefix: string = DEFAULT_KEY_PREFIX) {
    if (!PREFIX.test(prefix)) throw new RangeError(`key prefix must match ${PREFIX}`);
  }

  /** Hash: node id -> `<expiresAtMs> <NodeRecord JSON>` (server/cluster/node-registry.ts). */
  get nodes(): string {
    return `${this.prefix}:{cluster}:nodes`;
  }

  /** Hash: node id -> `<expiresAtMs> <room ids JSON>`, for /api/status; pruned with `nodes`. */
  get nodeRooms(): string {
    return `${this.prefix}:{cluster}:node-rooms`;
  }

  /** String `<id>:<bornMs>`: when this Redis data set was created (lease.ts, "incarnation"). */
  get incarnation(): string {
    return `${this.prefix}:{cluster}:incarnation`;
  }

  /** String `<token>:<nodeId>` with a TTL: the room's ownership lease. */
  lease(roomId: string): string {
    return this.room(roomId, 'lease');
  }

  /** String: the newest fencing token issued for the room (no TTL; only ever grows). */
  fence(roomId: string): string {
    return this.room(roomId, 'fence');
  }

  /** String node id with a TTL: the node the room is placed on or handed over to next. */
  target(roomId: string): string {
    return this.room(roomId, 'target');
  }

  /** Stream of chat lines, entry id `<chatId>-0` (chat-stream.ts). */
  chat(roomId: string): string {
    return this.room(roomId, 'chat');
  }

  /** Hash `{ epoch, top }` beside the chat stream. */
  chatMeta(roomId: string): string {
    return this.room(roomId, 'chat-meta');
  }

  /** Sharded pub/sub channel announcing newly stored chat lines. */
  chatChannel(roomId: string): string {
    return this.room(roomId, 'chat-live');
  }

  /** String: the newest room checkpoint (checkpoint.ts), msgpack. */
  checkpoint(roomId: string): string {
    return this.room(roomId, 'checkpoint');
  }

  private room(roomId: string, what: string): string {
    if (!ROOM_ID.test(roomId)) throw new RangeError(`invalid room id ${JSON.stringify(roomId)}`);
    return `${this.prefix}:{room:${roomId}}:${what}`;
  }
}

/** True for a usable node id. */
export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID_PATTERN.test(value);
}
