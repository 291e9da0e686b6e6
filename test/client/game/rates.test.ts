import { describe, expect, it } from 'vitest';
import { RATE_SAMPLE_LIMIT, RateMeter, lossShare } from '../../../client/game/rates.js';

describe('RateMeter', () => {
  it('measures the rate over the window', () => {
    const m = new RateMeter(2000);
    expect(m.perSecond()).toBe(0);
    for (let t = 0; t <= 5000; t += 250) m.add(t, (t / 1000) * 20); // 20 per second
    expect(m.perSecond()).toBeCloseTo(20, 9);
    expect(m.delta()).toBeCloseTo(40, 9);
  });

  it('follows a change of rate within one window', () => {
    const m = new RateMeter(1000);
    let v = 0;
    for (let t = 0; t <= 3000; t += 100) {
      v += t < 2000 ? 2 : 1;
      m.add(t, v);
    }
    expect(m.perSecond()).toBeCloseTo(10, 9);
  });

  it('starts over when the counter goes backwards (a new client)', () => {
    const m = new RateMeter(1000);
    m.add(0, 100);
    m.add(500, 200);
    m.add(600, 5);
    expect(m.perSecond()).toBe(0);
    m.add(1100, 55);
    expect(m.perSecond()).toBeCloseTo(100, 9);
  });

  it('keeps a bounded number of samples', () => {
    const m = new RateMeter(1e9);
    for (let t = 0; t < 10 * RATE_SAMPLE_LIMIT; t++) m.add(t, t);
    expect(m.perSecond()).toBeCloseTo(1000, 9);
  });
});

describe('lossShare', () => {
  it.each([
    [[0, 95], [0, 5], 0.05],
    [[0, 0], [0, 0], 0],
    [[0, 20], [0, 0], 0],
    [[0, 0], [0, 3], 1],
  ])('received %j lost %j -> %f', (rv, lv, want) => {
    const r = new RateMeter();
    const l = new RateMeter();
    r.add(0, rv[0]);
    r.add(1000, rv[1]);
    l.add(0, lv[0]);
    l.add(1000, lv[1]);
    expect(lossShare(r, l)).toBeCloseTo(want, 12);
  });
});
