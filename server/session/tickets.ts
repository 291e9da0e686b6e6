import { createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCode } from '../../shared/errors.js';
import { ID_PATTERN, MAX_ID_LENGTH, MAX_NAME_LENGTH, MAX_TICKET_LENGTH } from '../../shared/limits.js';

/**
 * Join tickets: `base64url(JSON claims) "." base64url(HMAC-SHA256(secret, first part))`.
 * A game backend that shares the secret mints them (`mintTicket`); the server verifies them on
 * hello. The MAC covers the exact encoded claims, so nothing is re-serialized before checking.
 */

/** What a ticket names. */
export interface TicketClaims {
  /** Stable player id (ASCII `[A-Za-z0-9_.:-]`, at most 64). */
  playerId: string;
  /** Display name (at most 24 UTF-16 units). */
  name: string;
  /** Room to join. */
  room: string;
  /** Expiry, ms since the Unix epoch. */
  exp: number;
  /**
   * Single use: the ticket starts one fresh session; later hellos with it may only resume that
   * session (with its resume token). Dev tickets carry it; absent = usable until `exp`.
   */
  once?: true;
}

/** Default lifetime of minted tickets: long enough to open a connection, short enough to not leak far. */
export const DEFAULT_TICKET_TTL_MS = 5 * 60_000;
/** A secret shorter than this is refused: a brute-forceable HMAC key makes tickets forgeable. */
export const MIN_SECRET_BYTES = 16;

export type TicketResult =
  | { ok: true; claims: TicketClaims }
  | { ok: false; code: typeof ErrorCode.TICKET_INVALID | typeof ErrorCode.TICKET_EXPIRED; detail: string };

function secretBytes(secret: string | Uint8Array): Buffer {
  const key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
  if (key.length < MIN_SECRET_BYTES) throw new RangeError(`ticket secret must be at least ${MIN_SECRET_BYTES} bytes`);
  return key;
}

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload, 'ascii').digest();
}

function validClaims(c: unknown): c is TicketClaims {
  if (typeof c !== 'object' || c === null) return false;
  const o = c as Record<string, unknown>;
  const id = (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= MAX_ID_LENGTH && ID_PATTERN.test(v);
  return id(o.playerId) && id(o.room)
    && typeof o.name === 'string' && o.name.length >= 1 && o.name.length <= MAX_NAME_LENGTH
    && typeof o.exp === 'number' && Number.isFinite(o.exp)
    && (o.once === undefined || o.once === true);
}

/**
 * Mint a ticket (for game backends). `ttlMs` defaults to DEFAULT_TICKET_TTL_MS from `now`.
 * Throws RangeError on claims the server would refuse (a programming error on the caller's side).
 */
export function mintTicket(
  secret: string | Uint8Array,
  claims: { playerId: string; name: string; room: string; expiresAt?: number; once?: boolean },
  options: { now?: number; ttlMs?: number } = {},
): string {
  const exp = claims.expiresAt ?? (options.now ?? Date.now()) + (options.ttlMs ?? DEFAULT_TICKET_TTL_MS);
  const body: TicketClaims = { playerId: claims.playerId, name: claims.name, room: claims.room, exp };
  if (claims.once) body.once = true;
  if (!validClaims(body)) throw new RangeError('ticket claims out of range (ids: [A-Za-z0-9_.:-]{1,64}; name: 1-24 chars)');
  const payload = Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
  const ticket = `${payload}.${mac(secretBytes(secret), payload).toString('base64url')}`;
  if (ticket.length > MAX_TICKET_LENGTH) throw new RangeError('ticket too long');
  return ticket;
}

const B64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Verify a ticket at time `now`. Never throws on any input. The MAC is compared in constant
 * time (timingSafeEqual over equal-length buffers) before the claims are parsed, so forged
 * payloads never reach JSON.parse.
 */
export function verifyTicket(secret: string | Uint8Array, ticket: string, now: number): TicketResult {
  const invalid = (detail: string): TicketResult => ({ ok: false, code: ErrorCode.TICKET_INVALID, detail });
  if (typeof ticket !== 'string' || ticket.length > MAX_TICKET_LENGTH) return invalid('ticket too long');
  const dot = ticket.indexOf('.');
  if (dot <= 0 || dot !== ticket.lastIndexOf('.')) return invalid('ticket is not payload.signature');
  const payload = ticket.slice(0, dot);
  const signature = ticket.slice(dot + 1);
  if (!B64URL.test(payload) || !B64URL.test(signature)) return invalid('ticket is not base64url');
  // Compare the canonical base64url text, not decoded bytes: base64 decoders ignore the unused
  // low bits of the last character, which would make several signature strings verify.
  const expected = Buffer.from(mac(secretBytes(secret), payload).toString('base64url'), 'ascii');
  const given = Buffer.from(signature, 'ascii');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid('ticket signature does not verify');
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return invalid('ticket payload is not JSON');
  }
  if (!validClaims(claims)) return invalid('ticket claims out of range');
  if (claims.exp <= now) return { ok: false, code: ErrorCode.TICKET_EXPIRED, detail: 'ticket expired' };
  const verified: TicketClaims = { playerId: claims.playerId, name: claims.name, room: claims.room, exp: claims.exp };
  if (claims.once) verified.once = true;
  return { ok: true, claims: verified };
}
