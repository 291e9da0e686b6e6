/**
 * The read-only feeds' data sources in cluster mode (docs/cluster.md "Read-only feeds on a
 * cluster"): the same three interfaces as the single node's (server/feeds/types.ts), read from
 * Redis, so any node serves the lobby, any room's chat and the status of every node.
 *
 * Budget: the directory (every live node's record and its rooms) is read in one round trip, at
 * most once per `pollMs` per node however many lobby streams, status streams, JSON requests and
 * chat feeds ask: one cached snapshot, one read in flight. A room's chat is one subscription per
 * node (the chat fan-out's, shared by every reader through server/http/feeds/chat-feed.ts).
 */
import type { Scheduler } from '../clock.js';
import type { ChatMessage } from '../chat/types.js';
import type {
  ChatRead, ChatSource, NodeStatus, RoomChange, RoomListSource, RoomSummary, ServerStatus, StatusSource,
} from '../feeds/types.js';
import { RoomListWatch } from '../feeds/room-list-watch.js';
import type { RedisChatFanout } from './chat-fanout.js';
import { CHAT_READ_LIMIT } from './chat-stream.js';
import { NODE_HEARTBEAT_MS, NODE_TTL_MS, type NodeRecord, type NodeRegistry, type RoomEntry } from './node-registry.js';

/**
 * How often a node reads the cluster's directory for its feeds: nodes publish once a heartbeat,
 * so reading more often shows nothing new.
 */
export const CLUSTER_FEED_POLL_MS = NODE_HEARTBEAT_MS;
/** Rooms the cluster-wide lobby lists at most; past it the rest are left out and counted. */
export const CLUSTER_ROOM_LIST_LIMIT = 10_000;
/**
 * A room no live node lists stays in the lobby this long before it is reported removed: in a
 * drain handoff the old owner stops listing it a heartbeat or two before the new owner starts,
 * and its chat readers must not be told the room closed.
 */
export const CLUSTER_ROOM_GONE_GRACE_MS = NODE_TTL_MS;

/** One read of the directory, shaped for the feeds. */
export interface DirectorySnapshot {
  /** Server time of the read. */
  at: number;
  nodes: NodeRecord[];
  /** Node id -> its rooms as published. */
  roomsByNode: Map<string, RoomEntry[]>;
  /** Every room (within the grace of CLUSTER_ROOM_GONE_GRACE_MS), by id order. */
  rooms: RoomSummary[];
  byId: Map<string, RoomSummary>;
}

export interface ClusterFeedSourcesOptions {
  registry: NodeRegistry;
  chat: RedisChatFanout;
  scheduler: Scheduler;
  /** This node's open feeds and draining flag (fresher than its published record). */
  local: { nodeId: string; feeds(): number; draining(): boolean };
  pollMs?: number;
  /** Default CLUSTER_ROOM_LIST_LIMIT. */
  roomListLimit?: number;
}

export interface ClusterFeedStats {
  /** Directory round trips made. */
  directoryReads: number;
  /** Directory reads that failed (Redis away). */
  directoryFailures: number;
  /** Rooms left out of a snapshot past the room list limit. */
  roomsOverLimit: number;
}

/** The three sources over one shared directory poll. */
export class ClusterFeedSources {
  readonly directory: RoomListSource;
  readonly chat: ChatSource;
  readonly status: StatusSource;
  readonly stats: ClusterFeedStats = { directoryReads: 0, directoryFailures: 0, roomsOverLimit: 0 };
  private readonly pollMs: number;
  private readonly limit: number;
  private cached: DirectorySnapshot | null = null;
  private inFlight: Promise<DirectorySnapshot> | null = null;
  /** Rooms seen in recent reads: what the grace keeps listed. At most `limit` entries. */
  private readonly lastSeen = new Map<string, { room: RoomSummary; at: number }>();

  constructor(private readonly options: ClusterFeedSourcesOptions) {
    this.pollMs = options.pollMs ?? CLUSTER_FEED_POLL_MS;
    this.limit = options.roomListLimit ?? CLUSTER_ROOM_LIST_LIMIT;
    this.directory = new ClusterRoomList(this, options.scheduler, this.pollMs);
    this.chat = new ClusterChat(this, options.chat);
    this.status = { status: () => this.statusNow() };
  }

  /**
   * The directory as of at most `pollMs` ago: the cached snapshot, or the one read in flight, or
   * a new read. Rejects when Redis does not answer (callers answer 503).
   */
  snapshot(): Promise<DirectorySnapshot> {
    const now = this.options.scheduler.now();
    if (this.cached && now - this.cached.at < this.pollMs) return Promise.resolve(this.cached);
    if (this.inFlight) return this.inFlight;
    this.stats.directoryReads++;
    const read = this.options.registry.directory().then((d) => {
      const snapshot = this.shape(d.nodes, d.rooms, this.options.scheduler.now());
      this.cached = snapshot;
      return snapshot;
    }, (error: unknown) => {
      this.stats.directoryFailures++;
      throw error;
    }).finally(() => {
      if (this.inFlight === read) this.inFlight = null;
    });
    this.inFlight = read;
    return read;
  }

