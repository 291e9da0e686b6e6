/**
 * The single-node data sources of the read-only feeds: this process's rooms, their chat, this
 * process's status. Cluster mode replaces them with Redis-backed implementations of the same
 * interfaces (server/feeds/types.ts; docs/server.md "Read-only feeds").
 */
import type { Scheduler } from '../clock.js';
import type { ChatFanout } from '../chat/fanout.js';
import type { ChatHistory } from '../chat/history.js';
import type { ChatMessage } from '../chat/types.js';
import type {
  ChatRead, ChatSource, NodeStatus, RoomChange, RoomListSource, RoomSummary, ServerStatus, StatusSource,
} from './types.js';
import { RoomListWatch } from './room-list-watch.js';

/**
 * How often the single-node directory compares the room list while someone listens. Rooms do
 * not announce player counts, and comparing at most MAX_ROOMS entries four times a second costs
 * nothing; it also batches a burst of joins into one change per room.
 */
export const ROOM_LIST_POLL_MS = 250;
/** The single node's one chat epoch (see LocalChatSource). */
export const LOCAL_CHAT_EPOCH = 'local';

/** What the local sources read of a room (server/rooms/room.ts `Room` has all of it). */
export interface LocalRoom {
  readonly id: string;
  readonly playerCount: number;
  readonly maxPlayers: number;
  /** Absent on rooms without spectators. */
  readonly spectatorCount?: number;
  readonly maxSpectators?: number;
  readonly isClosed: boolean;
  readonly chat: { readonly history: ChatHistory; readonly lastId: number };
}

/** What the local sources read of the room manager (`RoomManager` has both). */
export interface LocalRooms {
  get(roomId: string): LocalRoom | undefined;
  list(): LocalRoom[];
}

function summary(room: LocalRoom): RoomSummary {
  return {
    id: room.id,
    players: room.playerCount,
    maxPlayers: room.maxPlayers,
    spectators: room.spectatorCount ?? 0,
    maxSpectators: room.maxSpectators ?? 0,
    node: null,
  };
}

/** This process's open rooms; changes found by comparing the list every ROOM_LIST_POLL_MS. */
export class LocalRoomListSource implements RoomListSource {
  private readonly watch: RoomListWatch;

  constructor(
    private readonly rooms: LocalRooms,
    scheduler: Scheduler,
    pollMs = ROOM_LIST_POLL_MS,
  ) {
    this.watch = new RoomListWatch({
      scheduler, pollMs, baseline: 'subscribe', read: () => new Map(this.current().map((r) => [r.id, r])),
    });
  }

  private current(): RoomSummary[] {
    return this.rooms.list().filter((r) => !r.isClosed).map(summary).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async list(): Promise<RoomSummary[]> {
    return this.current();
  }

  async get(roomId: string): Promise<RoomSummary | undefined> {
    const room = this.rooms.get(roomId);
    return room && !room.isClosed ? summary(room) : undefined;
  }

  subscribe(listener: (changes: RoomChange[]) => void): () => void {
    return this.watch.subscribe(listener);
  }
}

/**
 * This process's chat: history from each room's ring (server/chat/history.ts), live lines from
 * the chat fan-out. One epoch: a room opened again continues its chat ids (the room manager
 * remembers them), so ids never mean two different lines in one process. A restarted process
 * numbers afresh; a reader whose id is then ahead of a room's newest is refused (409).
 */
export class LocalChatSource implements ChatSource {
  constructor(private readonly rooms: LocalRooms, private readonly fanout: ChatFanout) {}

  async read(roomId: string, afterId: number, limit: number): Promise<ChatRead | null> {
    const room = this.rooms.get(roomId);
    if (!room || room.isClosed) return null;
    const top = room.chat.lastId;
    const all = room.chat.history.since(afterId).messages;
    const messages = all.length > limit ? all.slice(all.length - limit) : all;
    // Ids are consecutive: the lines are complete when they are exactly afterId+1..top.
    const complete = afterId >= top || (messages.length === top - afterId && messages[0]?.id === afterId + 1);
    return { epoch: LOCAL_CHAT_EPOCH, top, messages, complete };
  }

  subscribe(roomId: string, deliver: (message: ChatMessage, epoch: string) => void): () => void {
    return this.fanout.subscribe(roomId, (m) => deliver(m, LOCAL_CHAT_EPOCH));
  }
}

/** What the local status reads of this process. */
export interface LocalStatusInputs {
  nodeId: string;
  scheduler: Scheduler;
  rooms: LocalRooms;
  draining(): boolean;
  /** Player sessions with a live connection. */
  sessions(): number;
  /** Open feed streams and long polls. */
  feeds(): number;
}

/** The status of this one process. */
export class LocalStatusSource implements StatusSource {
  constructor(private readonly inputs: LocalStatusInputs) {}

  async status(): Promise<ServerStatus> {
    const i = this.inputs;
    const rooms = i.rooms.list().filter((r) => !r.isClosed);
    const spectators = rooms.reduce((n, r) => n + (r.spectatorCount ?? 0), 0);
    const node: NodeStatus = {
      id: i.nodeId, draining: i.draining(), rooms: rooms.length, sessions: i.sessions(), spectators, feeds: i.feeds(),
    };
    return {
      nodes: [node], rooms: node.rooms, sessions: node.sessions, spectators, draining: node.draining, t: Math.round(i.scheduler.now()),
    };
  }
}
