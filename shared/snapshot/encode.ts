/**
 * Snapshot encoder (docs/protocol.md, "Snapshots"). Pure and I/O-free; see the doc for the bit
 * layout. One call encodes one snapshot for one baseline and never exceeds the byte budget.
 *
 * Sharing between clients: the bytes depend only on the snapshot id, header fields, the baseline
 * view, the entity set, the budget and (when the snapshot does not fit) the accumulator. When the
 * result is `complete` and the baseline view was `complete` (or there was none), the server may
 * encode once per distinct baseline id for this tick and hand every client that acked that
 * baseline `withLastInputSeq(result.bytes, itsSeq)`, storing the same `result.view` in each
 * client's history and calling `markAllSent(result.sent)` on each client's accumulator.
 */
import { MAX_ENTITY_ID, MAX_UNRELIABLE_MESSAGE_BYTES, U32_MAX } from '../limits.js';
import { SNAPSHOT_MESSAGE_ID } from '../messages.js';
import { BitWriter, expGolombBits } from './bits.js';
import {
  ANGLE_BITS, ENTITY_ID_BITS, SHORT_DELTA_MAX_BITS, SHORT_DELTA_MIN_BITS, SHORT_DELTA_WIDTH_FIELD_BITS, STANDARD_FORMAT,
  positionDeltaBits, quantizeAngle, quantizePosition, signedBitsNeeded, type SnapshotFormat,
} from './format.js';
import { scheduleOrder, type ViewerCell } from './cell-priority.js';
import type { PriorityAccumulator } from './priority.js';
import { MAX_HELD_AGE, type EntityState, type SnapshotView } from './view.js';

// Module-local copies: hot loops below read these per entity, and imported bindings may be
// property getters once transpiled.
const A_BITS = ANGLE_BITS;
const ID_BITS = ENTITY_ID_BITS;
const W_MIN = SHORT_DELTA_MIN_BITS;
const W_MAX = SHORT_DELTA_MAX_BITS;
const W_FIELD = SHORT_DELTA_WIDTH_FIELD_BITS;
const MAX_ID = MAX_ENTITY_ID;
const MAX_BYTES = MAX_UNRELIABLE_MESSAGE_BYTES;
const MSG_ID = SNAPSHOT_MESSAGE_ID;
const qPos = quantizePosition;
const qAngle = quantizeAngle;
const needBits = signedBitsNeeded;
const posBits = positionDeltaBits;

/**
 * Entities sorted by id, deduplicated and quantized once, so a server encoding one tick for many
 * clients does that work once (pass it as `SnapshotInput.entities`).
 */
export interface PreparedEntities {
  readonly prepared: true;
  readonly format: SnapshotFormat;
  /** Valid entities in increasing id order. */
  readonly list: readonly EntityState[];
  readonly qx: Uint16Array;
  readonly qy: Uint16Array;
  readonly qa: Uint8Array;
  /** Input entities dropped for an id that is not u16 or repeats an earlier one. */
  readonly skipped: number;
}

/** Sorts, deduplicates (first wins), drops non-u16 ids, and quantizes `entities` for `format`. */
export function prepareEntities(entities: readonly EntityState[], format: SnapshotFormat = STANDARD_FORMAT): PreparedEntities {
  // Fast path: already strictly increasing valid ids (what a room usually hands over).
  let sorted = true;
  let prev = -1;
  for (let j = 0; j < entities.length; j++) {
    const id = entities[j].id;
    if (!(Number.isInteger(id) && id > prev && id <= MAX_ID)) { sorted = false; break; }
    prev = id;
  }
  let list: EntityState[];
  if (sorted) {
    list = entities as EntityState[];
  } else {
    const seen = new Set<number>();
    list = [];
    for (const e of entities) {
      if (!Number.isInteger(e.id) || e.id < 0 || e.id > MAX_ID || seen.has(e.id)) continue;
      seen.add(e.id);
      list.push(e);
    }
    list.sort((a, b) => a.id - b.id);
  }
  const n = list.length;
  const qx = new Uint16Array(n);
  const qy = new Uint16Array(n);
  const qa = new Uint8Array(n);
  const xMax = format.xMax;
  const yMax = format.yMax;
  for (let j = 0; j < n; j++) {
    const e = list[j];
    qx[j] = qPos(e.x, xMax);
    qy[j] = qPos(e.y, yMax);
    qa[j] = qAngle(e.angle);
  }
  return { prepared: true, format, list, qx, qy, qa, skipped: entities.length - n };
}

