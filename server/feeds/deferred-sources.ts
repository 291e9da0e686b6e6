/**
 * The feeds' sources of a cluster node before `listen()` has joined the cluster: the feeds are
 * built with the server, the Redis-backed sources (server/cluster/feed-sources.ts) exist only once
 * the node joined. Until then every read fails (the feeds answer 503 with Retry-After) and room
 * list subscriptions wait; `attach` hands everything over.
 */
import type { ChatMessage } from '../chat/types.js';
import type { ChatRead, ChatSource, RoomChange, RoomListSource, RoomSummary, ServerStatus, StatusSource } from './types.js';

/** Thrown by a read before the node joined its cluster. */
export class FeedSourcesNotReady extends Error {
  constructor() {
    super('this node has not joined its cluster yet');
  }
}

export interface FeedSources {
  directory: RoomListSource;
  chat: ChatSource;
  status: StatusSource;
}

export class DeferredFeedSources implements FeedSources {
  private target: FeedSources | null = null;
  /** Room list subscriptions made before attach: each is moved to the real source then. */
  private readonly waiting = new Map<(changes: RoomChange[]) => void, { off: (() => void) | null }>();

  readonly directory: RoomListSource = {
    list: async (): Promise<RoomSummary[]> => this.ready().directory.list(),
    get: async (roomId: string): Promise<RoomSummary | undefined> => this.ready().directory.get(roomId),
    subscribe: (listener) => {
      if (this.target) return this.target.directory.subscribe(listener);
      const entry = { off: null as (() => void) | null };
      this.waiting.set(listener, entry);
      return () => {
        this.waiting.delete(listener);
        entry.off?.();
      };
    },
  };

  readonly chat: ChatSource = {
    read: async (roomId: string, afterId: number, limit: number): Promise<ChatRead | null> => this.ready().chat.read(roomId, afterId, limit),
    subscribe: (roomId: string, deliver: (message: ChatMessage, epoch: string) => void) => {
      // A chat feed made before joining fails its first read and closes: it never needs lines.
      if (!this.target) throw new FeedSourcesNotReady();
      return this.target.chat.subscribe(roomId, deliver);
    },
  };

  readonly status: StatusSource = {
    status: async (): Promise<ServerStatus> => this.ready().status.status(),
  };

  /** From now on everything goes to `sources`. */
  attach(sources: FeedSources): void {
    this.target = sources;
    for (const [listener, entry] of this.waiting) entry.off = sources.directory.subscribe(listener);
  }

  private ready(): FeedSources {
    if (!this.target) throw new FeedSourcesNotReady();
    return this.target;
  }
}
