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
 */
import { encodeSnapshot, prepareEntities, withLastInputSeq, type PreparedEntities, type SnapshotEncodeResult } from './encode.js';
import { STANDARD_FORMAT, type SnapshotFormat } from './format.js';
import type { PriorityAccumulator } from './priority.js';
import type { EntityState, SnapshotView } from './view.js';

/** What is common to every client in one tick. */
export interface SnapshotTick {
  snapshotId: number;
  serverTick: number;
  serverTime: number;
  entities: readonly EntityState[];
  format?: SnapshotFormat;
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
  /** Encodings done and encodings reused this tick (for metrics). */
  encodes = 0;
  reused = 0;

  constructor(private readonly tick: SnapshotTick) {
    this.format = tick.format ?? STANDARD_FORMAT;
    this.prepared = prepareEntities(tick.entities, this.format);
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
    this.encodes++;
    const result = encodeSnapshot({
      snapshotId: this.tick.snapshotId,
      serverTick: this.tick.serverTick,
      serverTime: this.tick.serverTime,
      lastInputSeq: client.lastInputSeq,
      entities: this.prepared,
      baseline: base,
      viewerId: client.viewerId,
      priority: client.priority,
      format: this.format,
    }, client.budgetBytes);
    if (result.ok && result.complete && key !== null && !this.cache.has(key)) this.cache.set(key, result);
    return result.ok ? { ...result, shared: false } : result;
  }
}
