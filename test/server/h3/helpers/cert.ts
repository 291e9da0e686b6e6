/**
 * Test certificate for the h3 tests: the project's dev certificate
 * generator (certs/dev-cert.ts: ECDSA P-256, 10 days, SAN localhost/127.0.0.1/::1), made in
 * memory once per process.
 */
import { createDevCertificate } from '../../../../certs/dev-cert.js';

export interface TestCert {
  certPem: string;
  keyPem: string;
  /** SHA-256 of the leaf DER (the `serverCertificateHashes` value). */
  hash: Uint8Array;
}

let cached: TestCert | null = null;

export function testCert(): TestCert {
  if (!cached) {
    const c = createDevCertificate();
    cached = { certPem: c.certPem, keyPem: c.keyPem, hash: c.sha256 };
  }
  return cached;
}
