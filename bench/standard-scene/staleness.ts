/**
 * Entity staleness at the observer: for every entity, the age of the newest information the
 * client holds about it, sampled on a timer. Pure (time is passed in), so test/bench/ checks it.
 *
 * "Information time" of an entity is the server time of the snapshot in which the client first
 * saw the entity's current state. A snapshot that leaves an entity out (the priority
 * accumulator chose others) reconstructs it from the delta baseline, so the client still shows
 * the older state: that state keeps its older information time, also when the baseline the
 * server used is older than the newest snapshot the client has (the state then goes back to a
 * value already seen, and is recognised by value). In the standard scene every entity moves
 * every tick, so an entity's exact state never legitimately repeats.
 *
 * When the snapshot says which entities it left out (`omitted`, as GameClient's snapshot event
 * does), every other entity was refreshed by it: its information is as new as the snapshot even
 * when its state did not change (a player that stopped, a disconnected one). Without that list,
 * such an entity would seem to age for as long as it stands still.
 */
import type { EntityState } from '../../shared/snapshot/view.js';
import { SampleReservoir } from '../../tools/lib/stats.js';

/** States remembered per entity to recognise a reverted one; deltas reach back at most 32 snapshots. */
export const STATES_PER_ENTITY_LIMIT = 64;
/** Entities tracked; the standard scene goes to 512, anything past this is not sampled. */
export const TRACKED_ENTITIES_LIMIT = 4096;

interface Tracked {
  /** State key -> server time of the snapshot that first carried it. */
  seen: Map<string, number>;
  /** Server time of the state currently held. */
  infoTime: number;
  /** Newest snapshot server time that listed this entity at all (to forget departed ones). */
  lastListed: number;
}

export class StalenessTracker {
  private readonly entities = new Map<number, Tracked>();
  private newestSnapshotTime = Number.NEGATIVE_INFINITY;

  constructor(private readonly samples: SampleReservoir) {}

  /** Entities currently held. */
  get size(): number {
    return this.entities.size;
  }

  /**
   * A snapshot arrived with the full reconstructed view (`entities`) as of server time
   * `serverTime`, and, when known, the ids it left out (`omitted`; every other entity was
   * refreshed). Entities not listed any more have left and are forgotten.
   */
  onSnapshot(serverTime: number, entities: readonly EntityState[], omitted?: readonly number[]): void {
    this.newestSnapshotTime = Math.max(this.newestSnapshotTime, serverTime);
    const left = omitted ? new Set(omitted) : null;
    for (const e of entities) {
      let t = this.entities.get(e.id);
      if (!t) {
        if (this.entities.size >= TRACKED_ENTITIES_LIMIT) continue;
        t = { seen: new Map(), infoTime: serverTime, lastListed: serverTime };
        this.entities.set(e.id, t);
      }
      t.lastListed = serverTime;
      const key = `${e.x},${e.y},${e.angle}`;
      const first = t.seen.get(key);
      const refreshed = left !== null && !left.has(e.id);
      if (first !== undefined && !refreshed) {
        t.infoTime = first;
        continue;
      }
      // New information: a state not seen before, or any state this snapshot refreshed (the
      // entry moves to the back, as the newest time it was confirmed).
      t.seen.delete(key);
      t.seen.set(key, serverTime);
      if (t.seen.size > STATES_PER_ENTITY_LIMIT) {
        // Map iteration is insertion order: drop the oldest state.
        const oldest = t.seen.keys().next().value;
        if (oldest !== undefined) t.seen.delete(oldest);
      }
      t.infoTime = serverTime;
    }
    for (const [id, t] of this.entities) {
      if (t.lastListed < this.newestSnapshotTime) this.entities.delete(id);
    }
  }

  /** Records, for every entity held, `now - infoTime` (ms). */
  sample(now: number): void {
    for (const t of this.entities.values()) this.samples.add(now - t.infoTime);
  }

  /** Forget everything (a reconnect starts a fresh view). */
  clear(): void {
    this.entities.clear();
    this.newestSnapshotTime = Number.NEGATIVE_INFINITY;
  }
}
