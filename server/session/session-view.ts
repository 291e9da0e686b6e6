/**
 * Read-only views of player sessions: what the embedding API (`GameServer.sessions`) and tools
 * may see of a session without being able to change it. A view reads the live session (its
 * fields follow the session's state), but offers no setter and no path to the connection, the
 * room or the session object itself; it is frozen, so nothing can be added or redefined either.
 */
import type { ConnectionStats, TransportKind } from '../transports/connection.js';
import type { PlayerSession, SessionState } from './player-session.js';
import type { SnapshotSendStats } from './snapshot-sender.js';

/** One player's session as the embedding API sees it. */
export interface SessionView {
  readonly playerId: string;
  /** Display name from the ticket. */
  readonly name: string;
  readonly roomId: string;
  /** The player's entity in the room (kept across resumes). */
  readonly entityId: number;
  /** `active` (connected), `suspended` (waiting for a resume) or `gone`. */
  readonly state: SessionState;
  /** Transport of the current connection; null without one (suspended or gone). */
  readonly transport: TransportKind | null;
  /** Peer address of the current connection; null without one. */
  readonly remoteAddress: string | null;
  /** Smoothed round-trip time from heartbeat pings (ms); null before the first pong. */
  readonly rttMs: number | null;
  /** Scheduler time (ms) the session began: its first welcome. */
  readonly startedAt: number;
  /** Scheduler time (ms) the current connection took the session over (a resume moves it); null without one. */
  readonly connectedAt: number | null;
  /** Traffic counters of the current connection (a copy); null without one. */
  connectionStats(): ConnectionStats | null;
  /** Snapshot encoding counters of the current connection (a copy); null without one. */
  snapshotStats(): SnapshotSendStats | null;
}

/** The sessions of one server (`GameServer.sessions`). */
export interface SessionDirectory {
  /** The session of `playerId`, active or suspended; undefined when it has none. */
  get(playerId: string): SessionView | undefined;
  /** Every session, active or suspended. */
  list(): SessionView[];
  /** Sessions with a live connection. */
  readonly activeCount: number;
  /** Connections waiting for their hello (all addresses; server/session/admission.ts). */
  readonly pendingCount: number;
}

/** What a directory reads from the owner of the sessions (the SessionManager). */
export interface SessionSource {
  getSession(playerId: string): PlayerSession | undefined;
  sessions(): PlayerSession[];
  readonly activeCount: number;
  readonly pendingCount: number;
}

/** The read-only view of `s`; PlayerSession makes one for itself (`PlayerSession.view`). */
export function sessionView(s: PlayerSession): SessionView {
  return Object.freeze({
    playerId: s.playerId,
    name: s.name,
    roomId: s.roomId,
    entityId: s.entityId,
    get state() { return s.state; },
    get transport() { return s.conn?.transport ?? null; },
    get remoteAddress() { return s.conn?.remoteAddress ?? null; },
    get rttMs() { return s.rttMs; },
    startedAt: s.startedAt,
    get connectedAt() { return s.conn ? s.connectedAt : null; },
    connectionStats: () => (s.conn ? { ...s.conn.stats() } : null),
    snapshotStats: () => {
      const st = s.snapshotStats();
      return st ? { ...st } : null;
    },
  });
}

/** A directory over `source` that hands out views only. */
export function sessionDirectory(source: SessionSource): SessionDirectory {
  return Object.freeze({
    get: (playerId: string) => source.getSession(playerId)?.view,
    list: () => source.sessions().map((s) => s.view),
    get activeCount() { return source.activeCount; },
    get pendingCount() { return source.pendingCount; },
  });
}
