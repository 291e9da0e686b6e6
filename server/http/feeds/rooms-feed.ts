/**
 * The lobby's stream: the full room list when a client connects, then the changes, coalesced so
 * that at most one `changes` event goes out per `minIntervalMs` however fast rooms fill up.
 * Changes are upserts and removals by room id: applying them in order to the list gives the
 * directory's list, and an update that overtakes a stale one is corrected by the next.
 */
import type { Scheduler, Timer } from '../../clock.js';
import type { RoomChange, RoomSummary } from '../../feeds/types.js';
import { formatSseEvent } from './sse-format.js';
import type { SseStream } from './sse-stream.js';

/** The `changes` event's data. */
export interface RoomsChangesEvent {
  /** Rooms added or changed since the last event: replace the entry with this id (or add it). */
  upsert: RoomSummary[];
  /** Ids of rooms that closed. */
  removed: string[];
}

export class RoomsFeed {
  private readonly streams = new Set<SseStream>();
  /** Changes not sent yet, the newest per room id (at most one entry per open or just-closed room). */
  private readonly pending = new Map<string, RoomChange>();
  private flushTimer: Timer | null = null;
  private lastFlushAt = -Infinity;
  /** `changes` events sent (one formatted event goes to every stream). */
  eventsSent = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly minIntervalMs: number,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  /** Sends the full list (`rooms` event, read by the caller), then follows the changes until the stream closes. */
  attach(stream: SseStream, rooms: RoomSummary[]): void {
    if (stream.closed) return;
    // The full list may be large (up to MAX_ROOMS entries): a burst, allowed above the limit once.
    stream.writeBurst([formatSseEvent({ event: 'rooms', data: { rooms } })]);
    this.streams.add(stream);
    stream.onClose(() => this.streams.delete(stream));
  }

  /** From the directory: merge into the pending set and flush when the interval allows. */
  onChanges(changes: RoomChange[]): void {
    for (const c of changes) this.pending.set(c.kind === 'removed' ? c.id : c.room.id, c);
    if (this.flushTimer) return;
    const wait = Math.max(0, this.lastFlushAt + this.minIntervalMs - this.scheduler.now());
    this.flushTimer = this.scheduler.after(wait, () => {
      this.flushTimer = null;
      this.flush();
    });
  }

  stop(): void {
    this.flushTimer?.cancel();
    this.flushTimer = null;
    this.pending.clear();
  }

  private flush(): void {
    if (this.pending.size === 0) return;
    const data: RoomsChangesEvent = { upsert: [], removed: [] };
    for (const c of this.pending.values()) {
      if (c.kind === 'removed') data.removed.push(c.id);
      else data.upsert.push(c.room);
    }
    this.pending.clear();
    this.lastFlushAt = this.scheduler.now();
    this.eventsSent++;
    const bytes = Buffer.from(formatSseEvent({ event: 'changes', data }));
    for (const s of this.streams) s.write(bytes);
  }
}
