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
  /** Complete encodings by baseline key ('full' or 'c<id>'); at most one per distinct acked id. */
  private readonly cache = new Map<string, Encoded>();
  /** Cell-shared encodings by `${baseline id}|${cell}|${budget}`, one per distinct baseline content. */
  private readonly cellCache = new Map<string, { base: SnapshotView | null; enc: Encoded }[]>();
  /** Per cell index: the cursor this tick's encodings of that cell start after. */
  private readonly cellStart = new Map<number, number>();
  /** Cells whose cursor this tick already moved on. */
  private readonly cellAdvanced = new Set<number>();
  /** Per cell (row-major), how many entities lie in it; built on first use. */
  private cellCounts: Uint32Array | null = null;
  private cellCols = 0;
  private indexById: Map<number, number> | null = null;
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

  /** The viewer's cell (index and rectangle), or null when the viewer is not in this tick. */
  private viewerCell(viewerId: number, size: number): { index: number; count: number; rect: ViewerCell; x: number; y: number } | null {
    const list = this.prepared.list;
    if (!this.indexById) {
      this.indexById = new Map();
      for (let j = 0; j < list.length; j++) this.indexById.set(list[j].id, j);
      this.cellCols = Math.ceil(this.format.worldW / size);
      const rows = Math.ceil(this.format.worldH / size);
      this.cellCounts = new Uint32Array(this.cellCols * rows);
      for (const e of list) this.cellCounts[this.cellIndex(e.x, e.y, size)]++;
    }
    const j = this.indexById.get(viewerId);
    if (j === undefined) return null;
    const e = list[j];
    const index = this.cellIndex(e.x, e.y, size);
    const col = index % this.cellCols;
    const row = (index - col) / this.cellCols;
    // The last column and row reach to infinity: positions are clamped into them above.
    const rect = {
      x0: col === 0 ? -Infinity : col * size,
      x1: col === this.cellCols - 1 ? Infinity : (col + 1) * size,
      y0: row === 0 ? -Infinity : row * size,
      y1: (index + this.cellCols) >= this.cellCounts!.length ? Infinity : (row + 1) * size,
    };
    return { index, count: this.cellCounts![index], rect, x: e.x, y: e.y };
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
    const base = client.baseline;
    const key = base === null ? 'full' : base.complete ? `c${base.id}` : null;
    if (key !== null) {
      const hit = this.cache.get(key);
      if (hit && hit.bytes.length <= client.budgetBytes) {
        this.reused++;
        if (client.priority) recordSent(client.priority, hit.sent, true);
        return { ...hit, bytes: withLastInputSeq(hit.bytes, client.lastInputSeq), shared: true };
      }
    }
    const size = this.tick.cellSize;
    if (size !== undefined && size > 0 && client.viewerId !== undefined) {
      const cell = this.viewerCell(client.viewerId, size);
      if (cell && Number.isFinite(cell.x) && Number.isFinite(cell.y)) {
        const fitting = entitiesPerSnapshot(this.format, client.budgetBytes, this.prepared.list.length);
        const after = this.cursorOf(cell.index);
        if (cell.count <= Math.floor(fitting / 2)) {
          const ck = `${base === null ? 0 : base.id}|${cell.index}|${client.budgetBytes}`;
          let variants = this.cellCache.get(ck);
          if (variants) {
            for (const v of variants) {
              if (sameView(v.base, base)) {
                this.reused++;
                return { ...v.enc, bytes: withLastInputSeq(v.enc.bytes, client.lastInputSeq), shared: true };
              }
            }
          } else {
            variants = [];
            this.cellCache.set(ck, variants);
          }
          const result = this.encode(client, cell.rect, undefined, false, after);
          this.advance(cell.index, result);
          if (result.ok) {
            if (variants.length < MAX_BASELINE_VARIANTS) variants.push({ base, enc: result });
            if (result.complete && key !== null && !this.cache.has(key)) this.cache.set(key, result);
          }
          return result.ok ? { ...result, shared: false } : result;
        }
        // Crowded cell: this client alone, its own entity first, then the cell's round-robin.
        const own = this.encode(client, { x0: cell.x, x1: cell.x, y0: cell.y, y1: cell.y }, client.viewerId, false, after);
        this.advance(cell.index, own);
        return own.ok ? { ...own, shared: false } : own;
      }
    }
    const result = this.encode(client, undefined, client.viewerId, true);
    if (result.ok && result.complete && key !== null && !this.cache.has(key)) this.cache.set(key, result);
    return result.ok ? { ...result, shared: false } : result;
  }
}

/**
 * Distinct baseline contents kept per (baseline id, cell, budget) in one tick. Clients of a cell
 * converge on one content within a rotation; more variants than this (many just arrived from
 * other cells) are encoded without being offered for sharing.
 */
const MAX_BASELINE_VARIANTS = 8;

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
