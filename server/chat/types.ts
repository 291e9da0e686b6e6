import type { ChatBody } from '../../shared/messages.js';

/**
 * One chat line as delivered to clients: the `chat` wire message body (shared/messages.ts).
 * `id` is per room and consecutive from 1 (clients resume from the last id they saw),
 * `entityId` the sender's (0 for server announcements), `t` the server time (ms) when the line
 * was accepted.
 */
export type ChatMessage = ChatBody;
