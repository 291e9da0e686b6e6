import type { ChatBody } from '../../shared/messages.js';

/**
 * One chat line as delivered to clients: the `chat` wire message body (shared/messages.ts).
 * `id` is per room and consecutive from 1 (clients resume from the last id they saw),
 * `entityId` the sender's (0 for server announcements), `t` the server time (ms) when the line
 * was accepted.
 */
export type ChatMessage = ChatBody;

/**
 * Who wrote a player's line and the session's client seq for it (docs/protocol.md, "Chat lines
 * the client wrote"). Server-side only, never on the wire: the cluster stores it with the line in
 * the room's Redis stream, so a room restored after a crash knows each session's highest seq
 * even for lines accepted after its last checkpoint (docs/cluster.md, "Checkpoints").
 */
export interface ChatAuthor {
  playerId: string;
  /** The session's resume-token hash (PlayerSession.resumeTokenHash): seqs restart per session. */
  session: string;
  /** The line's `chatSend.seq`. */
  seq: number;
}
