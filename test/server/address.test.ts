import { describe, expect, it } from 'vitest';
import { addressKey, hostOf } from '../../server/address.js';

describe('addressKey: one key per address for admission shares', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['127.0.0.2:5555', '127.0.0.2'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['[::ffff:10.1.2.3]:8443', '10.1.2.3'],
    ['::ffff:0a01:0203', '10.1.2.3'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::7', '2001:db8:1:2::/64'],
    ['[2001:DB8:1:2:aaaa::]:9', '2001:db8:1:2::/64'],
    ['2001:db8::1.2.3.4', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    // Bare hosts as the QUIC endpoint's handshake and connection shares key them (a UDP peer).
    ['1.2.3.4', '1.2.3.4'],
    ['::ffff:102:304', '1.2.3.4'],
    ['2001:0db8:0001:0002:ffff::', '2001:db8:1:2::/64'],
    ['2001:db8:1:3::1', '2001:db8:1:3::/64'],
    ['not an address', 'not an address'],
    ['1:2:3', '1:2:3'],
    ['1::2::3', '1::2::3'],
  ])('%s -> %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });

  it('every address of one /64 shares a key; the next /64 does not', () => {
    expect(addressKey('2001:db8:0:1::1')).toBe(addressKey('2001:db8:0:1:ffff:ffff:ffff:ffff'));
    expect(addressKey('2001:db8:0:1::1')).not.toBe(addressKey('2001:db8:0:2::1'));
  });

  it('keeps anything it cannot parse as one opaque key', () => {
    expect(addressKey('')).toBe('');
    expect(addressKey('gggg::1')).toBe('gggg::1');
    expect(addressKey('1:2:3:4:5:6:7:8:9')).toBe('1:2:3:4:5:6:7:8:9');
  });

  it('hostOf strips ports and brackets only', () => {
    expect(hostOf('[::1]:443')).toBe('::1');
    expect(hostOf('::1')).toBe('::1');
    expect(hostOf('10.0.0.1:80')).toBe('10.0.0.1');
    expect(hostOf('example.test')).toBe('example.test');
  });
});
