/**
 * One room as the lobby lists it: the body of `GET /api/rooms` and of the rooms stream's events
 * (docs/server.md "Read-only feeds"). The server builds it (server/feeds/) and the lobby page
 * reads it (client/feeds/rooms-model.ts); this is its one definition.
 */
export interface RoomSummary {
  /** Room id (`ROOM_ID_PATTERN`). */
  id: string;
  /** Players in the room (connected or inside their resume window). */
  players: number;
  maxPlayers: number;
  /** Spectators watching it. */
  spectators: number;
  maxSpectators: number;
  /** Node running the room (cluster mode); null on a single node. */
  node: string | null;
}
