/**
 * One snapshot tick encoded for many clients, sharing the work wherever the bytes would be the
 * same (docs/protocol.md, "Sharing one encoding between clients").
 *
 * Entities are sorted and quantized once per tick. A client whose baseline is absent, or is a
 * `complete` view (the exact world state at that snapshot, identical for every client that
 * received it), gets the bytes already encoded for that baseline id when that encoding was
 * itself complete and fits the client's budget, re-stamped with its own lastInputSeq. Everyone
 * else (an incomplete baseline, or a tick where the budget binds and the per-client priority
 * decides) gets an encoding of their own. Valid only when every client sees the same entity set
 * (the standard scene: everyone sees everyone); with interest management, use encodeSnapshot.
 *
 * With `cellSize` (cell sharing), the budget-bound case is shared too: the world is split into
 * square cells, and which entities go comes from the cell's schedule
 * (shared/snapshot/cell-priority.ts: the cell's entities, then a round-robin over the rest from
 * a cursor kept per cell in `cellCursors`), so the bytes depend only on the baseline view's
 * content, the viewer's cell and the budget. Clients of one cell holding equal baselines (the
 * same view object, or one with equal content: after a rotation in the same cell, clients that
 * ack the same snapshots hold equal views whatever their history) share one encoding. A cell
 * holding more than half of what always fits one snapshot is crowded: its clients get their own
 * encoding (viewer first, then the round-robin).
 */
import { encodeSnapshot, type SnapshotEncodeResult } from './encode.js';
import type { ViewerCell } from './cell-priority.js';
import { STANDARD_FORMAT, type SnapshotFormat } from './format.js';
import { prepareEntities, type PreparedEntities } from './prepare.js';
import { entitiesPerSnapshot, type PriorityAccumulator } from './priority.js';
import { recordSent } from './select-by-priority.js';
import { withLastInputSeq } from './write.js';
import type { EntityState, SnapshotView } from './view.js';

/** What is common to every client in one tick. */
export interface SnapshotTick {
  snapshotId: number;
  serverTick: number;
  serverTime: number;
  entities: readonly EntityState[];
  format?: SnapshotFormat;
  /**
   * Cell sharing (see above): side of the square cells in world units. Without it a budget-bound
   * snapshot is encoded per client with its PriorityAccumulator.
   */
  cellSize?: number;
  /**
   * With `cellSize`: the round-robin cursor of each cell (by cell index), the room's state kept
   * from tick to tick; read at a cell's first encoding of the tick and advanced after it.
   */
  cellCursors?: Map<number, number>;
}

/** What differs per client. */
export interface SnapshotClient {
  /** The view of the snapshot this client acked, if the server still holds it. */
  baseline: SnapshotView | null;
  lastInputSeq: number;
  viewerId?: number;
  /**
   * Where the viewer looks when it has no entity in the tick (a spectator's camera): with cell
   * sharing, its cell is the one of this point, so it shares the encodings of that cell's
   * players; without it, such a viewer is encoded on its own.
   */
  viewerPosition?: { readonly x: number; readonly y: number };
  priority?: PriorityAccumulator;
  /** The client's datagram budget (Connection.maxUnreliableSize). */
  budgetBytes: number;
}

type Encoded = Extract<SnapshotEncodeResult, { ok: true }>;
/** encodeSnapshot's result, plus whether the bytes were shared with another client. */
export type TickEncodeResult = (Encoded & { shared: boolean }) | Extract<SnapshotEncodeResult, { ok: false }>;

export class SnapshotTickEncoder {
  private readonly prepared: PreparedEntities;
  private readonly format: SnapshotFormat;
  /**
   * Complete encodings by baseline: 0 for a full snapshot, else the id of a complete baseline
   * view; at most one per distinct acked id. (Numbers, not strings: the key is looked up once
   * per client-snapshot.)
   */
  private readonly cache = new Map<number, Encoded>();
  /**
   * Cell-shared encodings by baseline id (0: none), then by cell index: one per distinct
   * baseline content and budget.
   */
  private readonly cellCache = new Map<number, Map<number, CellVariant[]>>();
  /** Per cell index: its rectangle (the same for every viewer in it), made on first use. */
  private readonly cellRects: (ViewerCell | undefined)[] = [];
  /** Set by `encodeShared`: whether its result was another client's encoding. */
  lastShared = false;
  /** Per cell index: the cursor this tick's encodings of that cell start after. */
  private readonly cellStart = new Map<number, number>();
  /** Cells whose cursor this tick already moved on. */
  private readonly cellAdvanced = new Set<number>();
  /** Per cell (row-major), how many entities lie in it; built on first use. */
  private cellCounts: Uint32Array | null = null;
  private cellCols = 0;
  /** Encodings done and encodings reused this tick (for metrics). */
  encodes = 0;
  reused = 0;

