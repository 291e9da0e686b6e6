/**
 * A room's state as it crosses processes (docs/cluster.md, "Checkpoints"): what `Room.exportState`
 * captures between ticks and `RoomOptions.restore` starts a room from on another node. Plain data;
 * the cluster's checkpoint (server/cluster/checkpoint.ts) adds the lease token, the chat position
 * and each seat's resume-token hash, and encodes it.
 */
import type { EntityState } from '../../shared/snapshot/view.js';

/** One player's seat: enough to give the same player the same entity on another node. */
export interface SeatState {
  playerId: string;
  name: string;
  entity: EntityState;
  /** Movement direction when captured (a restored seat stands still until its player resumes). */
  input: { dx: number; dy: number };
  lastInputSeq: number;
  /** RoomPlayer.data: the definition's per-player state (plain data). */
  data: Record<string, unknown>;
}

export interface RoomState {
  /** Simulation step the state belongs to; a restored room continues counting from it. */
  tick: number;
  /** Next entity id the room would hand out (ids are not reused at once). */
  nextEntityId: number;
  seats: SeatState[];
  /**
   * The room definition's own state from its `serialize` hook; absent when it has none. Plain
   * data: objects, arrays, strings, numbers, booleans, null, Uint8Array.
   */
  state?: unknown;
}
