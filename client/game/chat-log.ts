/** The chat lines the panel shows: newest last, bounded, each chat id at most once. */

/** Lines kept on screen (and in `window.tickwire.chat`); older ones scroll away for good. */
export const VISIBLE_CHAT_LINES = 50;

export interface ChatLine {
  id: number;
  entityId: number;
  name: string;
  text: string;
  own: boolean;
}

export class ChatLog {
  private lines: ChatLine[] = [];

  /** Adds a line; false for a chat id already shown (replay after resume overlaps). */
  add(line: ChatLine): boolean {
    if (this.lines.some((l) => l.id === line.id)) return false;
    let i = this.lines.length;
    while (i > 0 && this.lines[i - 1].id > line.id) i--;
    this.lines.splice(i, 0, line);
    if (this.lines.length > VISIBLE_CHAT_LINES) this.lines.splice(0, this.lines.length - VISIBLE_CHAT_LINES);
    return true;
  }

  get all(): readonly ChatLine[] {
    return this.lines;
  }

  clear(): void {
    this.lines = [];
  }
}