  constructor(private readonly tick: SnapshotTick) {
    this.format = tick.format ?? STANDARD_FORMAT;
    this.prepared = prepareEntities(tick.entities, this.format);
  }

  private cellIndex(x: number, y: number, size: number): number {
    const cols = this.cellCols;
    const rows = Math.ceil(this.format.worldH / size);
    const cx = Math.min(Math.max(Math.floor(x / size), 0), cols - 1) || 0;
    const cy = Math.min(Math.max(Math.floor(y / size), 0), rows - 1) || 0;
    return cy * cols + cx;
  }

  /**
   * Index in the prepared list of the viewer's entity, or -1 when the viewer is not in this tick
   * (or has no entity: a spectator); builds the per-tick cell tables on first use.
   */
  private viewerIndex(viewerId: number | undefined, size: number): number {
    const list = this.prepared.list;
    if (!this.cellCounts) {
      this.cellCols = Math.ceil(this.format.worldW / size);
      const rows = Math.ceil(this.format.worldH / size);
      this.cellCounts = new Uint32Array(this.cellCols * rows);
      for (const e of list) this.cellCounts[this.cellIndex(e.x, e.y, size)]++;
    }
    return viewerId === undefined ? -1 : indexOfId(list, viewerId);
  }

  /** Rectangle of cell `index`, shared by every viewer in it. */
  private cellRect(index: number, size: number): ViewerCell {
    let rect = this.cellRects[index];
    if (!rect) {
      const col = index % this.cellCols;
      const row = (index - col) / this.cellCols;
      // The last column and row reach to infinity: positions are clamped into them above.
      rect = {
        x0: col === 0 ? -Infinity : col * size,
        x1: col === this.cellCols - 1 ? Infinity : (col + 1) * size,
        y0: row === 0 ? -Infinity : row * size,
        y1: (index + this.cellCols) >= this.cellCounts!.length ? Infinity : (row + 1) * size,
      };
      this.cellRects[index] = rect;
    }
    return rect;
  }

  /** The cursor a cell's encodings start after this tick (the same for all of them). */
  private cursorOf(index: number): number {
    let c = this.cellStart.get(index);
    if (c === undefined) {
      c = this.tick.cellCursors?.get(index) ?? -1;
      this.cellStart.set(index, c);
    }
    return c;
  }

  /** The first budget-bound encoding of a cell this tick moves its cursor on. */
  private advance(index: number, result: SnapshotEncodeResult): void {
    const cursors = this.tick.cellCursors;
    if (!cursors || !result.ok || result.scheduleLast === null || this.cellAdvanced.has(index)) return;
    this.cellAdvanced.add(index);
    cursors.set(index, result.scheduleLast);
  }

  private encode(client: SnapshotClient, cell: ViewerCell | undefined, viewerId: number | undefined, withPriority: boolean, scheduleAfter?: number) {
    this.encodes++;
    return encodeSnapshot({
      snapshotId: this.tick.snapshotId,
      serverTick: this.tick.serverTick,
      serverTime: this.tick.serverTime,
      lastInputSeq: client.lastInputSeq,
      entities: this.prepared,
      baseline: client.baseline,
      viewerId,
      priority: withPriority ? client.priority : undefined,
      cell,
      scheduleAfter,
      format: this.format,
    }, client.budgetBytes);
  }

  /** The snapshot for one client, shared with others where possible. `shared` tells which. */
  encodeFor(client: SnapshotClient): TickEncodeResult {
    const result = this.encodeShared(client);
    if (!result.ok) return result;
    if (!this.lastShared) return { ...result, shared: false };
    return { ...result, bytes: withLastInputSeq(result.bytes, client.lastInputSeq), shared: true };
  }

