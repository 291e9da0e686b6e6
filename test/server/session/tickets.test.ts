import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { ErrorCode } from '../../../shared/errors.js';
import { mintTicket, verifyTicket } from '../../../server/session/tickets.js';

const secret = 'a-test-secret-of-enough-length';
const now = 1_700_000_000_000;

describe('tickets', () => {
  it('round-trips claims', () => {
    const t = mintTicket(secret, { playerId: 'p1', name: 'Ann ✨', room: 'arena' }, { now, ttlMs: 1000 });
    expect(verifyTicket(secret, t, now)).toEqual({ ok: true, claims: { playerId: 'p1', name: 'Ann ✨', room: 'arena', exp: now + 1000 } });
  });

  it('carries the spectator role; a role it does not know is refused', () => {
    const t = mintTicket(secret, { playerId: 'w1', name: 'Watcher', room: 'arena', spectator: true }, { now, ttlMs: 1000 });
    expect(verifyTicket(secret, t, now)).toEqual({ ok: true, claims: { playerId: 'w1', name: 'Watcher', room: 'arena', exp: now + 1000, role: 'spectator' } });
    // A signed payload with another role (a backend bug) does not verify as a ticket.
    const payload = Buffer.from(JSON.stringify({ playerId: 'w1', name: 'W', room: 'r', exp: now + 1000, role: 'admin' })).toString('base64url');
    const sig = createHmac('sha256', secret).update(payload).digest('base64url');
    expect(verifyTicket(secret, `${payload}.${sig}`, now)).toMatchObject({ ok: false, code: ErrorCode.TICKET_INVALID });
  });

  it('expires', () => {
    const t = mintTicket(secret, { playerId: 'p1', name: 'a', room: 'r', expiresAt: now });
    expect(verifyTicket(secret, t, now)).toMatchObject({ ok: false, code: ErrorCode.TICKET_EXPIRED });
    expect(verifyTicket(secret, t, now - 1).ok).toBe(true);
  });

  it('refuses another secret, a changed payload, a truncated signature and junk', () => {
    const t = mintTicket(secret, { playerId: 'p1', name: 'a', room: 'r' }, { now });
    expect(verifyTicket('another-secret-of-enough-length', t, now)).toMatchObject({ ok: false, code: ErrorCode.TICKET_INVALID });
    const [payload, sig] = t.split('.');
    const forged = Buffer.from(JSON.stringify({ playerId: 'admin', name: 'a', room: 'r', exp: now + 1e9 })).toString('base64url');
    expect(verifyTicket(secret, `${forged}.${sig}`, now)).toMatchObject({ ok: false, code: ErrorCode.TICKET_INVALID });
    expect(verifyTicket(secret, `${payload}.${sig!.slice(0, -2)}`, now)).toMatchObject({ ok: false, code: ErrorCode.TICKET_INVALID });
    for (const junk of ['', '.', 'a.b.c', 'x'.repeat(5000), '%%%.%%%']) {
      expect(verifyTicket(secret, junk, now)).toMatchObject({ ok: false, code: ErrorCode.TICKET_INVALID });
    }
  });

  it('refuses claims out of range when minting and short secrets', () => {
    expect(() => mintTicket(secret, { playerId: 'bad id', name: 'a', room: 'r' })).toThrow(RangeError);
    expect(() => mintTicket(secret, { playerId: 'p', name: '', room: 'r' })).toThrow(RangeError);
    expect(() => mintTicket('short', { playerId: 'p', name: 'a', room: 'r' })).toThrow(RangeError);
  });

  it('never throws and never accepts random or mutated tickets', () => {
    const good = mintTicket(secret, { playerId: 'p1', name: 'a', room: 'r' }, { now });
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => {
      expect(verifyTicket(secret, s, now).ok).toBe(false);
    }), { numRuns: 500 });
    fc.assert(fc.property(fc.nat(good.length - 1), fc.string({ minLength: 1, maxLength: 1 }), (i, c) => {
      const mutated = good.slice(0, i) + c + good.slice(i + 1);
      const r = verifyTicket(secret, mutated, now);
      if (mutated !== good) expect(r.ok).toBe(false);
    }), { numRuns: 500 });
  });
});
