import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RetryTokens } from '../../../../server/h3/quic/retry-token.js';
import { RETRY_TOKEN_LIFETIME_MS } from '../../../../server/h3/quic/limits.js';

const odcid = randomBytes(16);
const next = randomBytes(8);

function clocked() {
  let t = 1_700_000_000_000;
  const tokens = new RetryTokens({ now: () => t });
  return { tokens, advance: (ms: number) => { t += ms; } };
}

describe('Retry tokens (RFC 9000 §8.1.2-8.1.4)', () => {
  it('validate for the same IP and next connection id, and give back the original DCID', () => {
    const { tokens } = clocked();
    const token = tokens.mint(odcid, next, '192.0.2.7');
    expect(tokens.check(token, next, '192.0.2.7')).toEqual({ kind: 'valid', odcid: new Uint8Array(odcid) });
  });

  it('are bound to the IP (not the port: the check has none) and to the connection id the Retry named', () => {
    const { tokens } = clocked();
    const token = tokens.mint(odcid, next, '192.0.2.7');
    expect(tokens.check(token, next, '192.0.2.8').kind).toBe('invalid');
    expect(tokens.check(token, randomBytes(8), '192.0.2.7').kind).toBe('invalid');
  });

  it('expire after RETRY_TOKEN_LIFETIME_MS', () => {
    const { tokens, advance } = clocked();
    const token = tokens.mint(odcid, next, '2001:db8::1');
    advance(RETRY_TOKEN_LIFETIME_MS);
    expect(tokens.check(token, next, '2001:db8::1').kind).toBe('valid');
    advance(1);
    expect(tokens.check(token, next, '2001:db8::1').kind).toBe('invalid');
  });

  it('cannot be forged or altered: another key, any flipped bit, a truncation', () => {
    const { tokens } = clocked();
    const token = tokens.mint(odcid, next, '192.0.2.7');
    expect(new RetryTokens().check(token, next, '192.0.2.7').kind).toBe('invalid');
    for (let i = 1; i < token.length; i++) {
      const t = new Uint8Array(token);
      t[i] ^= 0x01;
      expect(tokens.check(t, next, '192.0.2.7').kind, `bit flipped in byte ${i}`).toBe('invalid');
    }
    expect(tokens.check(token.subarray(0, token.length - 1), next, '192.0.2.7').kind).toBe('invalid');
  });

  it('tokens not in our format are foreign (treated as no token, §8.1.3)', () => {
    const { tokens } = clocked();
    expect(tokens.check(new Uint8Array(0), next, '192.0.2.7').kind).toBe('foreign');
    expect(tokens.check(Uint8Array.of(0x00, 1, 2, 3), next, '192.0.2.7').kind).toBe('foreign');
  });

  it('never throws on arbitrary input (property)', () => {
    const { tokens } = clocked();
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 20 }), fc.string(), (t, dcid, ip) => {
      expect(['valid', 'invalid', 'foreign']).toContain(tokens.check(t, dcid, ip).kind);
    }));
  });
});
