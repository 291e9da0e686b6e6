/**
 * Snapshot decoder (docs/protocol.md, "Layout"). Never throws: a snapshot that cannot be read
 * is `malformed`, one whose baseline the caller no longer holds is `unknown_baseline`; either
 * way the caller drops it and counts it, and the next snapshot (against an older ack) heals.
 */
import { MAX_ENTITY_ID } from '../limits.js';
import { SNAPSHOT_MESSAGE_ID } from '../messages.js';
import { BitReader } from './bits.js';
import {
  ANGLE_BITS, ENTITY_ID_BITS, SHORT_DELTA_MIN_BITS, SHORT_DELTA_WIDTH_FIELD_BITS, STANDARD_FORMAT, dequantizeAngle, dequantizePosition,
  type SnapshotFormat,
} from './format.js';
import type { EntityState, SnapshotView } from './view.js';

/** A decoded snapshot: header, the full entity set (delta applied), and its view for later deltas. */
export interface DecodedSnapshot extends SnapshotView {
  /** Baseline it was coded against (0 = full snapshot). */
  readonly baselineId: number;
  readonly serverTick: number;
  /** Server clock in ms modulo 2^32. */
  readonly serverTime: number;
  /** Newest input seq the server had applied for this client. */
  readonly lastInputSeq: number;
  /** Every entity in the view, in id order, in world units (omitted ones at their last state). */
  readonly entities: EntityState[];
  /** Ids in `entities` that this snapshot did not refresh (still present; state is older). */
  readonly omitted: number[];
}

export type SnapshotDecodeResult =
  | { ok: true; snapshot: DecodedSnapshot }
  | { ok: false; reason: 'unknown_baseline' | 'malformed'; detail: string; baselineId?: number };

/** Looks up a snapshot view the client still holds (its ring of received snapshots). */
export type BaselineLookup = (id: number) => SnapshotView | undefined;

const A_BITS = ANGLE_BITS;
const A_MASK = (1 << ANGLE_BITS) - 1;
const deqPos = dequantizePosition;
const deqAngle = dequantizeAngle;

const malformed = (detail: string): SnapshotDecodeResult => ({ ok: false, reason: 'malformed', detail });

/** Decodes a whole `snapshot` message (first byte must be the snapshot message id). */
export function decodeSnapshot(message: Uint8Array, getBaseline: BaselineLookup, format: SnapshotFormat = STANDARD_FORMAT): SnapshotDecodeResult {
  if (!(message instanceof Uint8Array) || message.length === 0 || message[0] !== SNAPSHOT_MESSAGE_ID) {
    return malformed('not a snapshot message');
  }
  return decodeSnapshotBody(message.subarray(1), getBaseline, format);
}

/**
 * Decodes a snapshot body (the message without its id byte, as decodeMessage returns it).
 * `getBaseline` is called at most once, with the baseline id the snapshot names.
 */
export function decodeSnapshotBody(body: Uint8Array, getBaseline: BaselineLookup, format: SnapshotFormat = STANDARD_FORMAT): SnapshotDecodeResult {
  try {
    return decodeUnchecked(body, getBaseline, format);
  } catch (e) {
    // Defensive: a lookup callback or a bug must not turn a peer's bytes into an exception.
    return malformed(`decoder failure: ${e instanceof Error ? e.message.slice(0, 100) : String(e)}`);
  }
}

