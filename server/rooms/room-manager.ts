import type { Scheduler, Timer } from '../clock.js';
import type { GameMetrics } from '../metrics.js';
import type { ChatFanout } from '../chat/fanout.js';
import { Room } from './room.js';
import type { RoomDefinition } from './types.js';

/**
 * An empty room lingers this long before it is closed (a quick rejoin keeps its chat history),
 * unless a new room needs its slot first (MAX_ROOMS).
 */
export const EMPTY_ROOM_LINGER_MS = 30_000;
/**
 * Open rooms per process. At the cap a new room takes the slot of the room that has been empty
 * the longest; when every room has players, the join is refused as busy (SERVER_BUSY with
 * ROOM_CAP_RETRY_AFTER_MS) rather than exhausting memory.
 */
export const MAX_ROOMS = 1_000;
/** `retryAfterMs` of a join refused because every room slot holds players. */
export const ROOM_CAP_RETRY_AFTER_MS = 5_000;
/** Room ids are short printable names. */
export const ROOM_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * What `acquire` found: the room, in this process; no such room (no definition, bad id); or no
 * capacity for it now (the room cap), worth retrying after `retryAfterMs`.
 */
export type RoomLookup = { kind: 'local'; room: Room } | { kind: 'unknown' } | { kind: 'busy'; retryAfterMs: number };

/**
 * Where rooms live. Async on purpose: a Redis-backed manager (a directory of which process owns
 * which room) answers after a round trip, and may one day answer "remote" with an address.
 */
export interface RoomManager {
  /**
   * The room with this id, created on first use when a definition matches. A 'local' answer is
   * a hold on the room (it is not closed under the caller) until the matching `release`.
   */
  acquire(roomId: string): Promise<RoomLookup>;
  /** Gives back one hold from `acquire` (a player left, or its join failed); an empty room may be closed. */
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
  /** Holds (acquire minus release) per room; a room without holds and players may be closed. */
  private readonly holds = new Map<string, number>();
  /** Empty rooms waiting to close, oldest first (the first to give up its slot at the cap). */
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
      this.hold(roomId, 1);
      return { kind: 'local', room: existing };
    }
    const definition = Object.hasOwn(this.options.rooms ?? {}, roomId) ? this.options.rooms![roomId] : this.options.defaultDefinition;
    if (!definition) return { kind: 'unknown' };
    if (this.rooms.size >= (this.options.maxRooms ?? MAX_ROOMS)) {
      // The cap: the room empty the longest gives up its slot at once, without waiting out its
      // linger; with none empty, the join is told to come back later.
      const [oldest] = this.lingering.keys();
      if (oldest === undefined) return { kind: 'busy', retryAfterMs: ROOM_CAP_RETRY_AFTER_MS };
      this.closeRoom(oldest);
    }
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
    this.hold(roomId, 1);
    this.options.metrics?.rooms.set(this.rooms.size);
    return { kind: 'local', room };
  }

  release(roomId: string): void {
    const room = this.rooms.get(roomId);
    if (!room) return;
    this.hold(roomId, -1);
    if ((this.holds.get(roomId) ?? 0) > 0 || room.playerCount > 0 || this.lingering.has(roomId)) return;
    const timer = this.options.scheduler.after(this.options.emptyRoomLingerMs ?? EMPTY_ROOM_LINGER_MS, () => {
      this.lingering.delete(roomId);
      if (room.playerCount > 0 || (this.holds.get(roomId) ?? 0) > 0) return;
      this.closeRoom(roomId);
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
    this.holds.clear();
    this.options.metrics?.rooms.set(0);
  }

  private hold(roomId: string, delta: 1 | -1): void {
    const n = Math.max(0, (this.holds.get(roomId) ?? 0) + delta);
    if (n === 0) this.holds.delete(roomId);
    else this.holds.set(roomId, n);
  }

  private closeRoom(roomId: string): void {
    this.lingering.get(roomId)?.cancel();
    this.lingering.delete(roomId);
    this.holds.delete(roomId);
    this.rooms.get(roomId)?.close();
    this.rooms.delete(roomId);
    this.options.metrics?.rooms.set(this.rooms.size);
  }
}
