import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Heartbeat, RTT_SRTT_GAIN, RTT_VAR_GAIN, RttEstimator } from '../../shared/heartbeat.js';
import { encodeMessage } from '../../shared/codec.js';
import { U32_MAX } from '../../shared/limits.js';

describe('RttEstimator (RFC 6298 §2 smoothing)', () => {
  it('starts at the first sample, then moves by 1/8 of the error (rttvar by 1/4)', () => {
    expect([RTT_SRTT_GAIN, RTT_VAR_GAIN]).toEqual([1 / 8, 1 / 4]);
    const r = new RttEstimator();
    expect(r.smoothedMs).toBeNull();
    expect(r.minMs).toBeNull();
    expect(r.latestMs).toBeNull();
    expect(r.addSample(100)).toBe(true);
    expect(r.smoothedMs).toBe(100);
    expect(r.variationMs).toBe(50);
    r.addSample(180);
    expect(r.smoothedMs).toBe(110);
    expect(r.variationMs).toBe(57.5);
    expect(r.minMs).toBe(100);
    expect(r.latestMs).toBe(180);
    r.addSample(20);
    expect(r.minMs).toBe(20);
    expect(r.variationMs).toBe(0.75 * 57.5 + 0.25 * 90);
    expect(r.smoothedMs).toBe(0.875 * 110 + 0.125 * 20);
  });

  it('ignores negative and non-finite samples', () => {
    const r = new RttEstimator();
    for (const v of [-1, Number.NaN, Infinity, -Infinity]) expect(r.addSample(v)).toBe(false);
    expect(r.smoothedMs).toBeNull();
    expect(r.latestMs).toBeNull();
    r.addSample(0);
    expect(r.smoothedMs).toBe(0);
  });

  it('stays between the smallest and largest sample', () => {
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 10_000, noNaN: true }), { minLength: 1, maxLength: 200 }), (xs) => {
      const r = new RttEstimator();
      for (const x of xs) r.addSample(x);
      expect(r.smoothedMs!).toBeGreaterThanOrEqual(Math.min(...xs) - 1e-9);
      expect(r.smoothedMs!).toBeLessThanOrEqual(Math.max(...xs) + 1e-9);
      expect(r.minMs).toBe(Math.min(...xs));
    }));
  });
});

function clock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('Heartbeat (ping table)', () => {
  it('times a pong against its ping on the injected clock', () => {
    const c = clock(1000.75);
    const hb = new Heartbeat({ now: c.now, maxOutstanding: 8 });
    const ping = hb.nextPing();
    expect(ping).toEqual({ id: 1, t: 1000 });
    expect(hb.outstanding).toBe(1);
    c.t += 30;
    expect(hb.onPong(ping)).toBe(30);
    expect(hb.rtt.smoothedMs).toBe(30);
    expect(hb.outstanding).toBe(0);
    // A duplicate, and an id never sent, are unknown and change nothing.
    expect(hb.onPong(ping)).toBe('unknown');
    expect(hb.onPong({ id: 99 })).toBe('unknown');
    expect(hb.rtt.smoothedMs).toBe(30);
  });

  it('answers pongs out of order', () => {
    const c = clock();
    const hb = new Heartbeat({ now: c.now, maxOutstanding: 8 });
    const a = hb.nextPing();
    c.t = 10;
    const b = hb.nextPing();
    c.t = 50;
    expect(hb.onPong(b)).toBe(40);
    expect(hb.onPong(a)).toBe(50);
  });

  it('holds at most maxOutstanding pings, forgetting the oldest', () => {
    const c = clock();
    const hb = new Heartbeat({ now: c.now, maxOutstanding: 3 });
    const pings = Array.from({ length: 5 }, () => hb.nextPing());
    expect(pings.map((p) => p.id)).toEqual([1, 2, 3, 4, 5]);
    expect(hb.outstanding).toBe(3);
    expect(hb.onPong(pings[0])).toBe('unknown');
    expect(hb.onPong(pings[1])).toBe('unknown');
    expect(hb.onPong(pings[2])).toBe(0);
  });

  it('wraps ping ids from 2^32 - 1 to 1, never 0, and every ping encodes', () => {
    const c = clock(1_763_000_000_000.25);
    const hb = new Heartbeat({ now: c.now, maxOutstanding: 2 });
    (hb as unknown as { lastId: number }).lastId = U32_MAX - 1;
    const ids = [hb.nextPing(), hb.nextPing(), hb.nextPing()].map((p) => p.id);
    expect(ids).toEqual([U32_MAX, 1, 2]);
    expect(encodeMessage('ping', hb.nextPing()).length).toBeLessThanOrEqual(16);
  });

  it('consumes a ping whose sample the clock spoiled, without a sample', () => {
    const c = clock(100);
    const hb = new Heartbeat({ now: c.now, maxOutstanding: 4 });
    const p = hb.nextPing();
    c.t = 90; // the clock went backwards
    expect(hb.onPong(p)).toBe('ignored');
    expect(hb.rtt.smoothedMs).toBeNull();
    expect(hb.onPong(p)).toBe('unknown');
  });

  it('forgets awaited pings on a new connection but keeps the RTT', () => {
    const c = clock();
    const hb = new Heartbeat({ now: c.now, maxOutstanding: 4 });
    const a = hb.nextPing();
    c.t = 20;
    hb.onPong(a);
    const b = hb.nextPing();
    hb.forgetPending();
    expect(hb.outstanding).toBe(0);
    expect(hb.onPong(b)).toBe('unknown');
    expect(hb.rtt.smoothedMs).toBe(20);
  });

  it('refuses a limit that is not a positive integer', () => {
    for (const n of [0, -1, 1.5, Number.NaN]) {
      expect(() => new Heartbeat({ now: () => 0, maxOutstanding: n })).toThrow(RangeError);
    }
  });
});