  /**
   * `encodeFor` without anything allocated per client when the encoding is shared (the server's
   * path, once per client-snapshot: SnapshotSender.build): the encoding this client gets, as
   * is. When `lastShared` is true it is another client's, and its bytes carry that client's
   * lastInputSeq: send `withLastInputSeq(result.bytes, client.lastInputSeq)`. The result and its
   * `view` are shared: never change them.
   */
  encodeShared(client: SnapshotClient): SnapshotEncodeResult {
    this.lastShared = false;
    const base = client.baseline;
    const key = base === null ? 0 : base.complete ? base.id : -1;
    if (key >= 0) {
      const hit = this.cache.get(key);
      if (hit && hit.bytes.length <= client.budgetBytes) {
        this.reused++;
        if (client.priority) recordSent(client.priority, hit.sent, true);
        this.lastShared = true;
        return hit;
      }
    }
    const size = this.tick.cellSize;
    if (size !== undefined && size > 0 && (client.viewerId !== undefined || client.viewerPosition !== undefined)) {
      const j = this.viewerIndex(client.viewerId, size);
      // The viewer's entity, else where it looks (a spectator's camera).
      const e = j >= 0 ? this.prepared.list[j] : client.viewerPosition;
      if (e && Number.isFinite(e.x) && Number.isFinite(e.y)) {
        const index = this.cellIndex(e.x, e.y, size);
        const fitting = entitiesPerSnapshot(this.format, client.budgetBytes, this.prepared.list.length);
        const after = this.cursorOf(index);
        if (this.cellCounts![index] <= Math.floor(fitting / 2)) {
          const variants = this.variantsOf(base === null ? 0 : base.id, index);
          let sameBudget = 0;
          for (const v of variants) {
            if (v.budget !== client.budgetBytes) continue;
            sameBudget++;
            if (sameView(v.base, base)) {
              this.reused++;
              this.lastShared = true;
              return v.enc;
            }
          }
          const result = this.encode(client, this.cellRect(index, size), undefined, false, after);
          this.advance(index, result);
          if (result.ok) {
            if (sameBudget < MAX_BASELINE_VARIANTS) variants.push({ base, budget: client.budgetBytes, enc: result });
            if (result.complete && key >= 0 && !this.cache.has(key)) this.cache.set(key, result);
          }
          return result;
        }
        // Crowded cell: this client alone, its own entity first, then the cell's round-robin.
        const own = this.encode(client, { x0: e.x, x1: e.x, y0: e.y, y1: e.y }, client.viewerId, false, after);
        this.advance(index, own);
        return own;
      }
    }
    const result = this.encode(client, undefined, client.viewerId, true);
    if (result.ok && result.complete && key >= 0 && !this.cache.has(key)) this.cache.set(key, result);
    return result;
  }

  /** The cell-shared encodings of (baseline id, cell), made empty on first use. */
  private variantsOf(baseId: number, cell: number): CellVariant[] {
    let byCell = this.cellCache.get(baseId);
    if (!byCell) {
      byCell = new Map();
      this.cellCache.set(baseId, byCell);
    }
    let variants = byCell.get(cell);
    if (!variants) {
      variants = [];
      byCell.set(cell, variants);
    }
    return variants;
  }
}

/** One cell-shared encoding: the baseline content and the budget it was made for. */
interface CellVariant {
  base: SnapshotView | null;
  budget: number;
  enc: Encoded;
}

/**
 * Distinct baseline contents kept per (baseline id, cell, budget) in one tick. Clients of a cell
 * converge on one content within a rotation; more variants than this (many just arrived from
 * other cells) are encoded without being offered for sharing.
 */
const MAX_BASELINE_VARIANTS = 8;

/**
 * Index of entity `id` in `list` (prepared: strictly increasing ids), or -1. A binary search, not
 * a Map per tick: nothing allocated, and a few steps at any P.
 */
function indexOfId(list: readonly EntityState[], id: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = list[mid].id;
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Same object, or the same snapshot id, entities, quantized states and held ages. */
function sameView(a: SnapshotView | null, b: SnapshotView | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.id !== b.id || a.count !== b.count || a.complete !== b.complete) return false;
  const n = a.count;
  const ah = a.heldAge;
  const bh = b.heldAge;
  if ((ah === undefined) !== (bh === undefined)) return false;
  for (let i = 0; i < n; i++) {
    if (a.ids[i] !== b.ids[i] || a.qx[i] !== b.qx[i] || a.qy[i] !== b.qy[i] || a.qa[i] !== b.qa[i]) return false;
    if (ah && bh && ah[i] !== bh[i]) return false;
  }
  return true;
}