function decodeUnchecked(body: Uint8Array, getBaseline: BaselineLookup, f: SnapshotFormat): SnapshotDecodeResult {
  if (!(body instanceof Uint8Array) || body.length < 4 + 13) return malformed('shorter than a snapshot header');
  const lastInputSeq = ((body[0] << 24) >>> 0) + (body[1] << 16) + (body[2] << 8) + body[3];
  const r = new BitReader(body.subarray(4));
  const snapshotId = r.read(32);
  const delta = r.expGolomb();
  const serverTick = r.read(32);
  const serverTime = r.read(32);
  if (r.overrun) return malformed('truncated header');
  if (snapshotId === 0) return malformed('snapshot id 0');
  let base: SnapshotView | null = null;
  let baselineId = 0;
  if (delta > 0) {
    baselineId = (snapshotId - delta + 2 ** 32) % 2 ** 32;
    if (baselineId === 0) return malformed('baseline id 0');
    const b = getBaseline(baselineId);
    if (!b || b.id !== baselineId) {
      return { ok: false, reason: 'unknown_baseline', detail: `baseline ${baselineId} is not held`, baselineId };
    }
    base = b;
  }
  const width = base ? SHORT_DELTA_MIN_BITS + r.read(SHORT_DELTA_WIDTH_FIELD_BITS) : 0;

  // Baseline section: kept entities in id order.
  const m = base ? base.count : 0;
  const keptIds = new Uint16Array(m);
  const keptX = new Uint16Array(m);
  const keptY = new Uint16Array(m);
  const keptA = new Uint8Array(m);
  let kc = 0;
  const omitted: number[] = [];
  const xBits = f.xBits;
  const yBits = f.yBits;
  const xMax = f.xMax;
  const yMax = f.yMax;
  const half = width > 0 ? 2 ** (width - 1) : 0;
  const mask = width > 0 ? (1 << width) - 1 : 0;
  for (let i = 0; i < m && base; i++) {
    let x = base.qx[i];
    let y = base.qy[i];
    let a = base.qa[i];
    const code = r.peek(3);
    if ((code & 0b100) === 0) {
      // 0: delta. Position form bit, then a short (dx, dy) or an absolute (x, y).
      r.skip(1);
      if (r.peek(1) === 0) {
        const v = r.read(1 + 2 * width);
        let dx = (v >>> width) & mask;
        let dy = v & mask;
        if (dx >= half) dx -= 2 * half;
        if (dy >= half) dy -= 2 * half;
        x += dx;
        y += dy;
      } else {
        r.skip(1);
        x = r.read(xBits);
        y = r.read(yBits);
      }
      const ang = r.peek(1 + A_BITS);
      if (ang >>> A_BITS) {
        r.skip(1 + A_BITS);
        a = ang & A_MASK;
      } else {
        r.skip(1);
      }
      if (x < 0 || x > xMax || y < 0 || y > yMax) return malformed(`entity ${base.ids[i]}: position out of range`);
    } else if ((code & 0b010) === 0) {
      r.skip(2); // 10: omitted
      omitted.push(base.ids[i]);
    } else {
      r.skip(3);
      if (code & 1) {
        if (r.overrun) return malformed('truncated baseline section');
        continue; // 111: left
      }
      // 110: unchanged
    }
    if (r.overrun) return malformed('truncated baseline section');
    keptIds[kc] = base.ids[i];
    keptX[kc] = x;
    keptY[kc] = y;
    keptA[kc] = a;
    kc++;
  }

  // Entered entities.
  const enterCount = r.expGolomb();
  if (r.overrun || enterCount < 0) return malformed('bad enter count');
  const minEnterBits = 1 + xBits + yBits + A_BITS;
  if (enterCount * minEnterBits > r.remaining) return malformed('enter count larger than the data');
  const total = kc + enterCount;
  const ids = new Uint16Array(total);
  const qx = new Uint16Array(total);
  const qy = new Uint16Array(total);
  const qa = new Uint8Array(total);
  // Merge kept (sorted) with entered (must be sorted and disjoint from kept).
  let k = 0;
  let ki = 0;
  let prev = -1;
  for (let e = 0; e < enterCount; e++) {
    const id = r.bit() ? prev + 1 : r.read(ENTITY_ID_BITS);
    const x = r.read(xBits);
    const y = r.read(yBits);
    const a = r.read(A_BITS);
    if (r.overrun) return malformed('truncated enter section');
    if (id <= prev || id > MAX_ENTITY_ID) return malformed(`entered id ${id} out of order or range`);
    if (x > xMax || y > yMax) return malformed(`entered entity ${id}: position out of range`);
    while (ki < kc && keptIds[ki] < id) {
      ids[k] = keptIds[ki]; qx[k] = keptX[ki]; qy[k] = keptY[ki]; qa[k] = keptA[ki]; k++; ki++;
    }
    if (ki < kc && keptIds[ki] === id) return malformed(`entered id ${id} is already in the baseline`);
    ids[k] = id; qx[k] = x; qy[k] = y; qa[k] = a; k++;
    prev = id;
  }
  while (ki < kc) {
    ids[k] = keptIds[ki]; qx[k] = keptX[ki]; qy[k] = keptY[ki]; qa[k] = keptA[ki]; k++; ki++;
  }
  if (!r.atPaddedEnd()) return malformed('trailing data after the snapshot');

  const entities: EntityState[] = new Array(total);
  for (let j = 0; j < total; j++) {
    entities[j] = { id: ids[j], x: deqPos(qx[j]), y: deqPos(qy[j]), angle: deqAngle(qa[j]) };
  }
  return {
    ok: true,
    snapshot: {
      id: snapshotId, baselineId, serverTick, serverTime, lastInputSeq,
      count: total, ids, qx, qy, qa, complete: omitted.length === 0,
      entities, omitted,
    },
  };
}
