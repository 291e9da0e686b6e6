/**
 * server/h3/client/cert-pinning.ts: W3C WebTransport §6.4 certificate hash verification.
 */
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDevCertificate } from '../../../../certs/dev-cert.js';
import { pinnedSha256, verifyPinned } from '../../../../server/h3/client/cert-pinning.js';

const cert = createDevCertificate();
const der = new Uint8Array(new X509Certificate(cert.certPem).raw);

describe('pinnedSha256', () => {
  it('keeps the SHA-256 pins (any case), ignores other algorithms, null when none', () => {
    const pins = pinnedSha256([{ algorithm: 'SHA-256', value: cert.sha256 }, { algorithm: 'sha-1', value: new Uint8Array(20) }]);
    expect(pins?.map((p) => p.toString('hex'))).toEqual([Buffer.from(cert.sha256).toString('hex')]);
    expect(pinnedSha256([])).toBeNull();
    expect(pinnedSha256(undefined)).toBeNull();
  });
});

describe('verifyPinned', () => {
  const pins = pinnedSha256([{ algorithm: 'sha-256', value: cert.sha256 }])!;

  it('accepts the pinned certificate while it is valid', () => {
    expect(verifyPinned([der], pins)).toBeNull();
  });

  it('refuses no certificate, another hash, or a certificate outside its validity', () => {
    expect(verifyPinned(null, pins)).toBe('server presented no certificate');
    expect(verifyPinned([der], [Buffer.alloc(32)])).toBe('certificate hash does not match serverCertificateHashes');
    expect(verifyPinned([der], pins, Date.now() + 30 * 24 * 3600 * 1000)).toBe('certificate not currently valid');
  });
});
