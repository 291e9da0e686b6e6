/** TEMPORARY: replaced by H1's extended-CONNECT validation in server/h3/wire when it lands. */
import { H3_MESSAGE_ERROR, wireError, type WireError } from './wire/errors.js';
export type ConnectValidation =
  | { status: 'ok'; authority: string; path: string; origin: string | null }
  | { status: 'not-webtransport'; authority: string; path: string; origin: string | null }
  | WireError;
export function validateExtendedConnect(headers: ReadonlyArray<readonly [string, string]>): ConnectValidation {
  const get = (n: string) => headers.find(([k]) => k === n)?.[1];
  const method = get(':method'), protocol = get(':protocol'), scheme = get(':scheme'), authority = get(':authority'), path = get(':path');
  const origin = get('origin') ?? null;
  if (!method) return wireError(H3_MESSAGE_ERROR, 'no :method');
  if (method !== 'CONNECT' || protocol !== 'webtransport') return { status: 'not-webtransport', authority: authority ?? '', path: path ?? '', origin };
  if (scheme !== 'https' || !authority || !path) return wireError(H3_MESSAGE_ERROR, 'bad pseudo headers');
  return { status: 'ok', authority, path, origin };
}
