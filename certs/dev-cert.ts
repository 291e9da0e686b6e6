/**
 * The development certificate for WebTransport with `serverCertificateHashes`
 * (W3C WebTransport §"custom certificate requirements"): browsers accept a self-signed
 * certificate pinned by the SHA-256 hash of its DER only when it uses ECDSA (P-256 here; RSA is
 * refused) and is valid for at most 14 days. Ours is valid 10 days and renewed when less than 2
 * days remain, so a running demo keeps working.
 *
 * The key pair and signature come from node:crypto; the certificate DER (RFC 5280) is built by
 * the small writer in ./der.ts.
 */
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  bitString, boolean, explicit, implicitPrimitive, integer, octetString, oid, sequence, set, time, unsignedInteger, utf8String,
} from './der.js';
import { MAX_PINNED_CERT_VALIDITY_MS } from '../server/h3/client/cert-pinning.js';

/** Validity of a new certificate: 10 days (browsers refuse more than 14). */
export const DEV_CERT_VALIDITY_MS = 10 * 24 * 3600 * 1000;
/** Browsers' upper bound for hash-pinned certificates (its home is the verifier's). */
export { MAX_PINNED_CERT_VALIDITY_MS };
/** Renew when less than this remains before notAfter: 2 days. */
export const DEV_CERT_RENEW_BEFORE_MS = 2 * 24 * 3600 * 1000;
/** notBefore is set this far in the past to tolerate small clock differences: 1 hour. */
export const DEV_CERT_BACKDATE_MS = 3600 * 1000;
/** File names inside the certificate directory (ignored by git). */
export const DEV_CERT_FILE = 'dev-cert.pem';
export const DEV_KEY_FILE = 'dev-key.pem';

const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const OID_COMMON_NAME = '2.5.4.3';
const OID_SUBJECT_ALT_NAME = '2.5.29.17';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_KEY_USAGE = '2.5.29.15';
const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

/** A certificate and its key, in the forms the QUIC layer and the HTTP API need. */
export interface DevCertificate {
  certPem: string;
  keyPem: string;
  certDer: Uint8Array;
  /** SHA-256 of the DER: the value for `serverCertificateHashes`. */
  sha256: Uint8Array;
  sha256Base64: string;
  sha256Hex: string;
  notBefore: Date;
  notAfter: Date;
  /** True when this call created (or renewed) the certificate rather than reusing stored files. */
  created: boolean;
}

export interface CreateDevCertificateOptions {
  /** Clock, ms since the epoch (default Date.now). */
  now?: () => number;
  /** Validity length (default DEV_CERT_VALIDITY_MS; must stay under 14 days). */
  validityMs?: number;
  /** Common name (default "tickwire dev"). */
  commonName?: string;
  /** DNS names for the SAN (default ["localhost"]). */
  dnsNames?: string[];
  /** IP addresses for the SAN (default ["127.0.0.1", "::1"]). */
  ipAddresses?: string[];
}

function ipBytes(ip: string): Uint8Array {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) {
    const parts = ip.split('.').map(Number);
    if (parts.some((p) => p > 255)) throw new RangeError(`bad IPv4 address ${ip}`);
    return Uint8Array.from(parts);
  }
  // IPv6: expand "::" and write 8 groups of 16 bits.
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) throw new RangeError(`bad IP address ${ip}`);
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function describe(certDer: Uint8Array, certPem: string, keyPem: string, created: boolean): DevCertificate {
  const x = new X509Certificate(certDer);
  const sha256 = new Uint8Array(createHash('sha256').update(certDer).digest());
  return {
    certPem, keyPem, certDer, sha256,
    sha256Base64: Buffer.from(sha256).toString('base64'),
    sha256Hex: Buffer.from(sha256).toString('hex'),
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    created,
  };
}

