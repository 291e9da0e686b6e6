/**
 * TEMPORARY until server/h3/wire/errors.ts (H1) exports parseQuicheError; then this re-exports it.
 */
export interface QuicheErrorInfo { kind: string; code?: number }
export function parseQuicheError(e: unknown): QuicheErrorInfo {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /^(\w+)(?:\((\d+)\))?/.exec(msg);
  if (!m) return { kind: 'Unknown' };
  return m[2] !== undefined ? { kind: m[1], code: Number(m[2]) } : { kind: m[1] };
}
