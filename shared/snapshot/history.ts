/**
 * A ring of snapshot views by id, for delta baselines on both ends: the server keeps what it sent
 * each client, the client keeps what it decoded. 32 entries is Quake 3's PACKET_BACKUP: at 20 Hz
 * that is 1.6 s of acks, beyond which a client is better served by a full snapshot anyway.
 */
import type { SnapshotView } from './view.js';

/** Views kept per client (the named limit of this queue). */
export const SNAPSHOT_HISTORY_SIZE = 32;

export class SnapshotHistory<T extends SnapshotView = SnapshotView> {
  private readonly ring: (T | undefined)[];

  constructor(readonly size = SNAPSHOT_HISTORY_SIZE) {
    this.ring = new Array(size);
  }

  /** Stores `view`, replacing the one `size` ids earlier. */
  put(view: T): void {
    this.ring[view.id % this.size] = view;
  }

  /** The view with this id, if still held (undefined for 0, evicted or never stored). */
  get(id: number): T | undefined {
    const v = this.ring[id % this.size];
    return v !== undefined && v.id === id ? v : undefined;
  }

  clear(): void {
    this.ring.fill(undefined);
  }
}
