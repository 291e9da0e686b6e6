import { describe, expect, it } from 'vitest';
import { HandshakeAdmission } from '../../../../server/h3/quic/admission.js';
import {
  MAX_CONNECTIONS_PER_ADDRESS, MAX_HANDSHAKES_PER_ADDRESS, MAX_HANDSHAKING_CONNECTIONS, RETRY_ABOVE_HANDSHAKES, RETRY_ABOVE_HANDSHAKES_PER_ADDRESS,
} from '../../../../server/h3/quic/limits.js';

describe('HandshakeAdmission', () => {
  it("'under-load' accepts until an address holds RETRY_ABOVE_HANDSHAKES_PER_ADDRESS, then asks that address for a Retry", () => {
    const a = new HandshakeAdmission();
    for (let i = 0; i < RETRY_ABOVE_HANDSHAKES_PER_ADDRESS; i++) {
      expect(a.decide('1.1.1.1', false)).toBe('accept');
      a.opened('1.1.1.1');
    }
    expect(a.decide('1.1.1.1', false)).toBe('retry');
    // Other addresses are not concerned, and a validated client of that address is accepted.
    expect(a.decide('2.2.2.2', false)).toBe('accept');
    expect(a.decide('1.1.1.1', true)).toBe('accept');
    a.released('1.1.1.1');
    expect(a.decide('1.1.1.1', false)).toBe('accept');
  });

  it("'under-load' asks everyone for a Retry once RETRY_ABOVE_HANDSHAKES are in flight", () => {
    const a = new HandshakeAdmission();
    for (let i = 0; i < RETRY_ABOVE_HANDSHAKES; i++) a.opened(`10.0.${i >> 8}.${i & 0xff}`);
    expect(a.inFlight).toBe(RETRY_ABOVE_HANDSHAKES);
    expect(a.decide('2.2.2.2', false)).toBe('retry');
    expect(a.decide('2.2.2.2', true)).toBe('accept');
  });

  it("'always' asks every tokenless Initial for a Retry; 'never' never does", () => {
    expect(new HandshakeAdmission({ retry: 'always' }).decide('1.1.1.1', false)).toBe('retry');
    expect(new HandshakeAdmission({ retry: 'always' }).decide('1.1.1.1', true)).toBe('accept');
    const n = new HandshakeAdmission({ retry: 'never' });
    for (let i = 0; i < MAX_HANDSHAKES_PER_ADDRESS; i++) {
      expect(n.decide('1.1.1.1', false)).toBe('accept');
      n.opened('1.1.1.1');
    }
    expect(n.decide('1.1.1.1', false)).toBe('address_handshake_limit');
  });

  it('one address never takes the global budget; the global cap holds for validated clients too', () => {
    const a = new HandshakeAdmission({ retry: 'never' });
    expect(MAX_HANDSHAKES_PER_ADDRESS).toBeLessThan(MAX_HANDSHAKING_CONNECTIONS);
    let n = 0;
    for (let i = 0; a.decide(`10.0.${i >> 8}.${i & 0xff}`, true) === 'accept'; i = (i + 1) % 64) {
      a.opened(`10.0.${i >> 8}.${i & 0xff}`);
      n++;
      expect(a.inFlightFrom(`10.0.${i >> 8}.${i & 0xff}`)).toBeLessThanOrEqual(MAX_HANDSHAKES_PER_ADDRESS);
    }
    expect(n).toBe(64 * MAX_HANDSHAKES_PER_ADDRESS > MAX_HANDSHAKING_CONNECTIONS ? MAX_HANDSHAKING_CONNECTIONS : 64 * MAX_HANDSHAKES_PER_ADDRESS);
    expect(a.decide('99.9.9.9', true)).toBe('handshake_limit');
  });

  it('with caps set by option, Retry still starts below them', () => {
    const a = new HandshakeAdmission({ maxHandshakes: 10, maxHandshakesPerAddress: 3 });
    a.opened('1.1.1.1');
    // A tenth of 10 in flight: everyone gets a Retry; a validated client still fits.
    expect(a.decide('2.2.2.2', false)).toBe('retry');
    expect(a.decide('1.1.1.1', true)).toBe('accept');
    a.opened('1.1.1.1');
    a.opened('1.1.1.1');
    expect(a.decide('1.1.1.1', true)).toBe('address_handshake_limit');
  });

  it('forgets an address when its last handshake ends, and ignores a release without an open', () => {
    const a = new HandshakeAdmission();
    a.opened('1.1.1.1');
    a.opened('1.1.1.1');
    a.released('1.1.1.1');
    a.released('1.1.1.1');
    a.released('1.1.1.1');
    a.released('3.3.3.3');
    expect(a.inFlight).toBe(0);
    expect(a.addresses).toBe(0);
  });

  it('counts live connections per address apart from handshakes: an address at MAX_CONNECTIONS_PER_ADDRESS is refused until one ends', () => {
    const a = new HandshakeAdmission({ retry: 'never' });
    // Established connections: their handshakes are over, their connection slots are held.
    for (let i = 0; i < MAX_CONNECTIONS_PER_ADDRESS; i++) {
      expect(a.decide('1.1.1.1', false)).toBe('accept');
      a.connectionOpened('1.1.1.1');
      a.opened('1.1.1.1');
      a.released('1.1.1.1');
    }
    expect(a.inFlight).toBe(0);
    expect(a.connectionsFrom('1.1.1.1')).toBe(MAX_CONNECTIONS_PER_ADDRESS);
    expect(a.decide('1.1.1.1', false)).toBe('address_connection_limit');
    expect(a.decide('1.1.1.1', true)).toBe('address_connection_limit');
    expect(a.decide('2.2.2.2', false)).toBe('accept');
    a.connectionClosed('1.1.1.1');
    expect(a.decide('1.1.1.1', false)).toBe('accept');
    // A close without an open changes nothing.
    a.connectionClosed('3.3.3.3');
    expect(a.connectionsFrom('3.3.3.3')).toBe(0);
  });

  it('maxConnectionsPerAddress by option; the handshake caps are named first when both are met', () => {
    const a = new HandshakeAdmission({ retry: 'never', maxHandshakesPerAddress: 2, maxConnectionsPerAddress: 2 });
    for (let i = 0; i < 2; i++) {
      a.connectionOpened('1.1.1.1');
      a.opened('1.1.1.1');
    }
    expect(a.decide('1.1.1.1', false)).toBe('address_handshake_limit');
    a.released('1.1.1.1');
    expect(a.decide('1.1.1.1', false)).toBe('address_connection_limit');
  });

  it('refuses nonsense options', () => {
    expect(() => new HandshakeAdmission({ maxConnectionsPerAddress: 0 })).toThrow(RangeError);
    expect(() => new HandshakeAdmission({ retry: 'sometimes' as never })).toThrow(RangeError);
    expect(() => new HandshakeAdmission({ maxHandshakes: 0 })).toThrow(RangeError);
    expect(() => new HandshakeAdmission({ maxHandshakesPerAddress: Number.NaN })).toThrow(RangeError);
  });
});
