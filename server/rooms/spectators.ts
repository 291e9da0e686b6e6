/**
 * A room's spectators: members without an entity. They get the room's snapshots and chat and
 * hear who joins and leaves, but the players never hear of them (no playerJoined, not in any
 * welcome), they count against the room's spectator limit instead of maxPlayers, and nothing
 * they send moves anything. Each is served in one snapshot phase, spread round-robin.
 */
import type { RoomMember } from './types.js';

/** Spectators a room takes unless its definition says otherwise. */
export const DEFAULT_MAX_SPECTATORS = 128;
/** Upper bound of `maxSpectators`: a spectator costs a player's snapshot bandwidth. */
export const MAX_ROOM_SPECTATORS = 1024;

interface Seat {
  member: RoomMember;
  /** False while its session waits for a resume: it is sent nothing. */
  connected: boolean;
  /** Snapshot phase (see Room.publishSnapshots). */
  phase: number;
}

export class RoomSpectators {
  private readonly seats = new Map<string, Seat>();
  private nextPhase = 0;

  constructor(readonly max: number, private readonly phases: number) {}

  get count(): number {
    return this.seats.size;
  }

  has(id: string): boolean {
    return this.seats.has(id);
  }

  /** Takes a seat for `member` (keyed by its playerId); false when every seat is taken. */
  add(member: RoomMember): boolean {
    if (this.seats.has(member.playerId)) {
      this.seats.get(member.playerId)!.member = member;
      return true;
    }
    if (this.seats.size >= this.max) return false;
    this.seats.set(member.playerId, { member, connected: true, phase: this.nextPhase });
    this.nextPhase = (this.nextPhase + 1) % this.phases;
    return true;
  }

  /** The member object of a resumed session takes the seat again. */
  reattach(id: string, member: RoomMember): boolean {
    const seat = this.seats.get(id);
    if (!seat) return false;
    seat.member = member;
    seat.connected = true;
    return true;
  }

  suspend(id: string): void {
    const seat = this.seats.get(id);
    if (seat) seat.connected = false;
  }

  remove(id: string): void {
    this.seats.delete(id);
  }

  /** Connected spectators (all phases, or one). */
  *connected(phase?: number): Iterable<RoomMember> {
    for (const s of this.seats.values()) {
      if (s.connected && (phase === undefined || s.phase === phase)) yield s.member;
    }
  }

  /** Every spectator, connected or not (join/leave notices are sent to whoever can receive). */
  *all(): Iterable<RoomMember> {
    for (const s of this.seats.values()) yield s.member;
  }
}
