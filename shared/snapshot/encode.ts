/**
 * Snapshot encoder (docs/protocol.md, "Snapshots"). Pure and I/O-free. One call encodes one
 * snapshot for one baseline and never exceeds the byte budget, in four steps, each in its file:
 *
 *   prepare.ts            entities sorted, deduplicated, quantized (once per tick on a server)
 *   plan.ts               against the baseline: each entity's kind and cost, the delta width
 *   select-by-cell.ts     when not everything fits: which entities go, by the viewer's cell
 *   select-by-priority.ts   ... or by the client's priority accumulator (or viewer, then id)
 *   write.ts + held-view.ts   the bytes (the mirror of decode.ts) and the view the client will hold
 *
 * Sharing between clients: the bytes depend only on the snapshot id, header fields, the baseline
 * view, the entity set, the budget and (when the snapshot does not fit) the selection. When the
 * result is `complete` and the baseline view was `complete` (or there was none), the server may
 * encode once per distinct baseline id for this tick and hand every client that acked that
 * baseline `withLastInputSeq(result.bytes, itsSeq)`, storing the same `result.view` in each
 * client's history and telling each client's accumulator (select-by-priority.ts `recordSent`).
 */
import { MAX_UNRELIABLE_MESSAGE_BYTES, U32_MAX } from '../limits.js';
import type { ViewerCell } from './cell-priority.js';
import { STANDARD_FORMAT, type SnapshotFormat } from './format.js';
import { heldView } from './held-view.js';
import { planSnapshot, selectAll, usableBaseline } from './plan.js';
import { preparedFor, type PreparedEntities } from './prepare.js';
import type { PriorityAccumulator } from './priority.js';
import { selectByCell } from './select-by-cell.js';
import { recordSent, selectInOrder, sendingOrder } from './select-by-priority.js';
import type { EntityState, SnapshotView } from './view.js';
import { writeSnapshot } from './write.js';

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
   * Shareable selection instead of `priority` (select-by-cell.ts): when not everything fits,
   * entities go in scheduleOrder(cell, scheduleAfter) order while their worst-case costs fit the
   * budget. Which entities go then depends on the cell, the cursor and which entities the
   * baseline holds (plus, for a client out of step, its catch-up), so clients holding equal
   * baselines get equal bytes. `viewerId`, when given, still goes first; an encoding shared by a
   * cell's clients leaves it out, as every member's entity lies in the cell.
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

/**
 * Encodes one snapshot for one client within `budgetBytes` (capped at
 * MAX_UNRELIABLE_MESSAGE_BYTES). Never throws; returns `budget_too_small` only when not even the
 * header fits, and `bad_snapshot_id` for an id outside 1..2^32-1.
 */
export function encodeSnapshot(input: SnapshotInput, budgetBytes: number): SnapshotEncodeResult {
  const snapshotId = input.snapshotId;
  if (!Number.isInteger(snapshotId) || snapshotId < 1 || snapshotId > U32_MAX) {
    return { ok: false, reason: 'bad_snapshot_id', detail: `snapshot id ${snapshotId} outside 1..${U32_MAX}` };
  }
  const budget = Math.floor(Math.min(Number.isFinite(budgetBytes) ? budgetBytes : 0, MAX_UNRELIABLE_MESSAGE_BYTES));
  const budgetBits = budget * 8;
  const prep = preparedFor(input.entities, input.format ?? STANDARD_FORMAT);

  // Against the baseline when its codes fit, else a full snapshot of what fits.
  const base = usableBaseline(input.baseline, snapshotId);
  const plan = (base && planSnapshot(prep, base, snapshotId, budgetBits)) || planSnapshot(prep, null, snapshotId, budgetBits);
  if (!plan) return { ok: false, reason: 'budget_too_small', detail: `budget of ${budget} bytes cannot hold a snapshot header` };

  let complete = plan.n === 0;
  let scheduleLast: number | null = null;
  if (plan.total <= budgetBits) {
    selectAll(plan);
    complete = true;
  } else if (input.cell) {
    scheduleLast = selectByCell(plan, prep.list, input.cell, input.scheduleAfter ?? -1, input.viewerId, budgetBits);
  } else {
    selectInOrder(plan, prep.list, sendingOrder(prep.list, input.priority, input.viewerId), budgetBits);
  }

  const bytes = writeSnapshot(plan, prep, input, budget);
  const sent: number[] = [];
  const omitted: number[] = [];
  const view = heldView(plan, prep, snapshotId, complete, sent, omitted);
  if (input.priority && !input.cell) recordSent(input.priority, sent, complete);
  const baselineId = plan.base ? plan.base.id : 0;
  return { ok: true, bytes, view, baselineId, sent, omitted, complete, skipped: prep.skipped, scheduleLast };
}
