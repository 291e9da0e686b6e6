/**
 * Snapshot writer (docs/protocol.md, "Layout"): the bit layout of a planned and selected snapshot,
 * the mirror of decode.ts beside it. The bits go through bits.ts' BitWriter, which the decoder's
 * BitReader reads back.
 */
import { MAX_UNRELIABLE_MESSAGE_BYTES } from '../limits.js';
import { SNAPSHOT_MESSAGE_ID } from '../messages.js';
import { stampedCopy } from '../stamped-copy.js';
export { STAMP_SLAB_BYTES } from '../stamped-copy.js';
import { BitWriter } from './bits.js';
import { ANGLE_BITS, ENTITY_ID_BITS, SHORT_DELTA_MIN_BITS, SHORT_DELTA_WIDTH_FIELD_BITS, signedBitsNeeded } from './format.js';
import { KIND_ENTER, KIND_UNCHANGED, type Plan } from './plan.js';
import type { PreparedEntities } from './prepare.js';

// Module-local copies: hot loops below read these per entity, and imported bindings may be
// property getters once transpiled.
const A_BITS = ANGLE_BITS;
const ID_BITS = ENTITY_ID_BITS;
const W_MIN = SHORT_DELTA_MIN_BITS;
const W_FIELD = SHORT_DELTA_WIDTH_FIELD_BITS;
const MSG_ID = SNAPSHOT_MESSAGE_ID;
const needBits = signedBitsNeeded;

/** Bytes before the bit stream: message id and the per-client lastInputSeq. */
export const SNAPSHOT_PREFIX_BYTES = 5;

/** Header fields (SnapshotInput carries them). */
export interface SnapshotHeader {
  readonly snapshotId: number;
  readonly serverTick: number;
  readonly serverTime: number;
  readonly lastInputSeq: number;
}

/** `v` as an unsigned 32-bit field: floor modulo 2^32; non-finite values as 0. */
export const u32 = (v: number): number => (Number.isFinite(v) ? ((Math.floor(v) % 2 ** 32) + 2 ** 32) % 2 ** 32 : 0);

/** Working buffers reused between calls (see plan.ts `work`); the result is copied out of `out`. */
const work = {
  out: new Uint8Array(MAX_UNRELIABLE_MESSAGE_BYTES),
  /** Per baseline entity: its index in the prepared list, -1 when it left. */
  curOf: new Int32Array(0),
};

function curOfFor(m: number): Int32Array {
  if (m > work.curOf.length) work.curOf = new Int32Array(Math.max(m, work.curOf.length * 2, 64));
  return work.curOf;
}

/**
 * The whole `snapshot` message for plan `p` (entities marked in `p.selected`), a fresh copy of
 * at most `budgetBytes` (<= MAX_UNRELIABLE_MESSAGE_BYTES) bytes. The plan's bit counts guarantee
 * it fits; the BitWriter throws if a bug ever broke that.
 */
export function writeSnapshot(p: Plan, prep: PreparedEntities, header: SnapshotHeader, budgetBytes: number): Uint8Array {
  const { base: b, baseIndex, kind, selected, n } = p;
  const { list, qx: cx, qy: cy, qa: ca, format: fmt } = prep;
  const w = new BitWriter(budgetBytes, work.out);
  w.write(MSG_ID, 8);
  w.write(u32(header.lastInputSeq), 32);
  w.write(header.snapshotId, 32);
  w.expGolomb(p.delta);
  w.write(u32(header.serverTick), 32);
  w.write(u32(header.serverTime), 32);
  if (b) {
    const width = p.width;
    const mask = (1 << width) - 1;
    const xBits = fmt.xBits;
    const yBits = fmt.yBits;
    w.write(width - W_MIN, W_FIELD);
    const curOf = curOfFor(b.count);
    curOf.fill(-1, 0, b.count);
    for (let j = 0; j < n; j++) if (baseIndex[j] >= 0) curOf[baseIndex[j]] = j;
    // Codes and fields are batched into writes of at most 24 bits (one call per entity for a
    // short delta): the writer's per-call cost dominates otherwise.
    let pv = 0;
    let pn = 0;
    const emit = (v: number, bits: number): void => {
      if (pn + bits > 24) {
        w.write(pv, pn);
        pv = 0;
        pn = 0;
      }
      pv = pv * (1 << bits) + v;
      pn += bits;
    };
    for (let i = 0; i < b.count; i++) {
      const j = curOf[i];
      if (j < 0) {
        emit(0b111, 3); // left
      } else if (!selected[j]) {
        emit(0b10, 2); // omitted
      } else if (kind[j] === KIND_UNCHANGED) {
        emit(0b110, 3);
      } else {
        const dx = cx[j] - b.qx[i];
        const dy = cy[j] - b.qy[i];
        if (needBits(dx) <= width && needBits(dy) <= width) {
          // 0 (delta), 0 (short form), dx, dy
          emit(0, 2);
          emit(dx & mask, width);
          emit(dy & mask, width);
        } else {
          emit(0b01, 2); // 0 (delta), 1 (long form)
          emit(cx[j], xBits);
          emit(cy[j], yBits);
        }
        if (ca[j] === b.qa[i]) emit(0, 1);
        else emit((1 << A_BITS) | ca[j], 1 + A_BITS); // 1, then the angle
      }
    }
    if (pn > 0) w.write(pv, pn);
  }
  let enterCount = 0;
  for (let j = 0; j < n; j++) if (kind[j] === KIND_ENTER && selected[j]) enterCount++;
  w.expGolomb(enterCount);
  let prev = -1;
  for (let j = 0; j < n; j++) {
    if (kind[j] !== KIND_ENTER || !selected[j]) continue;
    const id = list[j].id;
    if (id === prev + 1) {
      w.write(1, 1);
    } else {
      w.write(0, 1);
      w.write(id, ID_BITS);
    }
    w.write(cx[j], fmt.xBits);
    w.write(cy[j], fmt.yBits);
    w.write(ca[j], A_BITS);
    prev = id;
  }
  return w.finish().slice();
}

/** Offset of the u32 lastInputSeq in a snapshot message (bytes 1-4, after the message id). */
export const LAST_INPUT_SEQ_OFFSET = 1;

/**
 * A copy of an encoded snapshot message with bytes 1-4 set to `lastInputSeq` (u32 big-endian):
 * how one shared encoding is stamped for each client. The copy is a fresh piece of a pooled slab
 * (shared/stamped-copy.ts): owned by the caller, never written again here. A transport that
 * copies the message anyway can write the stamp in its own copy instead (Connection's
 * sendUnreliableStamped with LAST_INPUT_SEQ_OFFSET and `u32(lastInputSeq)`): same bytes.
 */
export function withLastInputSeq(message: Uint8Array, lastInputSeq: number): Uint8Array {
  return stampedCopy(message, LAST_INPUT_SEQ_OFFSET, u32(lastInputSeq));
}
