/**
 * The data behind the read-only feeds (lobby, chat followers, status; docs/server.md "Read-only
 * feeds"): three narrow interfaces, so that any node can serve them from whatever holds the
 * truth. On a single node they read this process's rooms (`local-sources.ts`); in cluster mode
 * Redis-backed implementations (the node registry, the chat streams) plug into the same three.
 * Nothing here knows HTTP; `server/http/feeds/` turns them into SSE and long polling.
 */
import type { RoomSummary } from '../../shared/room-summary.js';
import type { ChatMessage } from '../chat/types.js';

/** One room as the lobby lists it (defined in shared/: the lobby page reads the same body). */
export type { RoomSummary };

/** What changed in the room list since the last change event. */
export type RoomChange =
  | { kind: 'added'; room: RoomSummary }
  | { kind: 'updated'; room: RoomSummary }
  | { kind: 'removed'; id: string };

/** The rooms open anywhere this node can see. */
export interface RoomListSource {
  /** Every open room, by id order. */
  list(): Promise<RoomSummary[]>;
  /** One open room; undefined when it is not open anywhere. */
  get(roomId: string): Promise<RoomSummary | undefined>;
  /**
   * Changes from now on, in order. An implementation may batch or delay them (the single-node
   * one compares the list every `ROOM_LIST_POLL_MS`); the feeds coalesce further. Returns
   * the unsubscribe function.
   */
  subscribe(listener: (changes: RoomChange[]) => void): () => void;
}

/** Lines of one room's chat after some id. */
export interface ChatRead {
  /**
   * Names the history the ids belong to. It changes when a room's history was lost and started
   * again (a room recreated with fresh ids; in cluster mode a Redis stream recreated), and ids
   * of another epoch mean nothing in this one.
   */
  epoch: string;
  /** Newest chat id of the room (0: no line yet). */
  top: number;
  /** Lines after the requested id, oldest first; at most the requested limit (the newest ones). */
  messages: ChatMessage[];
  /** True when `messages` are every line after the requested id (none was trimmed away or cut by the limit). */
  complete: boolean;
}

/**
 * A room's chat for readers: history by id and the live lines. Chat ids are per room,
 * consecutive from 1 within an epoch (server/chat/chat-room.ts), so "after id N" is exact.
 */
export interface ChatSource {
  /** The newest `limit` lines after `afterId`; null when the room is not open. */
  read(roomId: string, afterId: number, limit: number): Promise<ChatRead | null>;
  /**
   * Every line accepted from now on, each once and in id order (the `ChatFanout` contract),
   * with the epoch it belongs to. Returns the unsubscribe function.
   */
  subscribe(roomId: string, deliver: (message: ChatMessage, epoch: string) => void): () => void;
}

/** One server process as the status page shows it. */
export interface NodeStatus {
  /** Node id (`local` on a single node). */
  id: string;
  draining: boolean;
  rooms: number;
  /** Player sessions with a live connection. */
  sessions: number;
  spectators: number;
  /** Open feed streams and long polls on that node. */
  feeds: number;
  // Cluster mode adds what the node registry knows of each node (docs/cluster.md "Status"):
  /** Public base URL of the node's HTTP server. */
  httpUrl?: string;
  webSocketUrl?: string;
  webTransportUrl?: string | null;
  /** Ids of the rooms it runs (at most NODE_ROOM_IDS_LIMIT). */
  roomIds?: string[];
  /** Event-loop utilisation over its last heartbeat, 0..1. */
  elu?: number;
  /** Its clock (ms) when it started and when it last published its record. */
  startedAt?: number;
  updatedAt?: number;
}

/** The status page: every node and the totals. */
export interface ServerStatus {
  /** The node answering (cluster mode). */
  node?: string;
  nodes: NodeStatus[];
  rooms: number;
  sessions: number;
  spectators: number;
  /** True when the node answering is draining. */
  draining: boolean;
  /** Server time (ms since the epoch) of this answer. */
  t: number;
}

/** Where `GET /api/status` comes from: this process alone, or the node registry in cluster mode. */
export interface StatusSource {
  status(): Promise<ServerStatus>;
}
