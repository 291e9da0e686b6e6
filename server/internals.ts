/**
 * What a `GameServer` keeps to itself, for the tests that drive the whole stack from the inside
 * (close one player's WebTransport session as the server would, hold a room directly). The
 * embedding API (server/index.ts) hands out read-only views only and does not re-export this
 * module: code that imports it says, in its import line, that it reaches past the public surface.
 */
import type { RoomManager } from './rooms/room-manager.js';
import type { WebTransportService } from './transports/webtransport-service.js';

/** The objects behind `GameServer.rooms` and `GameServer.webTransport`. */
export interface GameServerInternals {
  readonly rooms: RoomManager;
  /** The WebTransport service (in-thread or workers) once listen() started it; null before, or without one. */
  webTransport(): WebTransportService | null;
}

/** Keyed by the GameServer object; a WeakMap, so a dropped server is not kept alive. */
const internals = new WeakMap<object, GameServerInternals>();

/** Called by createGameServer for the server it built. */
export function registerInternals(server: object, parts: GameServerInternals): void {
  internals.set(server, parts);
}

/** The internals of a server built by createGameServer; throws for any other object. */
export function gameServerInternals(server: object): GameServerInternals {
  const parts = internals.get(server);
  if (!parts) throw new TypeError('not a server built by createGameServer');
  return parts;
}
