/**
 * The lobby's room list as the rooms stream builds it (docs/server.md "Read-only feeds"): a
 * `rooms` event replaces the list, a `changes` event upserts and removes by id. Pure.
 */
import type { RoomSummary } from '../../shared/room-summary.js';

function isRoom(v: unknown): v is RoomSummary {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.id === 'string' && typeof r.players === 'number' && typeof r.maxPlayers === 'number'
    && typeof r.spectators === 'number' && typeof r.maxSpectators === 'number';
}

export class RoomsModel {
  private readonly rooms = new Map<string, RoomSummary>();
  /** Events applied (for the page's debug object). */
  events = 0;

  /** The rooms by id. */
  list(): RoomSummary[] {
    return [...this.rooms.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: string): RoomSummary | undefined {
    return this.rooms.get(id);
  }

  /** Applies one stream event's JSON data; false when it is not one the model knows. */
  apply(event: string, data: unknown): boolean {
    const d = data as { rooms?: unknown; upsert?: unknown; removed?: unknown } | null;
    if (event === 'rooms' && d && Array.isArray(d.rooms)) {
      this.rooms.clear();
      for (const r of d.rooms) if (isRoom(r)) this.rooms.set(r.id, { ...r });
    } else if (event === 'changes' && d && Array.isArray(d.upsert) && Array.isArray(d.removed)) {
      for (const r of d.upsert) if (isRoom(r)) this.rooms.set(r.id, { ...r });
      for (const id of d.removed) if (typeof id === 'string') this.rooms.delete(id);
    } else {
      return false;
    }
    this.events++;
    return true;
  }
}
