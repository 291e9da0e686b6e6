import { describe, expect, it } from 'vitest';
import { SseParser } from '../../../tools/lib/sse-client.js';

describe('SseParser (WHATWG HTML §9.2.6)', () => {
  it('dispatches on a blank line, with CR, LF or CRLF line ends, split anywhere', () => {
    const text = 'event: a\r\ndata: 1\r\n\r\nid: 7\rdata: 2\r\rdata:3\n\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new SseParser();
      const got = [...p.feed(text.slice(0, cut)), ...p.feed(text.slice(cut))];
      expect(got).toEqual([
        { event: 'a', data: '1', lastEventId: '' },
        { event: 'message', data: '2', lastEventId: '7' },
        { event: 'message', data: '3', lastEventId: '7' },
      ]);
    }
  });

  it('keeps the id across events, ignores ids with NUL, an event without data is not dispatched but sets the id', () => {
    const p = new SseParser();
    expect(p.feed('id: 5\nevent: x\n\n')).toEqual([]);
    expect(p.lastEventId).toBe('5');
    expect(p.feed('id: a\0b\ndata: y\n\n')).toEqual([{ event: 'message', data: 'y', lastEventId: '5' }]);
  });

  it('reads retry only when it is all digits; counts comments; ignores unknown fields', () => {
    const p = new SseParser();
    p.feed('retry: 1500\n\nretry: 15x\n\n: hi\nfoo: bar\ndata\n\n');
    expect(p.retryMs).toBe(1500);
    expect(p.comments).toBe(1);
  });
});