/** Bytes before the bit stream: message id and the per-client lastInputSeq. */
export const SNAPSHOT_PREFIX_BYTES = 5;

export interface SnapshotInput {
  /** Id of this snapshot: 1..2^32-1, increasing; the client acks it in `input.ack`. */
  snapshotId: number;
  /** Simulation tick of this state (written modulo 2^32). */
  serverTick: number;
  /** Server clock in ms (written as floor modulo 2^32). */
  serverTime: number;
  /** Newest input seq applied for the receiving client (bytes 1-4, see withLastInputSeq). */
  lastInputSeq: number;
  /**
   * The entities this client sees, any order (invalid ids, not u16, and repeats are skipped), or
   * the same prepared once per tick with prepareEntities (faster when encoding for many clients).
   */
  entities: readonly EntityState[] | PreparedEntities;
  /** The client's view of the snapshot it acked; null/undefined for a full snapshot. */
  baseline?: SnapshotView | null;
  /** The receiving player's own entity: always sent first. */
  viewerId?: number;
  /**
   * This client's accumulator; consulted only when not everything fits, and told what was sent.
   * Without one, entities go viewer first then by id, and starvation is not bounded.
   */
  priority?: PriorityAccumulator;
  /**
   * Shareable selection instead of `priority` (shared/snapshot/cell-priority.ts): when not
   * everything fits, entities go in scheduleOrder(cell, scheduleAfter) order while their
   * worst-case costs fit the budget. Which entities go then depends on the cell, the cursor and
   * which entities the baseline holds (plus, for a client out of step, its catch-up), so clients
   * holding equal baselines get equal bytes.
   * `viewerId`, when given, still goes first; an encoding shared by a cell's clients leaves it
   * out, as every member's entity lies in the cell.
   */
  cell?: ViewerCell;
  /** With `cell`: the round-robin cursor, the last id the previous snapshot of that cell sent (-1: none). */
  scheduleAfter?: number;
  /** Quantization; defaults to the standard scene's 1000 x 1000 world. */
  format?: SnapshotFormat;
}

export type SnapshotEncodeResult =
  | {
    ok: true;
    /** The whole `snapshot` message, id byte included, at most the budget. */
    bytes: Uint8Array;
    /** What the client will hold after decoding: store it as this snapshot's baseline view. */
    view: SnapshotView;
    /** Baseline actually used (0 = full snapshot; also after falling back from a huge baseline). */
    baselineId: number;
    /** Entity ids refreshed by this snapshot (delta, unchanged or entered). */
    sent: number[];
    /** Ids kept from the baseline without refresh (the client keeps their last state). */
    omitted: number[];
    /** True when every visible entity was refreshed. */
    complete: boolean;
    /** Input entities skipped for an invalid or repeated id. */
    skipped: number;
    /** With `cell`, when the budget bound: the last id of the round-robin part sent (the next cursor). */
    scheduleLast: number | null;
  }
  | { ok: false; reason: 'budget_too_small' | 'bad_snapshot_id'; detail: string };

const KIND_ENTER = 0;
const KIND_UNCHANGED = 1;
const KIND_DELTA = 2;

const u32 = (v: number): number => (Number.isFinite(v) ? ((Math.floor(v) % 2 ** 32) + 2 ** 32) % 2 ** 32 : 0);

interface Plan {
  base: SnapshotView | null;
  delta: number;
  /** Short delta width of this snapshot (only written with a baseline). */
  width: number;
  /** Per current entity: index in the baseline or -1. */
  baseIndex: Int32Array;
  kind: Uint8Array;
  selected: Uint8Array;
  complete: boolean;
  scheduleLast: number | null;
}

/**
 * Working arrays of one encodeSnapshot call, reused from call to call (the function is synchronous
 * and never re-entered). A server encodes hundreds of snapshots per tick, and in V8 every typed
 * array over 64 bytes gets a backing store of its own outside the heap: allocating eight of them
 * per call cost more than the loops that fill them. Grown to the largest entity count seen.
 */
const work = {
  baseIndex: new Int32Array(0),
  kind: new Uint8Array(0),
  need: new Uint8Array(0),
  extra: new Float64Array(0),
  selected: new Uint8Array(0),
  picked: new Uint8Array(0),
  curOf: new Int32Array(0),
  /** The bit writer's buffer; the result is copied out of it. */
  out: new Uint8Array(MAX_UNRELIABLE_MESSAGE_BYTES),
};

