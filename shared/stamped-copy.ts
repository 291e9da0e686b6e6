/**
 * A message sent to many clients that differ in one u32 field (a shared snapshot encoding and
 * its per-client lastInputSeq, shared/snapshot/write.ts withLastInputSeq) is handed around as the
 * shared bytes plus a "stamp": the field's offset and value. Whoever copies the bytes last writes
 * the stamp into its copy (a stamped copy here, or a transport's frame: server/transports), so
 * the shared bytes are copied once per client, not twice.
 */
import { ByteSlab } from './byte-slab.js';

/**
 * Size of the slabs stamped copies are cut from (byte-slab.ts): about twenty standard-scene
 * snapshots of 256 players each.
 */
export const STAMP_SLAB_BYTES = 16 * 1024;
const stamps = new ByteSlab(STAMP_SLAB_BYTES);

/** Writes `value` (an integer in [0, 2^32)) at `offset` of `target`, big-endian (network order). */
export function writeU32BE(target: Uint8Array, offset: number, value: number): void {
  target[offset] = (value >>> 24) & 0xff;
  target[offset + 1] = (value >>> 16) & 0xff;
  target[offset + 2] = (value >>> 8) & 0xff;
  target[offset + 3] = value & 0xff;
}

/**
 * A copy of `bytes` with the u32 `value` written big-endian at `offset` (which must leave four
 * bytes in the message). The copy is a fresh piece of a pooled slab (STAMP_SLAB_BYTES): owned by
 * the caller, never written again here.
 */
export function stampedCopy(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const out = stamps.take(bytes.length);
  out.set(bytes);
  writeU32BE(out, offset, value);
  return out;
}
