import type { Scheduler, Timer } from '../clock.js';
import type { GameMetrics } from '../metrics.js';
import type { ChatFanout } from '../chat/fanout.js';
import { Room } from './room.js';
import type { RoomDefinition } from './types.js';

/** An empty room lingers this long before it is closed (a quick rejoin keeps its chat history). */
export const EMPTY_ROOM_LINGER_MS = 30_000;
/** Open rooms per process; more are refused as UNKNOWN_ROOM rather than exhausting memory. */
export const MAX_ROOMS = 1_000;
/** Room ids are short printable names. */
export const ROOM_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export type RoomLookup = { kind: 'local'; room: Room } | { kind: 'unknown' };

/**
 * Where rooms live. Async on purpose: a Redis-backed manager (a directory of which process owns
 * which room) answers after a round trip, and may one day answer "remote" with an address.
 */
export interface RoomManager {
  /** The room with this id, created on first use when a definition matches. */
  acquire(roomId: string): Promise<RoomLookup>;
  /** A player left `roomId`; an empty room may be closed. */
  release(roomId: string): void;
  get(roomId: string): Room | undefined;
  list(): Room[];
  close(): void;
}

export interface InProcessRoomManagerOptions {
  scheduler: Scheduler;
  fanout: ChatFanout;
  metrics?: GameMetrics;
  /** Definitions by room id. */
  rooms?: Record<string, RoomDefinition>;
  /** For ids not in `rooms`; null means such ids are unknown rooms. */
  defaultDefinition: RoomDefinition | null;
  tickHz?: number;
  snapshotHz?: number;
  emptyRoomLingerMs?: number;
  /** See RoomOptions.staggerSnapshots (default true). */
  staggerSnapshots?: boolean;
  maxRooms?: number;
  seed?: number;
}

/** Rooms in this process, created on demand. */
export class InProcessRoomManager implements RoomManager {
  private readonly rooms = new Map<string, Room>();
  private readonly lingering = new Map<string, Timer>();
  private closed = false;

  constructor(private readonly options: InProcessRoomManagerOptions) {}

  async acquire(roomId: string): Promise<RoomLookup> {
    return this.acquireSync(roomId);
  }

  /** Synchronous form for in-process callers. */
  acquireSync(roomId: string): RoomLookup {
    if (this.closed || !ROOM_ID_PATTERN.test(roomId)) return { kind: 'unknown' };
    const existing = this.rooms.get(roomId);
    if (existing) {
      this.lingering.get(roomId)?.cancel();
      this.lingering.delete(roomId);
      return { kind: 'local', room: existing };
    }
    const definition = Object.hasOwn(this.options.rooms ?? {}, roomId) ? this.options.rooms![roomId] : this.options.defaultDefinition;
    if (!definition || this.rooms.size >= (this.options.maxRooms ?? MAX_ROOMS)) return { kind: 'unknown' };
    const room = new Room({
      id: roomId,
      definition,
      scheduler: this.options.scheduler,
      fanout: this.options.fanout,
      metrics: this.options.metrics,
      tickHz: this.options.tickHz,
      snapshotHz: this.options.snapshotHz,
      seed: this.options.seed,
      staggerSnapshots: this.options.staggerSnapshots,
    });
    this.rooms.set(roomId, room);
    this.options.metrics?.rooms.set(this.rooms.size);
    return { kind: 'local', room };
  }

  release(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room || room.playerCount > 0 || this.lingering.has(roomId)) return;
    const timer = this.options.scheduler.after(this.options.emptyRoomLingerMs ?? EMPTY_ROOM_LINGER_MS, () => {
      this.lingering.delete(roomId);
      if (room.playerCount > 0) return;
      room.close();
      this.rooms.delete(roomId);
      this.options.metrics?.rooms.set(this.rooms.size);
    });
    this.lingering.set(roomId, timer);
  }

  get(roomId: string): Room | undefined {
    return this.rooms.get(roomId);
  }

  list(): Room[] {
    return [...this.rooms.values()];
  }

  close(): void {
    this.closed = true;
    for (const t of this.lingering.values()) t.cancel();
    this.lingering.clear();
    for (const room of this.rooms.values()) room.close();
    this.rooms.clear();
    this.options.metrics?.rooms.set(0);
  }
}
