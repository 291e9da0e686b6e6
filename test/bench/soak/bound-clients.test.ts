/** The soak's clients bound to a local address (bench/soak/bound-clients.ts), on loopback. */
import { describe, expect, it } from 'vitest';
import { EndpointsByAddress, bindUdpSocket } from '../../../bench/soak/bound-clients.js';

describe('bound clients', () => {
  it('bindUdpSocket binds a free port on the address it is given', async () => {
    const s = await bindUdpSocket('127.0.0.2');
    try {
      expect(s.address().address).toBe('127.0.0.2');
      expect(s.address().port).toBeGreaterThan(0);
    } finally {
      s.close();
    }
  });

  it('EndpointsByAddress binds one QUIC endpoint per address on first use, and closes them all', async () => {
    const endpoints = new EndpointsByAddress();
    const a = endpoints.get('127.0.0.3');
    expect(endpoints.get('127.0.0.3')).toBe(a);
    const b = await endpoints.get('127.0.0.4');
    expect(await a).not.toBe(b);
    await endpoints.closeAll();
    // After closeAll the next use binds anew.
    const again = endpoints.get('127.0.0.3');
    expect(again).not.toBe(a);
    await endpoints.closeAll();
  });
});
