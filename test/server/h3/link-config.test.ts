/**
 * server/h3/link-config.ts: the link simulator's text spec, parsed and formatted back (table and
 * property tests; parsing never throws).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DEFAULT_RATE_QUEUE_LIMIT_BYTES, formatLinkSpec, parseLinkSpec, perfectLink,
} from '../../../server/h3/link-config.js';

describe('parseLinkSpec', () => {
  it('parses the documented example', () => {
    const r = parseLinkSpec('loss=0.05,delay=40,jitter=10,dup=0.01,reorder=0.02,rate=200000,up.loss=0.1');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.down).toMatchObject({ loss: 0.05, delayMs: 40, jitterMs: 10, duplicate: 0.01, reorder: 0.02, rateBytesPerSec: 200000 });
    expect(r.config.up).toMatchObject({ loss: 0.1, delayMs: 40 });
  });

  it('lets a direction override a bare key in any order, and accepts percentages and spaces', () => {
    const r = parseLinkSpec(' down.delay=5 , delay=40, loss=5% ,queue=1000, reorderdelay=7');
    expect(r.ok && r.config.down.delayMs === 5 && r.config.up.delayMs === 40 && r.config.up.loss === 0.05 && r.config.down.queueLimitBytes === 1000 && r.config.up.reorderDelayMs === 7).toBe(true);
    expect(parseLinkSpec('')).toEqual({ ok: true, config: perfectLink() });
  });

  it.each([
    ['loss', /not key=value/],
    ['=3', /not key=value/],
    ['lost=0.1', /unknown key "lost"/],
    ['side.loss=0.1', /unknown direction "side"/],
    ['loss=abc', /not a number/],
    ['loss=-0.1', /not a number/],
    ['loss=1.5', /must be in \[0, 1\]/],
    ['loss=150%', /must be in \[0, 1\]/],
    ['delay=5%', /only applies/],
    ['delay=1e999', /not finite/],
    ['queue=0', /queue must be > 0/],
    ['loss=0.1,loss=0.2', /given twice/],
  ])('rejects %s', (spec, message) => {
    const r = parseLinkSpec(spec);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });

  it('formats back to an equivalent spec (property)', () => {
    const dir = fc.record({
      loss: fc.constantFrom(0, 0.01, 0.5), delayMs: fc.constantFrom(0, 40), jitterMs: fc.constantFrom(0, 3),
      duplicate: fc.constantFrom(0, 0.1), reorder: fc.constantFrom(0, 0.2), reorderDelayMs: fc.constantFrom(20, 5),
      rateBytesPerSec: fc.constantFrom(0, 1000), queueLimitBytes: fc.constantFrom(DEFAULT_RATE_QUEUE_LIMIT_BYTES, 100),
    });
    fc.assert(fc.property(dir, dir, (up, down) => {
      const cfg = { up, down };
      expect(parseLinkSpec(formatLinkSpec(cfg))).toEqual({ ok: true, config: cfg });
    }), { numRuns: 300 });
  });

  it('never throws on arbitrary strings (property)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (s) => {
      expect(typeof parseLinkSpec(s).ok).toBe('boolean');
    }), { numRuns: 3000 });
  });
});
