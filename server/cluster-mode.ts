/**
 * Cluster mode (docs/cluster.md): what `createGameServer({ cluster })` adds to a server once it
 * listens. Imported dynamically by server/index.ts, and only when `cluster` is set, so a single
 * server never loads node-redis or anything of server/cluster/.
 *
 * It joins the cluster (ClusterNode: Redis, registry, leases, chat streams, checkpoints, seats,
 * admission), puts a ClusterRoomManager behind the server's room manager, gives the session
 * layer its cluster hooks (hello admission, the shared single-use ticket registry, restored
 * seats, rooms lost), and answers the HTTP questions only a cluster has: connect-info for a
 * room (routed to its owner, the seat reserved), the status of every node, the drain handoff.
 */
import { ErrorCode, errorInfo } from '../shared/errors.js';
import { PROTOCOL_VERSION } from '../shared/messages.js';
import type { Scheduler } from './clock.js';
import { ClusterNode, type ClusterOptions } from './cluster/cluster-node.js';
import { ClusterFeedSources } from './cluster/feed-sources.js';
import type { NodeRecord } from './cluster/node-registry.js';
import { isRedisUnavailable } from './cluster/redis.js';
import { ROUTE_RETRY_MS } from './cluster/router.js';
import type { HttpAnswer } from './http/app.js';
import type { GameMetrics } from './metrics.js';
import { ClusterRoomManager, type HandoffTarget } from './rooms/cluster-room-manager.js';
import { roomMaxPlayers } from './rooms/room.js';
import type { DeferredRoomManager } from './rooms/deferred-room-manager.js';
import type { RoomDefinition } from './rooms/types.js';
import type { DrainTarget } from './session/player-session.js';
import type { SessionManager } from './session/session-manager.js';
import { verifyTicket } from './session/tickets.js';

/** Other live nodes a connect-info answer names as further entry points (client fallbacks). */
export const CONNECT_INFO_ALTERNATES = 4;

/** `createGameServer({ cluster })` (docs/cluster.md, "Options"). */
export interface GameServerClusterOptions extends ClusterOptions {
  /** Base URL clients reach this node's HTTP at (default: the bound address). */
  publicHttpUrl?: string;
  /** This node's WebTransport URL as clients reach it (default: the bound one; null: none). */
  publicWebTransportUrl?: string | null;
  /** This node's WebSocket URL (default: publicHttpUrl with ws(s):// and `/ws`). */
  publicWebSocketUrl?: string;
}

export interface ClusterModeArgs {
  options: GameServerClusterOptions;
  /** What listen() bound: defaults of the public URLs, and the certificate hashes. */
  bound: { httpUrl: string; webTransportUrl: string | null; webSocketPath: string; certificateHashes: string[] };
  ticketSecret: string | Uint8Array;
  scheduler: Scheduler;
  metrics: GameMetrics;
  sessions: SessionManager;
  /** The server's room manager, which from now on forwards to the cluster's. */
  deferred: DeferredRoomManager;
  /** This node's open feed streams and polls, and whether it drains (for the status). */
  local: { feeds(): number; draining(): boolean };
  /** How often the feeds read the cluster's directory (CLUSTER_FEED_POLL_MS). */
  feedPollMs?: number;
  rooms: {
    definitions?: Record<string, RoomDefinition>;
    defaultDefinition: RoomDefinition | null;
    tickHz?: number;
    snapshotHz?: number;
    seed?: number;
    staggerSnapshots?: boolean;
  };
}

/** A server's membership of the cluster (`GameServer.cluster`). */
export interface ClusterMode {
  readonly nodeId: string;
  /** The building blocks (Redis, registry, leases, chat, checkpoints...), for tools and tests. */
  readonly node: ClusterNode;
  readonly rooms: ClusterRoomManager;
  /** This node's public addresses as published in the registry. */
  readonly address: { httpUrl: string; webSocketUrl: string; webTransportUrl: string | null; certificateHashes: string[] };
  /**
   * `/api/connect-info` for a ticket (its room, its player's seat reserved) or a bare room id:
   * the owner node's URLs. Over the admission limit, or when the room cannot be placed: 503.
   */
  connectInfo(query: { ticket?: string; room?: string }): Promise<HttpAnswer>;
  /**
   * The read-only feeds' sources (lobby, chat, status) for the whole cluster, read from Redis
   * (server/cluster/feed-sources.ts).
   */
  readonly feeds: ClusterFeedSources;
  /** `/api/cluster` (an alias of the cluster-wide `/api/status`): every live node, its rooms and load. */
  status(): Promise<HttpAnswer>;
  /**
   * Drain: publish the draining flag, hand every room over; returns where each room went, for
   * the drain notices.
   */
  drain(): Promise<(roomId: string) => DrainTarget | null>;
  /** Leave the cluster: rooms saved and released (graceful), or abandoned like a crash. */
  stop(options?: { graceful?: boolean }): Promise<void>;
}

