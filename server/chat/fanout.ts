import type { ChatAuthor, ChatMessage } from './types.js';

/**
 * Where accepted chat lines go. The in-process fan-out delivers synchronously, in publish
 * order, exactly once per subscriber; a Redis pub/sub implementation (cross-process chat) fits
 * the same two methods.
 */
export interface ChatFanout {
  /**
   * `author`: who wrote the line and its session's seq, when the client gave one; only a fan-out
   * that stores lines durably keeps it (the cluster's: it makes the seq exact after a crash).
   */
  publish(roomId: string, message: ChatMessage, author?: ChatAuthor): void;
  /** Returns the unsubscribe function. */
  subscribe(roomId: string, deliver: (message: ChatMessage) => void): () => void;
  /**
   * False while a line published for `roomId` could not be stored soon (the cluster's fan-out:
   * Redis away, its outbox full, the room's lease ending); the room then refuses chat as
   * `unavailable` instead of showing a line that might be lost. Absent: always writable.
   */
  writable?(roomId: string): boolean;
}

export class InProcessChatFanout implements ChatFanout {
  private readonly subscribers = new Map<string, Set<(message: ChatMessage) => void>>();

  publish(roomId: string, message: ChatMessage): void {
    const subs = this.subscribers.get(roomId);
    if (!subs) return;
    for (const deliver of [...subs]) deliver(message);
  }

  subscribe(roomId: string, deliver: (message: ChatMessage) => void): () => void {
    let subs = this.subscribers.get(roomId);
    if (!subs) {
      subs = new Set();
      this.subscribers.set(roomId, subs);
    }
    subs.add(deliver);
    return () => {
      const set = this.subscribers.get(roomId);
      if (!set) return;
      set.delete(deliver);
      if (set.size === 0) this.subscribers.delete(roomId);
    };
  }
}
