import { describe, expect, it } from 'vitest';
import { ChatLog, VISIBLE_CHAT_LINES } from '../../../client/game/chat-log.js';

const line = (id: number) => ({ id, entityId: 1, name: 'a', text: `m${id}`, own: false });

describe('ChatLog', () => {
  it('keeps ids in order, once each', () => {
    const log = new ChatLog();
    expect(log.add(line(2))).toBe(true);
    expect(log.add(line(1))).toBe(true);
    expect(log.add(line(2))).toBe(false);
    expect(log.add(line(3))).toBe(true);
    expect(log.all.map((l) => l.id)).toEqual([1, 2, 3]);
  });
  it('is bounded', () => {
    const log = new ChatLog();
    for (let i = 1; i <= VISIBLE_CHAT_LINES + 25; i++) log.add(line(i));
    expect(log.all.length).toBe(VISIBLE_CHAT_LINES);
    expect(log.all[0].id).toBe(26);
  });
});