export async function startClusterMode(args: ClusterModeArgs): Promise<ClusterMode> {
  const { options, bound, scheduler, metrics, sessions } = args;
  const httpUrl = trimSlash(options.publicHttpUrl ?? bound.httpUrl);
  if (/^[a-z]+:\/\/(0\.0\.0\.0|\[::\])(:|\/|$)/.test(httpUrl)) {
    throw new RangeError('cluster: bound to a wildcard address, so set cluster.publicHttpUrl (and publicWebTransportUrl) to addresses clients can reach');
  }
  const webSocketUrl = options.publicWebSocketUrl ?? toWebSocketUrl(httpUrl, bound.webSocketPath);
  const webTransportUrl = options.publicWebTransportUrl === undefined ? bound.webTransportUrl : options.publicWebTransportUrl;
  const address = { httpUrl, webSocketUrl, webTransportUrl, certificateHashes: [...bound.certificateHashes] };
  let rooms: ClusterRoomManager | null = null;
  const node = await ClusterNode.start(options, {
    address,
    scheduler,
    load: () => {
      const entries = rooms?.runningEntries() ?? [];
      return { sessions: sessions.activeCount, roomIds: entries.map((r) => r.id), rooms: entries, feeds: args.local.feeds() };
    },
    onChatWriterLost: (roomId, reason) => rooms?.chatWriterLost(roomId, reason),
  });
  rooms = new ClusterRoomManager({
    node,
    scheduler,
    metrics,
    rooms: args.rooms.definitions,
    defaultDefinition: args.rooms.defaultDefinition,
    tickHz: args.rooms.tickHz,
    snapshotHz: args.rooms.snapshotHz,
    seed: args.rooms.seed,
    staggerSnapshots: args.rooms.staggerSnapshots,
    checkpointIntervalMs: options.checkpointIntervalMs,
    hooks: {
      restored: (room, seats, watchers) => sessions.restoreSeats(
        room, seats.map((seat) => ({ seat, resumeTokenHash: seat.resumeTokenHash, lastChatSeq: seat.lastChatSeq ?? 0 })), watchers),
      lost: (roomId, retryAfterMs) => sessions.endRoom(roomId, ErrorCode.CLUSTER_UNAVAILABLE, retryAfterMs),
      tokenHash: (roomId, playerId, spectator) => sessions.tokenHashOf(roomId, playerId, spectator),
      lastChatSeq: (roomId, playerId) => sessions.lastChatSeqOf(roomId, playerId),
    },
  });
  const clusterRooms = rooms;
  sessions.useCluster({
    nodeId: node.nodeId,
    admitHello: () => node.admission.admit('hello', scheduler.now()),
    ticketUses: node.tickets,
  });
  args.deferred.attach(clusterRooms);

  const refusal = (status: number, code: number, retryAfterMs?: number, extra: Record<string, unknown> = {}): HttpAnswer => ({
    status,
    body: { error: errorInfo(code)?.description ?? 'refused', code, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), ...extra },
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });

  /** The connect-info body naming `target` (this node or another). */
  const answer = (target: { nodeId: string; httpUrl: string; webSocketUrl: string; webTransportUrl: string | null; certificateHashes: string[] }, roomId: string | null): HttpAnswer => {
    // A few other live nodes, so a client whose entry point dies can still ask someone.
    const alternates = node.registry.nodes()
      .filter((n) => !n.draining && n.nodeId !== target.nodeId)
      .slice(0, CONNECT_INFO_ALTERNATES)
      .map((n) => n.httpUrl);
    return {
      status: 200,
      body: {
        protocolVersion: PROTOCOL_VERSION,
        webTransportUrl: target.webTransportUrl,
        certificateHashes: target.certificateHashes,
        webSocketPath: bound.webSocketPath,
        webSocketUrl: target.webSocketUrl,
        httpUrl: target.httpUrl,
        nodeId: target.nodeId,
        ...(roomId ? { roomId } : {}),
        alternates,
      },
    };
  };
  const self = { nodeId: node.nodeId, ...address };
  const feeds = new ClusterFeedSources({
    registry: node.registry, chat: node.chat, scheduler, pollMs: args.feedPollMs,
    local: { nodeId: node.nodeId, feeds: args.local.feeds, draining: () => node.registry.isDraining || args.local.draining() },
  });

  const mode: ClusterMode = {
    nodeId: node.nodeId,
    node,
    rooms: clusterRooms,
    address,
    feeds,

    async connectInfo(query) {
      const admitted = node.admission.admit('connectInfo', scheduler.now());
      if (!admitted.ok) {
        metrics.refuse('http', 'connect_info_busy');
        return refusal(503, ErrorCode.SERVER_BUSY, admitted.retryAfterMs);
      }
      let roomId: string;
      let playerId: string | null = null;
      if (query.ticket !== undefined) {
        const verified = verifyTicket(args.ticketSecret, query.ticket, scheduler.now());
        if (!verified.ok) {
          metrics.refuse('http', 'connect_info_ticket');
          return refusal(verified.code === ErrorCode.TICKET_EXPIRED ? 401 : 403, verified.code);
        }
        roomId = verified.claims.room;
        // Spectators take no player seat (docs/server.md "Spectators"): nothing to reserve.
        playerId = verified.claims.role === 'spectator' ? null : verified.claims.playerId;
      } else if (query.room !== undefined) {
        roomId = query.room;
      } else {
        return answer(self, null); // no room named: this node itself
      }
      const definition = clusterRooms.definition(roomId);
      if (!definition) {
        metrics.refuse('http', 'connect_info_unknown_room');
        return refusal(404, ErrorCode.UNKNOWN_ROOM);
      }
      // A room running here is answered without Redis: resumes keep working in an outage.
      let target: typeof self | NodeRecord;
      if (clusterRooms.runsRoom(roomId)) {
        target = self;
      } else {
        const route = await node.router.route(roomId);
        if (route.kind === 'unavailable') {
          metrics.refuse('http', `connect_info_${route.reason.replace(/-/g, '_')}`);
          return refusal(503, ErrorCode.CLUSTER_UNAVAILABLE, route.retryAfterMs, { reason: route.reason });
        }
        target = route.node;
      }
      if (playerId !== null) {
        // The seat, for this player, for a short while: a full room says so before the client connects.
        const seat = await node.seats.reserve(roomId, playerId, roomMaxPlayers(definition));
        if (!seat.ok && seat.reason === 'full') {
          metrics.refuse('http', 'connect_info_room_full');
          return refusal(409, ErrorCode.ROOM_FULL);
        }
        // Redis away after all: the answer still stands for a room running here (a resume).
        if (!seat.ok && target !== self) return refusal(503, ErrorCode.CLUSTER_UNAVAILABLE, ROUTE_RETRY_MS, { reason: 'redis' });
      }
      return answer(target, roomId);
    },

    async status() {
      try {
        return { status: 200, body: { ...(await feeds.status.status()) } };
      } catch (error) {
        if (!isRedisUnavailable(error)) throw error;
        metrics.refuse('http', 'cluster_status_unavailable');
        return refusal(503, ErrorCode.CLUSTER_UNAVAILABLE, ROUTE_RETRY_MS, { reason: 'redis' });
      }
    },

    async drain() {
      await node.setDraining(true).catch(() => {}); // Redis away: the rooms simply expire
      const targets = await clusterRooms.drainAll();
      return (roomId: string): DrainTarget | null => targets.get(roomId) ?? null;
    },

    async stop(stopOptions = {}) {
      if (stopOptions.graceful !== false) await clusterRooms.shutdown();
      else clusterRooms.close();
      await node.stop(stopOptions);
    },
  };
  return mode;
}

/** `ws(s)://host[:port]<path>` for an `http(s)://host[:port]` base. */
function toWebSocketUrl(httpUrl: string, path: string): string {
  const url = new URL(path, `${httpUrl}/`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

function trimSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

export type { HandoffTarget, HttpAnswer };