/** Grows the per-entity working arrays (all of one length) to hold at least `n`. */
function reserve(n: number): void {
  if (n <= work.baseIndex.length) return;
  const cap = Math.max(n, work.baseIndex.length * 2, 64);
  work.baseIndex = new Int32Array(cap);
  work.kind = new Uint8Array(cap);
  work.need = new Uint8Array(cap);
  work.extra = new Float64Array(cap);
  work.selected = new Uint8Array(cap);
  work.picked = new Uint8Array(cap);
}

function curOfFor(m: number): Int32Array {
  if (m > work.curOf.length) work.curOf = new Int32Array(Math.max(m, work.curOf.length * 2, 64));
  return work.curOf;
}

/** Bits of an entered entity's id given the previous entered id (docs/protocol.md, "Layout"). */
const idBits = (id: number, prev: number): number => (id === prev + 1 ? 1 : 1 + ID_BITS);

/**
 * Encodes one snapshot for one client within `budgetBytes` (capped at
 * MAX_UNRELIABLE_MESSAGE_BYTES). Never throws; returns `budget_too_small` only when not even the
 * header fits, and `bad_snapshot_id` for an id outside 1..2^32-1.
 */
export function encodeSnapshot(input: SnapshotInput, budgetBytes: number): SnapshotEncodeResult {
  const fmt = input.format ?? STANDARD_FORMAT;
  const snapshotId = input.snapshotId;
  if (!Number.isInteger(snapshotId) || snapshotId < 1 || snapshotId > U32_MAX) {
    return { ok: false, reason: 'bad_snapshot_id', detail: `snapshot id ${snapshotId} outside 1..${U32_MAX}` };
  }
  const budget = Math.floor(Math.min(Number.isFinite(budgetBytes) ? budgetBytes : 0, MAX_BYTES));
  const budgetBits = budget * 8;

  const ents = input.entities;
  const samePrep = 'prepared' in ents && ents.format.xMax === fmt.xMax && ents.format.yMax === fmt.yMax;
  const prep = samePrep ? ents : prepareEntities('prepared' in ents ? ents.list : ents, fmt);
  const { list, qx: cx, qy: cy, qa: ca, skipped } = prep;
  const n = list.length;

  // A usable baseline is an earlier snapshot: at most 2^31 - 1 ids back (modulo 2^32), never this one.
  let base = input.baseline ?? null;
  if (base) {
    const back = (snapshotId - base.id + 2 ** 32) % 2 ** 32;
    if (!(Number.isInteger(base.id) && base.id >= 1 && base.id <= U32_MAX) || back === 0 || back >= 2 ** 31) base = null;
  }

  reserve(n);
  const plan = (base && planWith(base)) || planWith(null);
  if (!plan) return { ok: false, reason: 'budget_too_small', detail: `budget of ${budget} bytes cannot hold a snapshot header` };

  function planWith(b: SnapshotView | null): Plan | null {
    const delta = b ? (snapshotId - b.id + 2 ** 32) % 2 ** 32 : 0;
    const m = b ? b.count : 0;
    // Working arrays (see `work`): only the first n entries are used, set below before any read.
    const baseIndex = work.baseIndex;
    const kind = work.kind;
    /** Per delta entity: the signed width its position delta needs. */
    const need = work.need;
    const stateBits = fmt.xBits + fmt.yBits + A_BITS;
    let fixed = 8 + 32 + 32 + expGolombBits(delta) + 32 + 32 + (b ? W_FIELD : 0) + 2 * m;
    let enterCandidates = 0;
    const needCount = new Array<number>(18).fill(0);
    let i = 0;
    for (let j = 0; j < n; j++) {
      const id = list[j].id;
      while (b && i < m && b.ids[i] < id) { fixed += 1; i++; } // left: 111 instead of 10
      need[j] = 0;
      if (b && i < m && b.ids[i] === id) {
        baseIndex[j] = i;
        if (b.qx[i] === cx[j] && b.qy[i] === cy[j] && b.qa[i] === ca[j]) {
          kind[j] = KIND_UNCHANGED;
        } else {
          kind[j] = KIND_DELTA;
          const nx = needBits(cx[j] - b.qx[i]);
          const ny = needBits(cy[j] - b.qy[i]);
          need[j] = nx > ny ? nx : ny;
          needCount[need[j]]++;
        }
        i++;
      } else {
        baseIndex[j] = -1;
        kind[j] = KIND_ENTER;
        enterCandidates++;
      }
    }
    if (b) fixed += m - i; // trailing baseline entities all left
    fixed += expGolombBits(enterCandidates); // the count actually written is never larger
    if (fixed > budgetBits) return null;

    // The short delta width that makes the position deltas of this snapshot smallest.
    let width = W_MIN;
    let bestCost = Number.POSITIVE_INFINITY;
    for (let w = W_MIN; w <= W_MAX; w++) {
      let cost = 0;
      for (let k = 1; k < needCount.length; k++) if (needCount[k]) cost += needCount[k] * posBits(fmt, w, k);
      if (cost < bestCost) { bestCost = cost; width = w; }
    }

    // Extra bits each entity costs when sent, beyond the 2-bit "omitted" code already counted.
    const extra = work.extra;
    let total = fixed;
    let prevEnter = -1;
    for (let j = 0; j < n; j++) {
      if (kind[j] === KIND_UNCHANGED) {
        extra[j] = 1; // 110
      } else if (kind[j] === KIND_DELTA) {
        const i2 = baseIndex[j];
        extra[j] = 1 + posBits(fmt, width, need[j]) + (ca[j] === b!.qa[i2] ? 1 : 1 + A_BITS) - 2; // 0 + payload
      } else {
        extra[j] = idBits(list[j].id, prevEnter) + stateBits; // exact when every candidate enters
        prevEnter = list[j].id;
      }
      total += extra[j];
    }
    const selected = work.selected;
    selected.fill(0, 0, n);
    let complete: boolean;
    let scheduleLast: number | null = null;
    if (total <= budgetBits) {
      selected.fill(1, 0, n);
      complete = true;
    } else if (input.cell) {
      // Take the schedule's entities in order while their worst-case costs fit: a held entity
      // costs at most a delta with an absolute position and a new angle, an entering one a full
      // id and state. Those bounds depend only on which entities the baseline holds, not on
      // their values, so clients of a cell whose baselines hold the same entities take the same
      // set, and their views become equal within a rotation. Exact costs are checked as well.
      const heldBound = 1 + Math.max(1 + 2 * W_MAX, 1 + fmt.xBits + fmt.yBits) + 1 + A_BITS - 2;
      const enterBound = 1 + ID_BITS + stateBits;
      // Entities per snapshot for the catch-up rule's rotation length, counting every one as
      // held (a threshold only; it depends on nothing but the baseline id and entity sets).
      const k = Math.max(1, Math.floor((budgetBits - fixed) / heldBound));
      const { order, roundRobinFrom } = scheduleOrder(
        list, input.cell, input.scheduleAfter ?? -1, k, b ? { base: b, baseIndex, sinceBase: delta } : null, input.viewerId,
      );
      let bound = fixed;
      let take = 0;
      for (const j of order) {
        const c = kind[j] === KIND_ENTER ? enterBound : heldBound;
        if (bound + c > budgetBits) break;
        bound += c;
        take++;
      }
      let used = fixed;
      let prevEnter = -1;
      // The taken entities in id order (= index order).
      const picked = work.picked;
      picked.fill(0, 0, n);
      for (let t = 0; t < take; t++) picked[order[t]] = 1;
      for (let j = 0; j < n; j++) {
        if (!picked[j]) continue;
        const cost = kind[j] === KIND_ENTER ? idBits(list[j].id, prevEnter) + stateBits : extra[j];
        if (used + cost > budgetBits) continue;
        if (kind[j] === KIND_ENTER) prevEnter = list[j].id;
        selected[j] = 1;
        used += cost;
      }
      for (let t = take - 1; t >= roundRobinFrom; t--) {
        if (selected[order[t]]) {
          scheduleLast = list[order[t]].id;
          break;
        }
      }
      complete = n === 0;
    } else {
      // Greedy in priority order with exact costs. An entered id costs 1 bit when it follows the
      // previous entered id, so entering j also changes the cost of the next entered one.
      const order = input.priority ? input.priority.order(list, input.viewerId) : defaultOrder(list, input.viewerId);
      let used = fixed;
      for (const j of order) {
        let cost = extra[j];
        if (kind[j] === KIND_ENTER) {
          let p = j - 1;
          while (p >= 0 && !(kind[p] === KIND_ENTER && selected[p])) p--;
          let q = j + 1;
          while (q < n && !(kind[q] === KIND_ENTER && selected[q])) q++;
          const prevId = p >= 0 ? list[p].id : -1;
          const id = list[j].id;
          cost = idBits(id, prevId) + stateBits;
          if (q < n) cost += idBits(list[q].id, id) - idBits(list[q].id, prevId);
        }
        if (used + cost <= budgetBits) {
          selected[j] = 1;
          used += cost;
        }
      }
      complete = n === 0;
    }
    return { base: b, delta, width, baseIndex, kind, selected, complete, scheduleLast };
  }

  // Write (docs/protocol.md, "Layout").
  const { base: b, baseIndex, kind, selected } = plan;
  const w = new BitWriter(budget, work.out);
  w.write(MSG_ID, 8);
  w.write(u32(input.lastInputSeq), 32);
  w.write(snapshotId, 32);
  w.expGolomb(plan.delta);
  w.write(u32(input.serverTick), 32);
  w.write(u32(input.serverTime), 32);
  if (b) {
    const width = plan.width;
    const mask = (1 << width) - 1;
    const xBits = fmt.xBits;
    const yBits = fmt.yBits;
    w.write(width - W_MIN, W_FIELD);
    // Current index of each baseline entity (-1: it left).
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
  const bytes = w.finish().slice();

  // The view the client will hold: baseline entities still present (refreshed or kept), plus
  // the entered ones; all in id order because `list` is.
  let count = 0;
  for (let j = 0; j < n; j++) if (baseIndex[j] >= 0 || selected[j]) count++;
  // One backing store for the view's five arrays (8 bytes per entity; the u16 arrays first, so
  // they start at even offsets): the view lives in the client's history, 32 per client.
  const store = new ArrayBuffer(count * 8);
  const ids = new Uint16Array(store, 0, count);
  const qx = new Uint16Array(store, count * 2, count);
  const qy = new Uint16Array(store, count * 4, count);
  const qa = new Uint8Array(store, count * 6, count);
  const heldAge = new Uint8Array(store, count * 7, count);
  const baseAge = b?.heldAge;
  const sinceBase = plan.delta;
  const sent: number[] = [];
  const omitted: number[] = [];
  let k = 0;
  for (let j = 0; j < n; j++) {
    const i = baseIndex[j];
    if (selected[j]) {
      sent.push(list[j].id);
      ids[k] = list[j].id; qx[k] = cx[j]; qy[k] = cy[j]; qa[k] = ca[j]; k++; // heldAge 0
    } else if (i >= 0 && b) {
      omitted.push(list[j].id);
      ids[k] = list[j].id; qx[k] = b.qx[i]; qy[k] = b.qy[i]; qa[k] = b.qa[i];
      heldAge[k] = Math.min(MAX_HELD_AGE, sinceBase + (baseAge ? baseAge[i] : 0)); k++;
    }
  }
  if (input.priority && !input.cell) {
    if (plan.complete) input.priority.markAllSent(sent);
    else for (const id of sent) input.priority.markSent(id);
  }
  const view: SnapshotView = { id: snapshotId, count, ids, qx, qy, qa, complete: plan.complete, heldAge };
  return { ok: true, bytes, view, baselineId: b ? b.id : 0, sent, omitted, complete: plan.complete, skipped, scheduleLast: plan.scheduleLast };
}

function defaultOrder(list: readonly EntityState[], viewerId: number | undefined): number[] {
  const order: number[] = [];
  for (let j = 0; j < list.length; j++) if (list[j].id === viewerId) order.push(j);
  for (let j = 0; j < list.length; j++) if (list[j].id !== viewerId) order.push(j);
  return order;
}

/**
 * A copy of an encoded snapshot message with bytes 1-4 set to `lastInputSeq` (u32 big-endian):
 * how one shared encoding is stamped for each client.
 */
export function withLastInputSeq(message: Uint8Array, lastInputSeq: number): Uint8Array {
  const out = message.slice();
  const v = u32(lastInputSeq);
  out[1] = (v >>> 24) & 0xff;
  out[2] = (v >>> 16) & 0xff;
  out[3] = (v >>> 8) & 0xff;
  out[4] = v & 0xff;
  return out;
}
