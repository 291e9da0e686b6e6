/**
 * Tracks which snapshot ids arrived: the ack the client sends (the newest snapshot it decoded,
 * DESIGN.md: the server deltas against it), duplicates, reordering, and an estimate of lost
 * datagrams from id gaps.
 *
 * Snapshot ids increase by one per snapshot sent to this client; a gap is a lost (or not yet
 * arrived) datagram. A late arrival inside the window turns a counted loss back into a receipt.
 */

/** Ids remembered behind the newest, to tell duplicates and late arrivals from losses. */
export const SNAPSHOT_ID_WINDOW = 64;

export type SnapshotArrival = 'new' | 'late' | 'duplicate' | 'stale';

export class SnapshotTracker {
  private newest = -1;
  /** Bit i set = id (newest - i) was received, for i < SNAPSHOT_ID_WINDOW. */
  private seen: boolean[] = [];
  private lost = 0;
  private duplicates = 0;
  private late = 0;

  /** Records an id; returns how it relates to what came before. */
  record(id: number): SnapshotArrival {
    if (this.newest < 0) {
      this.newest = id;
      this.seen = [true];
      return 'new';
    }
    if (id > this.newest) {
      const gap = id - this.newest;
      this.lost += Math.min(gap - 1, SNAPSHOT_ID_WINDOW);
      const shifted: boolean[] = new Array<boolean>(Math.min(gap, SNAPSHOT_ID_WINDOW)).fill(false);
      shifted[0] = true;
      this.seen = shifted.concat(this.seen).slice(0, SNAPSHOT_ID_WINDOW);
      this.newest = id;
      return 'new';
    }
    const age = this.newest - id;
    if (age >= SNAPSHOT_ID_WINDOW) return 'stale';
    if (this.seen[age]) {
      this.duplicates++;
      return 'duplicate';
    }
    this.seen[age] = true;
    if (this.lost > 0) this.lost--;
    this.late++;
    return 'late';
  }

  /** Newest id recorded, or -1. */
  get newestId(): number {
    return this.newest;
  }

  get lostEstimate(): number {
    return this.lost;
  }

  get duplicateCount(): number {
    return this.duplicates;
  }

  get lateCount(): number {
    return this.late;
  }

  /** A new (not resumed) session numbers snapshots from scratch. */
  reset(): void {
    this.newest = -1;
    this.seen = [];
  }
}
