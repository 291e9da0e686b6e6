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
 * square cells, and the order comes from shared/snapshot/cell-priority.ts (the viewer's whole
 * cell first, then by the baseline view's ages), so the bytes depend only on the baseline view,
 * the viewer's cell and the budget. Clients holding the same baseline view object (a view
 * shared last time is one object in every member's history) in the same cell share one
 * encoding. A cell holding more than half of what always fits one snapshot is crowded: its
 * clients get their own encoding (same order, viewer first, its cell empty).
 */
import { encodeSnapshot, prepareEntities, withLastInputSeq, type PreparedEntities, type SnapshotEncodeResult } from './encode.js';
import type { ViewerCell } from './cell-priority.js';
import { STANDARD_FORMAT, type SnapshotFormat } from './format.js';
import { entitiesPerSnapshot, type PriorityAccumulator } from './priority.js';
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
  /** Cell-shared encodings by `${baseline view key}|${cell}|${budget}`. */
  private readonly cellCache = new Map<string, Encoded>();
  /** Identity keys of baseline views seen this tick (null: 0). */
  private readonly viewKeys = new Map<SnapshotView, number>();
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

  private viewKey(view: SnapshotView | null): number {
    if (view === null) return 0;
    let k = this.viewKeys.get(view);
    if (k === undefined) {
      k = this.viewKeys.size + 1;
      this.viewKeys.set(view, k);
    }
    return k;
  }

  private encode(client: SnapshotClient, cell: ViewerCell | undefined, viewerId: number | undefined, withPriority: boolean) {
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
        client.priority?.markAllSent(hit.sent);
        return { ...hit, bytes: withLastInputSeq(hit.bytes, client.lastInputSeq), shared: true };
      }
    }
    const size = this.tick.cellSize;
    if (size !== undefined && size > 0 && client.viewerId !== undefined) {
      const cell = this.viewerCell(client.viewerId, size);
      if (cell && Number.isFinite(cell.x) && Number.isFinite(cell.y)) {
        const fitting = entitiesPerSnapshot(this.format, client.budgetBytes, this.prepared.list.length);
        if (cell.count <= Math.floor(fitting / 2)) {
          const ck = `${this.viewKey(base)}|${cell.index}|${client.budgetBytes}`;
          const hit = this.cellCache.get(ck);
          if (hit) {
            this.reused++;
            return { ...hit, bytes: withLastInputSeq(hit.bytes, client.lastInputSeq), shared: true };
          }
          const result = this.encode(client, cell.rect, undefined, false);
          if (result.ok) {
            this.cellCache.set(ck, result);
            if (result.complete && key !== null && !this.cache.has(key)) this.cache.set(key, result);
          }
          return result.ok ? { ...result, shared: false } : result;
        }
        // Crowded cell: the same order for this client alone, its own entity first.
        const own = this.encode(client, { x0: cell.x, x1: cell.x, y0: cell.y, y1: cell.y }, client.viewerId, false);
        return own.ok ? { ...own, shared: false } : own;
      }
    }
    const result = this.encode(client, undefined, client.viewerId, true);
    if (result.ok && result.complete && key !== null && !this.cache.has(key)) this.cache.set(key, result);
    return result.ok ? { ...result, shared: false } : result;
  }
}