  private shape(nodes: NodeRecord[], roomsByNode: Map<string, RoomEntry[]>, at: number): DirectorySnapshot {
    const byId = new Map<string, RoomSummary>();
    const updatedAt = new Map<string, number>();
    let over = 0;
    for (const node of nodes) {
      for (const r of roomsByNode.get(node.nodeId) ?? []) {
        // During a handoff both nodes may list a room for a heartbeat: the newer record wins.
        const seen = updatedAt.get(r.id);
        if (seen !== undefined && seen >= node.updatedAt) continue;
        if (seen === undefined && byId.size >= this.limit) {
          over++;
          continue;
        }
        byId.set(r.id, { id: r.id, players: r.players, maxPlayers: r.maxPlayers, spectators: r.spectators, maxSpectators: r.maxSpectators, node: node.nodeId });
        updatedAt.set(r.id, node.updatedAt);
      }
    }
    this.stats.roomsOverLimit += over;
    for (const [id, room] of byId) this.lastSeen.set(id, { room, at });
    for (const [id, seen] of this.lastSeen) {
      if (byId.has(id)) continue;
      if (at - seen.at >= CLUSTER_ROOM_GONE_GRACE_MS) this.lastSeen.delete(id);
      else if (byId.size < this.limit) byId.set(id, seen.room);
    }
    const rooms = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { at, nodes, roomsByNode, rooms, byId };
  }

  private async statusNow(): Promise<ServerStatus> {
    const snap = await this.snapshot();
    const local = this.options.local;
    const nodes: NodeStatus[] = snap.nodes.map((n) => {
      const rooms = snap.roomsByNode.get(n.nodeId) ?? [];
      const self = n.nodeId === local.nodeId;
      return {
        id: n.nodeId,
        draining: n.draining || (self && local.draining()),
        rooms: n.load.rooms,
        sessions: n.load.sessions,
        spectators: rooms.reduce((sum, r) => sum + r.spectators, 0),
        feeds: self ? local.feeds() : n.load.feeds ?? 0,
        httpUrl: n.httpUrl,
        webSocketUrl: n.webSocketUrl,
        webTransportUrl: n.webTransportUrl,
        roomIds: rooms.map((r) => r.id),
        elu: n.load.elu,
        startedAt: n.startedAt,
        updatedAt: n.updatedAt,
      };
    });
    const sum = (f: (n: NodeStatus) => number) => nodes.reduce((s, n) => s + f(n), 0);
    return {
      node: local.nodeId,
      nodes,
      rooms: sum((n) => n.rooms),
      sessions: sum((n) => n.sessions),
      spectators: sum((n) => n.spectators),
      draining: local.draining(),
      t: Math.round(this.options.scheduler.now()),
    };
  }
}

/** The lobby: the snapshot's rooms; changes found by comparing snapshots once per poll period. */
class ClusterRoomList implements RoomListSource {
  private readonly watch: RoomListWatch;

  constructor(private readonly sources: ClusterFeedSources, scheduler: Scheduler, pollMs: number) {
    // The first read is the baseline (streams send the full list themselves); Redis away means
    // no changes that period, and the next read catches up.
    this.watch = new RoomListWatch({ scheduler, pollMs, baseline: 'first-poll', read: async () => (await this.sources.snapshot()).byId });
  }

  async list(): Promise<RoomSummary[]> {
    return (await this.sources.snapshot()).rooms;
  }

  async get(roomId: string): Promise<RoomSummary | undefined> {
    return (await this.sources.snapshot()).byId.get(roomId);
  }

  subscribe(listener: (changes: RoomChange[]) => void): () => void {
    return this.watch.subscribe(listener);
  }
}

/**
 * A room's chat from its Redis stream (history) and the chat fan-out (live lines, with their
 * epoch): readable on any node. A room is open when the directory lists it.
 */
class ClusterChat implements ChatSource {
  constructor(private readonly sources: ClusterFeedSources, private readonly fanout: RedisChatFanout) {}

  async read(roomId: string, afterId: number, limit: number): Promise<ChatRead | null> {
    if (!(await this.sources.snapshot()).byId.has(roomId)) return null;
    // CHAT_READ_LIMIT caps one read whatever the caller asks.
    const r = await this.fanout.stream.read(roomId, afterId, Math.min(limit, CHAT_READ_LIMIT));
    const complete = r.complete && r.messages.length <= limit;
    return { epoch: r.epoch ?? '', top: r.top, messages: r.messages, complete };
  }

  subscribe(roomId: string, deliver: (message: ChatMessage, epoch: string) => void): () => void {
    // Throws past MAX_CHAT_FEEDS rooms followed by this node: the feed answers 503.
    return this.fanout.follow(roomId, null, deliver);
  }
}