/** Creates a fresh self-signed ECDSA P-256 certificate in memory (no files). */
export function createDevCertificate(options: CreateDevCertificateOptions = {}): DevCertificate {
  const nowMs = (options.now ?? Date.now)();
  const validityMs = options.validityMs ?? DEV_CERT_VALIDITY_MS;
  if (!(validityMs > 0 && validityMs < MAX_PINNED_CERT_VALIDITY_MS)) throw new RangeError('validity must be positive and under 14 days');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  // Whole seconds: X.509 times carry no milliseconds.
  const notBefore = new Date(Math.floor((nowMs - DEV_CERT_BACKDATE_MS) / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + validityMs);
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // positive
  serial[0] |= 0x01; // and non-zero, 16 bytes (RFC 5280 §4.1.2.2: at most 20 octets)
  const algorithm = sequence(oid(OID_ECDSA_WITH_SHA256)); // RFC 5758 §3.2: parameters absent
  const name = sequence(set(sequence(oid(OID_COMMON_NAME), utf8String(options.commonName ?? 'tickwire dev'))));
  const sanNames = [
    ...(options.dnsNames ?? ['localhost']).map((d) => implicitPrimitive(2, new TextEncoder().encode(d))),
    ...(options.ipAddresses ?? ['127.0.0.1', '::1']).map((ip) => implicitPrimitive(7, ipBytes(ip))),
  ];
  const extensions = sequence(
    sequence(oid(OID_SUBJECT_ALT_NAME), octetString(sequence(...sanNames))),
    sequence(oid(OID_BASIC_CONSTRAINTS), boolean(true), octetString(sequence())), // cA FALSE (default)
    sequence(oid(OID_KEY_USAGE), boolean(true), octetString(Uint8Array.of(0x03, 0x02, 0x07, 0x80))), // digitalSignature
    sequence(oid(OID_EXT_KEY_USAGE), octetString(sequence(oid(OID_SERVER_AUTH)))),
  );
  const tbs = sequence(
    explicit(0, integer(2)), // version v3
    unsignedInteger(serial),
    algorithm,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    explicit(3, extensions),
  );
  const signature = sign('sha256', tbs, privateKey); // DER-encoded ECDSA-Sig-Value
  const certDer = sequence(tbs, algorithm, bitString(new Uint8Array(signature)));
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return describe(certDer, pem('CERTIFICATE', certDer), keyPem, true);
}

export interface EnsureDevCertificateOptions extends CreateDevCertificateOptions {
  /** Renew when less than this remains (default DEV_CERT_RENEW_BEFORE_MS). */
  renewBeforeMs?: number;
}

/** Why stored files cannot be reused, or null when they can. */
function unusableReason(certPem: string, keyPem: string, nowMs: number, renewBeforeMs: number): string | null {
  let x: X509Certificate;
  let key: KeyObject;
  try {
    x = new X509Certificate(certPem);
    key = createPrivateKey(keyPem);
  } catch {
    return 'unreadable';
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return 'not ECDSA P-256';
  if (!x.checkPrivateKey(key)) return 'key does not match certificate';
  const from = Date.parse(x.validFrom);
  const to = Date.parse(x.validTo);
  if (!(to - from < MAX_PINNED_CERT_VALIDITY_MS)) return 'validity of 14 days or more';
  if (nowMs < from) return 'not yet valid';
  if (to - nowMs < renewBeforeMs) return 'expires soon';
  return null;
}

/**
 * Returns the stored dev certificate from `dir` (dev-cert.pem, dev-key.pem) unless it is missing,
 * unreadable, mismatched, or within `renewBeforeMs` of expiry; then creates a new one and stores
 * it (key file mode 0600). Writes go through a temporary file and a rename, so a reader never sees
 * half a file; a reader that sees a new certificate with an old key regenerates.
 */
export async function ensureDevCertificate(dir: string, options: EnsureDevCertificateOptions = {}): Promise<DevCertificate> {
  const now = options.now ?? Date.now;
  const renewBeforeMs = options.renewBeforeMs ?? DEV_CERT_RENEW_BEFORE_MS;
  const certPath = join(dir, DEV_CERT_FILE);
  const keyPath = join(dir, DEV_KEY_FILE);
  try {
    const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    if (unusableReason(certPem, keyPem, now(), renewBeforeMs) === null) {
      const der = new Uint8Array(new X509Certificate(certPem).raw);
      return describe(der, certPem, keyPem, false);
    }
  } catch {
    // Missing files: create below.
  }
  const fresh = createDevCertificate(options);
  await mkdir(dir, { recursive: true });
  const suffix = `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(keyPath + suffix, fresh.keyPem, { mode: 0o600 });
  await writeFile(certPath + suffix, fresh.certPem);
  await rename(keyPath + suffix, keyPath);
  await rename(certPath + suffix, certPath);
  return fresh;
}

// `npx tsx certs/dev-cert.ts [dir]` makes or reuses the certificate and prints its hash.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2] ?? new URL('.', import.meta.url).pathname;
  ensureDevCertificate(dir).then((c) => {
    console.log(JSON.stringify({ dir, sha256Base64: c.sha256Base64, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString(), created: c.created }));
  }, (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
