import { describe, expect, it } from 'vitest';
import { formatSseComment, formatSseEvent } from '../../../../server/http/feeds/sse-format.js';
import { SseParser } from '../../../../tools/lib/sse-client.js';

describe('formatSseEvent', () => {
  it.each([
    [{ event: 'chat', id: 5, data: { a: 1 } }, 'event: chat\nid: 5\ndata: {"a":1}\n\n'],
    [{ retry: 2500 }, 'retry: 2500\n\n'],
    [{ data: 'two\nlines' }, 'data: two\ndata: lines\n\n'],
    [{ data: 'cr\r\nlf\rmixed' }, 'data: cr\ndata: lf\ndata: mixed\n\n'],
    [{ event: 'ready', id: 0, data: '' }, 'event: ready\nid: 0\ndata: \n\n'],
  ])('%j', (e, text) => {
    expect(formatSseEvent(e)).toBe(text);
  });

  it('refuses fields a client would cut or ignore', () => {
    expect(() => formatSseEvent({ event: 'a\nb' })).toThrow(RangeError);
    expect(() => formatSseEvent({ id: 'a\rb' })).toThrow(RangeError);
    expect(() => formatSseEvent({ id: 'a\0b' })).toThrow(RangeError);
    expect(() => formatSseEvent({ retry: -1 })).toThrow(RangeError);
    expect(() => formatSseEvent({ retry: 1.5 })).toThrow(RangeError);
  });

  it('round-trips through the parser, in any chunking', () => {
    const events = [
      { event: 'chat', id: 1, data: { text: 'héllo "quoted" \\ 🎉' } },
      { event: 'history-lost', data: { reason: 'trimmed', after: 1, resumeFrom: 9 } },
      { event: 'chat', id: 9, data: 'multi\nline' },
    ];
    const text = formatSseComment('keep-alive') + events.map(formatSseEvent).join('');
    for (const size of [1, 2, 3, 7, text.length]) {
      const p = new SseParser();
      const got = [];
      for (let i = 0; i < text.length; i += size) got.push(...p.feed(text.slice(i, i + size)));
      expect(got.map((g) => g.event)).toEqual(['chat', 'history-lost', 'chat']);
      expect(JSON.parse(got[0].data)).toEqual(events[0].data);
      expect(got[1].lastEventId).toBe('1');
      expect(got[2].data).toBe('multi\nline');
      expect(got[2].lastEventId).toBe('9');
      expect(p.comments).toBe(1);
    }
  });
});
