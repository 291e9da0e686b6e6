/**
 * Test certificate: ECDSA P-256, 10 days (what serverCertificateHashes accepts), made with the
 * openssl CLI into a temp dir, cached per test process.
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  certPem: string;
  keyPem: string;
  /** SHA-256 of the leaf DER. */
  hash: Uint8Array;
}

let cached: TestCert | null = null;

export function testCert(): TestCert {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'tickwire-h3-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '10',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'ignore' });
    const certPem = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const keyPem = readFileSync(join(dir, 'key.pem'), 'utf8');
    const der = new X509Certificate(certPem).raw;
    cached = { certPem, keyPem, hash: new Uint8Array(createHash('sha256').update(der).digest()) };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
