import { afterAll, describe, expect, it } from 'vitest';
import { createHash, X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native } from '@matrixai/quic';
import {
  createDevCertificate, DEV_CERT_FILE, DEV_KEY_FILE, ensureDevCertificate, MAX_PINNED_CERT_VALIDITY_MS,
} from '../../certs/dev-cert.js';
import { oid, time, integer, unsignedInteger } from '../../certs/der.js';

const DAY = 24 * 3600 * 1000;
const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'tickwire-cert-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('DER writer', () => {
  it('encodes known values', () => {
    expect(Buffer.from(oid('1.2.840.10045.4.3.2')).toString('hex')).toBe('06082a8648ce3d040302');
    expect(Buffer.from(oid('2.5.29.17')).toString('hex')).toBe('0603551d11');
    expect(Buffer.from(integer(2)).toString('hex')).toBe('020102');
    expect(Buffer.from(integer(128)).toString('hex')).toBe('02020080');
    expect(Buffer.from(unsignedInteger(Uint8Array.of(0, 0, 0x80))).toString('hex')).toBe('02020080');
    expect(Buffer.from(time(new Date(Date.UTC(2026, 10, 22, 6, 5, 9)))).toString('latin1').slice(2)).toBe('261122060509Z');
    expect(Buffer.from(time(new Date(Date.UTC(2050, 0, 1)))).toString('latin1').slice(2)).toBe('20500101000000Z');
  });
});

describe('dev certificate', () => {
  const now = Date.UTC(2026, 10, 22, 6, 0, 0);

  it('is a self-signed ECDSA P-256 X.509 v3 certificate for localhost/127.0.0.1, valid 10 days', () => {
    const c = createDevCertificate({ now: () => now });
    const x = new X509Certificate(c.certDer);
    expect(x.publicKey.asymmetricKeyType).toBe('ec');
    expect(x.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(x.verify(x.publicKey)).toBe(true); // self-signed: signature checks with its own key
    expect(x.checkPrivateKey(createPrivateKey(c.keyPem))).toBe(true);
    expect(x.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.ca).toBe(false);
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    const from = Date.parse(x.validFrom);
    const to = Date.parse(x.validTo);
    expect(to - from).toBe(10 * DAY);
    expect(to - from).toBeLessThan(MAX_PINNED_CERT_VALIDITY_MS);
    expect(from).toBeLessThanOrEqual(now);
    expect(to).toBeGreaterThan(now + 9 * DAY);
    expect(c.notAfter.getTime()).toBe(to);
    // The pin is SHA-256 of the DER, in every form the API offers.
    const hash = createHash('sha256').update(c.certDer).digest();
    expect(Buffer.from(c.sha256).equals(hash)).toBe(true);
    expect(c.sha256Hex).toBe(hash.toString('hex'));
    expect(c.sha256Base64).toBe(hash.toString('base64'));
    expect(x.fingerprint256.replace(/:/g, '').toLowerCase()).toBe(c.sha256Hex);
    expect(Buffer.from(x.raw).equals(Buffer.from(c.certDer))).toBe(true);
    expect(c.certPem).toBe(x.toString());
  });

  it('refuses a validity of 14 days or more', () => {
    expect(() => createDevCertificate({ validityMs: 14 * DAY })).toThrow(RangeError);
  });

  it('loads into quiche (BoringSSL) as the server certificate and key', async () => {
    const dir = await tempDir();
    await ensureDevCertificate(dir);
    const config = new native.quiche.Config();
    expect(() => config.loadCertChainFromPemFile(join(dir, DEV_CERT_FILE))).not.toThrow();
    expect(() => config.loadPrivKeyFromPemFile(join(dir, DEV_KEY_FILE))).not.toThrow();
  });

  it('stores the files, reuses them, and renews within 2 days of expiry (injected clock)', async () => {
    const dir = await tempDir();
    let t = now;
    const clock = { now: () => t };
    const first = await ensureDevCertificate(dir, clock);
    expect(first.created).toBe(true);
    expect((await stat(join(dir, DEV_KEY_FILE))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, DEV_CERT_FILE), 'utf8')).toBe(first.certPem);

    t = now + 7 * DAY; // 3 days - 1 h left: reuse
    const again = await ensureDevCertificate(dir, clock);
    expect(again.created).toBe(false);
    expect(again.sha256Hex).toBe(first.sha256Hex);
    expect(again.keyPem).toBe(first.keyPem);

    t = first.notAfter.getTime() - 2 * DAY + 1000; // under 2 days left: renew
    const renewed = await ensureDevCertificate(dir, clock);
    expect(renewed.created).toBe(true);
    expect(renewed.sha256Hex).not.toBe(first.sha256Hex);
    expect(renewed.notAfter.getTime()).toBeGreaterThan(t + 9 * DAY);

    t += 1000;
    expect((await ensureDevCertificate(dir, clock)).sha256Hex).toBe(renewed.sha256Hex);
    // A caller-chosen threshold.
    expect((await ensureDevCertificate(dir, { now: () => t, renewBeforeMs: 11 * DAY })).created).toBe(true);
  });

  it('replaces missing, corrupt, mismatched or not-yet-valid files', async () => {
    const dir = await tempDir();
    const a = await ensureDevCertificate(dir, { now: () => now });
    await writeFile(join(dir, DEV_KEY_FILE), 'garbage');
    const b = await ensureDevCertificate(dir, { now: () => now });
    expect(b.created).toBe(true);
    expect(b.sha256Hex).not.toBe(a.sha256Hex);
    // Key of another certificate.
    await writeFile(join(dir, DEV_KEY_FILE), createDevCertificate().keyPem);
    expect((await ensureDevCertificate(dir, { now: () => now })).created).toBe(true);
    // Clock before notBefore.
    expect((await ensureDevCertificate(dir, { now: () => now - 2 * DAY })).created).toBe(true);
    await rm(join(dir, DEV_CERT_FILE));
    expect((await ensureDevCertificate(dir, { now: () => now })).created).toBe(true);
  });
});
