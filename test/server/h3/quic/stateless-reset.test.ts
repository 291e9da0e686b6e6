import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StatelessResets } from '../../../../server/h3/quic/stateless-reset.js';
import { MAX_STATELESS_RESET_BYTES, MIN_STATELESS_RESET_BYTES } from '../../../../server/h3/quic/limits.js';

const cid = randomBytes(8);

describe('stateless reset tokens and packets (RFC 9000 §10.3)', () => {
  it('derives the token from a static key and the connection id (§10.3.2): same key, same token', () => {
    const key = randomBytes(32);
    const a = new StatelessResets({ key });
    const b = new StatelessResets({ key });
    expect(a.token(cid)).toEqual(b.token(cid));
    expect(a.token(cid)).toEqual(createHmac('sha256', key).update(cid).digest().subarray(0, 16));
    expect(a.token(randomBytes(8))).not.toEqual(a.token(cid));
    expect(new StatelessResets().token(cid)).not.toEqual(a.token(cid));
    // quiche takes the token as a u128 it writes big-endian.
    expect(a.tokenValue(cid).toString(16).padStart(32, '0')).toBe(a.token(cid).toString('hex'));
  });

  it('answers with a short-header packet smaller than the trigger, ending in the token (§10.3, §10.3.3)', () => {
    const r = new StatelessResets();
    for (const size of [MIN_STATELESS_RESET_BYTES + 1, 30, 43, 44, 100, 1200]) {
      const reset = r.answer(new Uint8Array(size), cid);
      if (typeof reset === 'string') throw new Error(reset);
      expect(reset.length).toBe(Math.min(size - 1, MAX_STATELESS_RESET_BYTES));
      expect(reset[0] & 0xc0).toBe(0x40);
      expect(Buffer.from(reset.subarray(reset.length - 16))).toEqual(r.token(cid));
    }
  });

  it('never answers a packet that could itself be a minimal reset', () => {
    const r = new StatelessResets();
    for (const size of [0, 10, MIN_STATELESS_RESET_BYTES]) expect(r.answer(new Uint8Array(size), cid)).toBe('too_small');
  });

  it('is rate limited by a token bucket', () => {
    let t = 0;
    const r = new StatelessResets({ now: () => t, perSecond: 5 });
    const answers = () => typeof r.answer(new Uint8Array(100), cid);
    for (let i = 0; i < 5; i++) expect(answers()).toBe('object');
    expect(r.answer(new Uint8Array(100), cid)).toBe('rate_limited');
    t += 200;
    expect(answers()).toBe('object');
    expect(r.answer(new Uint8Array(100), cid)).toBe('rate_limited');
  });

  it('refuses a static key too short to keep tokens unguessable', () => {
    expect(() => new StatelessResets({ key: randomBytes(8) })).toThrow(RangeError);
  });
});
