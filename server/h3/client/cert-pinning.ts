/**
 * Server authentication by certificate hash, as the W3C WebTransport API does it with
 * `serverCertificateHashes` (https://www.w3.org/TR/webtransport/ §6.4 "verify a certificate
 * hash"): the SHA-256 of the leaf certificate's DER must be one of the pins, and the certificate
 * must be currently valid for at most 14 days.
 */
import { createHash, X509Certificate } from 'node:crypto';

/** Longest validity W3C allows for a certificate pinned by hash (§6.4). */
export const MAX_PINNED_CERT_VALIDITY_MS = 14 * 24 * 3600 * 1000;

/** One entry of `serverCertificateHashes`. */
export interface NodeWebTransportHash {
  algorithm: string;
  value: ArrayBufferView | ArrayBuffer;
}

/** The SHA-256 pins of `list` (other algorithms are ignored, as W3C says); null when none given. */
export function pinnedSha256(list: NodeWebTransportHash[] | undefined): Buffer[] | null {
  if (!list || list.length === 0) return null;
  const out: Buffer[] = [];
  for (const h of list) {
    if (h.algorithm.toLowerCase() !== 'sha-256') continue;
    const v = h.value;
    out.push(ArrayBuffer.isView(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : Buffer.from(v));
  }
  return out;
}

/** Checks the peer's leaf-first DER `chain` against `pins`. Returns null when accepted, else why not. */
export function verifyPinned(chain: Uint8Array[] | null, pins: Buffer[], now = Date.now()): string | null {
  if (!chain || chain.length === 0) return 'server presented no certificate';
  const leaf = chain[0];
  const digest = createHash('sha256').update(leaf).digest();
  if (!pins.some((p) => p.equals(digest))) return 'certificate hash does not match serverCertificateHashes';
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(leaf));
  } catch {
    return 'unparseable certificate';
  }
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (!(from <= now && now <= to)) return 'certificate not currently valid';
  if (to - from > MAX_PINNED_CERT_VALIDITY_MS) return 'certificate validity exceeds 14 days';
  return null;
}
