import { describe, expect, it } from 'vitest';
import { DEFAULT_FEED_LIMITS, FeedAdmission, resolveFeedLimits } from '../../../../server/http/feeds/limits.js';

describe('feed limits', () => {
  it('resolves overrides and refuses nonsense', () => {
    expect(resolveFeedLimits({ maxStreams: 5 })).toEqual({ ...DEFAULT_FEED_LIMITS, maxStreams: 5 });
    expect(resolveFeedLimits({ retryJitterMs: 0 }).retryJitterMs).toBe(0);
    for (const bad of [0, -1, Number.NaN, Infinity]) expect(() => resolveFeedLimits({ heartbeatMs: bad })).toThrow(RangeError);
  });

  it('admits per address and in total; a slot is released once', () => {
    const a = new FeedAdmission({ maxStreamsPerAddress: 2, maxStreams: 3 });
    const s1 = a.admit('x');
    const s2 = a.admit('x');
    expect(s1.ok && s2.ok).toBe(true);
    expect(a.admit('x')).toEqual({ ok: false, status: 429, reason: 'too_many_streams_address' });
    const s3 = a.admit('y');
    expect(s3.ok).toBe(true);
    expect(a.admit('z')).toEqual({ ok: false, status: 503, reason: 'too_many_streams' });
    if (!s1.ok) throw new Error('unreachable');
    s1.release();
    s1.release();
    expect(a.open).toBe(2);
    expect(a.heldBy('x')).toBe(1);
    expect(a.admit('x').ok).toBe(true);
    expect(a.admit('z').ok).toBe(false);
  });
});
