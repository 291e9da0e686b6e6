/** One chat line as delivered to clients (the `chat` wire message body). */
export interface ChatMessage {
  /** Per-room, consecutive from 1; clients resume from the last id they saw. */
  id: number;
  /** Sender's entity id; 0 for server announcements. */
  entityId: number;
  name: string;
  text: string;
  /** Server time (ms) when the line was accepted. */
  t: number;
}
