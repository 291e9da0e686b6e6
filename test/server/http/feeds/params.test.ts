import { describe, expect, it } from 'vitest';
import { parseChatStart, parseRoomId, parseWait } from '../../../../server/http/feeds/params.js';

describe('feed parameters', () => {
  it('room ids', () => {
    expect(parseRoomId('arena-1.b_c')).toEqual({ ok: true, value: 'arena-1.b_c' });
    for (const bad of ['', 'a b', 'x'.repeat(65), 'a/b', 'ü', undefined, 5]) expect(parseRoomId(bad)).toMatchObject({ ok: false, reason: 'feed_bad_room_id' });
  });

  it('Last-Event-ID wins over after; neither means the newest lines', () => {
    expect(parseChatStart(undefined, undefined)).toEqual({ ok: true, value: { kind: 'recent' } });
    expect(parseChatStart('', undefined)).toEqual({ ok: true, value: { kind: 'recent' } });
    expect(parseChatStart('12', '3')).toEqual({ ok: true, value: { kind: 'after', id: 12 } });
    expect(parseChatStart(undefined, '0')).toEqual({ ok: true, value: { kind: 'after', id: 0 } });
    expect(parseChatStart(undefined, '9007199254740991')).toEqual({ ok: true, value: { kind: 'after', id: 9007199254740991 } });
    for (const bad of ['-1', '1.5', '1e3', ' 1', '0x10', '9007199254740992', 'abc']) {
      expect(parseChatStart(bad, undefined)).toMatchObject({ ok: false, reason: 'feed_bad_last_event_id' });
      expect(parseChatStart(undefined, bad)).toMatchObject({ ok: false, reason: 'feed_bad_after' });
    }
    expect(parseChatStart(['1', '2'], undefined)).toMatchObject({ ok: false, reason: 'feed_bad_last_event_id' });
    expect(parseChatStart(undefined, ['1', '2'])).toMatchObject({ ok: false, reason: 'feed_bad_after' });
  });

  it('wait in seconds, capped', () => {
    expect(parseWait(undefined, 30)).toEqual({ ok: true, value: 0 });
    expect(parseWait('0', 30)).toEqual({ ok: true, value: 0 });
    expect(parseWait('2.5', 30)).toEqual({ ok: true, value: 2500 });
    expect(parseWait('30', 30)).toEqual({ ok: true, value: 30_000 });
    for (const bad of ['-1', '30.001', '31', '1e3', 'Infinity', 'NaN', '', ' 1', '1.2345', '999999999', ['1', '2']]) {
      expect(parseWait(bad, 30)).toMatchObject({ ok: false, reason: 'feed_bad_wait' });
    }
  });
});
