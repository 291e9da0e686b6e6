/**
 * A room manager that becomes another one later: a cluster server's rooms exist only once
 * `listen()` has joined the cluster (the node registers its public URLs, which are known only
 * after binding), but the session layer is built with the server. Until then every room is
 * `unavailable` (CLUSTER_UNAVAILABLE with a short retry), and nothing is listed.
 */
import type { Room } from './room.js';
import type { RoomLookup, RoomManager, SeatAdmission } from './room-manager.js';

/** `retryAfterMs` for a hello before the cluster is joined (listen() is under way). */
export const NOT_JOINED_RETRY_MS = 1_000;

export class DeferredRoomManager implements RoomManager {
  private inner: RoomManager | null = null;
  private closed = false;

  /** The manager every call goes to from now on. */
  attach(inner: RoomManager): void {
    if (this.closed) inner.close();
    this.inner = inner;
  }

  async acquire(roomId: string): Promise<RoomLookup> {
    if (this.inner) return this.inner.acquire(roomId);
    return this.closed ? { kind: 'unknown' } : { kind: 'unavailable', retryAfterMs: NOT_JOINED_RETRY_MS };
  }

  release(roomId: string, playerId?: string): void {
    this.inner?.release(roomId, playerId);
  }

  async admit(roomId: string, playerId: string): Promise<SeatAdmission> {
    if (this.inner?.admit) return this.inner.admit(roomId, playerId);
    return this.inner ? { ok: true } : { ok: false, reason: 'unavailable', retryAfterMs: NOT_JOINED_RETRY_MS };
  }

  get(roomId: string): Room | undefined {
    return this.inner?.get(roomId);
  }

  list(): Room[] {
    return this.inner?.list() ?? [];
  }

  close(): void {
    this.closed = true;
    this.inner?.close();
  }
}
