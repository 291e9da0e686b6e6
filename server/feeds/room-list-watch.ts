/**
 * Room list changes for lobby listeners, found by polling. Neither room directory announces a
 * player count moving (this process's rooms, local-sources.ts; the cluster's, read from Redis,
 * server/cluster/feed-sources.ts), so while anyone listens the list is read once a poll period
 * and compared with the read before; the timer runs only while someone listens. One poll serves
 * every listener, and a burst of joins between two reads becomes one change per room.
 */
import type { Scheduler, Timer } from '../clock.js';
import type { RoomChange, RoomSummary } from './types.js';

/** Rooms by id, as one read of a directory gives them. */
export type RoomsById = ReadonlyMap<string, RoomSummary>;

/** Whether a listener would see a difference between two summaries of one room. */
function sameSummary(a: RoomSummary, b: RoomSummary): boolean {
  return a.players === b.players && a.maxPlayers === b.maxPlayers && a.spectators === b.spectators
    && a.maxSpectators === b.maxSpectators && a.node === b.node;
}

/**
 * What changed from `before` to `next`: rooms added and updated (in `next`'s order), then rooms
 * removed (in `before`'s order).
 */
export function roomChanges(before: RoomsById, next: RoomsById): RoomChange[] {
  const changes: RoomChange[] = [];
  for (const [id, room] of next) {
    const was = before.get(id);
    if (!was) changes.push({ kind: 'added', room });
    else if (!sameSummary(was, room)) changes.push({ kind: 'updated', room });
  }
  for (const id of before.keys()) if (!next.has(id)) changes.push({ kind: 'removed', id });
  return changes;
}

export interface RoomListWatchOptions {
  scheduler: Scheduler;
  /** Time between two reads while someone listens. */
  pollMs: number;
  /**
   * One read of the directory: a map for rooms in this process, a promise for rooms read
   * elsewhere (a rejected read means no changes that period; the next read catches up).
   */
  read(): RoomsById | Promise<RoomsById>;
  /**
   * Where the comparison starts when the first listener arrives: `subscribe` reads at once
   * (the read must then be synchronous) and compares a poll period later; `first-poll` reads
   * on a timer at once and compares from the read after it. Either way the first changes a
   * listener gets are against the list as it was when it subscribed, or shortly after (lobby
   * streams send the full list themselves).
   */
  baseline: 'subscribe' | 'first-poll';
}

/** The listeners of one room directory and the poll that runs while there are any. */
export class RoomListWatch {
  private readonly listeners = new Set<(changes: RoomChange[]) => void>();
  /** The last read, or null before the baseline. */
  private known: Map<string, RoomSummary> | null = null;
  private timer: Timer | null = null;
  /** An asynchronous read is in flight (it schedules the next poll when it settles). */
  private polling = false;

  constructor(private readonly options: RoomListWatchOptions) {}

  /** Calls `listener` with each poll's changes (never an empty list); returns the unsubscribe. */
  subscribe(listener: (changes: RoomChange[]) => void): () => void {
    if (this.listeners.size === 0 && this.timer === null && !this.polling) this.start();
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) {
        this.timer?.cancel();
        this.timer = null;
      }
    };
  }

  private start(): void {
    if (this.options.baseline === 'first-poll') {
      this.known = null;
      this.schedule(0);
      return;
    }
    const rooms = this.options.read();
    if (rooms instanceof Promise) throw new TypeError('a baseline at subscribe needs a synchronous read');
    this.known = new Map(rooms);
    this.schedule(this.options.pollMs);
  }

  private schedule(delayMs: number): void {
    this.timer = this.options.scheduler.after(delayMs, () => {
      this.timer = null;
      const rooms = this.options.read();
      if (!(rooms instanceof Promise)) {
        this.compare(rooms);
        this.again();
        return;
      }
      this.polling = true;
      void rooms.then((r) => this.compare(r), () => undefined).finally(() => {
        this.polling = false;
        this.again();
      });
    });
  }

  /** The next poll, unless everyone left (or someone who came meanwhile already started one). */
  private again(): void {
    if (this.listeners.size > 0 && this.timer === null) this.schedule(this.options.pollMs);
  }

  /** Tells the listeners what changed since the last read; `rooms` becomes the last read. */
  private compare(rooms: RoomsById): void {
    if (this.listeners.size === 0) return;
    const before = this.known;
    this.known = new Map(rooms);
    if (!before) return;
    const changes = roomChanges(before, rooms);
    if (changes.length > 0) for (const l of [...this.listeners]) l(changes);
  }
}
