import type { ChatMessage } from './types.js';

/**
 * Chat lines kept per room for late joiners and for replay on resume. A client that was away
 * for more than this many lines gets the newest ones and a `complete: false` result.
 */
export const CHAT_HISTORY_LIMIT = 200;

export interface ReplayResult {
  messages: ChatMessage[];
  /** False when lines after `lastId` had already left the ring (the client missed some). */
  complete: boolean;
}

/** Fixed-size ring of the newest chat lines, in id order. */
export class ChatHistory {
  private readonly ring: (ChatMessage | undefined)[];
  private head = 0;
  private size = 0;

  constructor(readonly limit = CHAT_HISTORY_LIMIT) {
    if (!(limit >= 1)) throw new RangeError('history limit must be >= 1');
    this.ring = new Array<ChatMessage | undefined>(limit);
  }

  get length(): number {
    return this.size;
  }

  append(message: ChatMessage): void {
    this.ring[(this.head + this.size) % this.limit] = message;
    if (this.size < this.limit) this.size++;
    else this.head = (this.head + 1) % this.limit;
  }

  /** All kept lines, oldest first. */
  all(): ChatMessage[] {
    const out: ChatMessage[] = [];
    for (let i = 0; i < this.size; i++) out.push(this.ring[(this.head + i) % this.limit]!);
    return out;
  }

  /** Lines with id greater than `lastId`, oldest first. */
  since(lastId: number): ReplayResult {
    const all = this.all();
    const messages = all.filter((m) => m.id > lastId);
    // Ids are consecutive per room, so a gap between lastId and the oldest kept line means loss.
    const oldest = all[0];
    const complete = oldest === undefined || oldest.id <= lastId + 1;
    return { messages, complete };
  }
}
