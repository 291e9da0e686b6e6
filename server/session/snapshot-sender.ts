import {
  PriorityAccumulator, SnapshotHistory, encodeSnapshot, snapshotFormat, withLastInputSeq,
  type SnapshotFormat, type SnapshotView,
} from '../../shared/snapshot/index.js';
import type { WorldFrame } from '../rooms/types.js';

/** A shareable encoding kept in the frame's cache. */
interface SharedEncoding {
  bytes: Uint8Array;
  view: SnapshotView;
  sent: number[];
}

const formats = new WeakMap<WorldFrame['world'], SnapshotFormat>();
function formatFor(world: WorldFrame['world']): SnapshotFormat {
  let f = formats.get(world);
  if (!f) {
    f = snapshotFormat(world.width, world.height);
    formats.set(world, f);
  }
  return f;
}

export interface SnapshotSendStats {
  encoded: number;
  shared: number;
  full: number;
  incomplete: number;
}

/**
 * Per-connection snapshot state: the ring of views sent (SNAPSHOT_HISTORY_SIZE, Quake 3's 32) to
 * resolve the client's acks into a delta baseline, and the priority accumulator used when not
 * every entity fits the budget. A new connection (also a resumed one) starts with a full snapshot,
 * as the client's baselines are per connection too.
 *
 * Encodings are shared between members: when the baseline is complete (or absent) and the result
 * is complete, the bytes depend only on (frame, baseline id, budget), so they are cached on the
 * frame and each further client only stamps its own lastInputSeq (shared/snapshot/encode.ts).
 */
export class SnapshotSender {
  private readonly history = new SnapshotHistory();
  private readonly priority = new PriorityAccumulator();
  /** Newest acked snapshot id still in the history (0: none, send full). */
  private acked = 0;
  readonly stats: SnapshotSendStats = { encoded: 0, shared: 0, full: 0, incomplete: 0 };

  constructor(private readonly budgetBytes: number) {}

  /** Records the client's ack (input.ack); ignores older ids and ids no longer held. */
  ack(snapshotId: number): 'applied' | 'stale' {
    if (snapshotId <= this.acked || this.history.get(snapshotId) === undefined) return 'stale';
    this.acked = snapshotId;
    return 'applied';
  }

  /** The `snapshot` message for this client, or null when the budget cannot hold even a header. */
  build(frame: WorldFrame, viewerId: number, lastInputSeq: number): Uint8Array | null {
    const baseline = this.acked ? this.history.get(this.acked) ?? null : null;
    const shareable = baseline === null || baseline.complete;
    const key = `${baseline ? baseline.id : 0}:${this.budgetBytes}`;
    if (shareable) {
      const hit = frame.encodeCache.get(key) as SharedEncoding | undefined;
      if (hit) {
        this.history.put(hit.view);
        this.priority.markAllSent(hit.sent);
        this.stats.shared++;
        if (!baseline) this.stats.full++;
        return withLastInputSeq(hit.bytes, lastInputSeq);
      }
    }
    const result = encodeSnapshot({
      snapshotId: frame.snapshotId,
      serverTick: frame.tick,
      serverTime: frame.time,
      lastInputSeq,
      entities: frame.entities,
      baseline,
      viewerId,
      priority: this.priority,
      format: formatFor(frame.world),
    }, this.budgetBytes);
    if (!result.ok) return null;
    this.stats.encoded++;
    if (result.baselineId === 0) this.stats.full++;
    if (!result.complete) this.stats.incomplete++;
    this.history.put(result.view);
    if (shareable && result.complete && result.baselineId === (baseline ? baseline.id : 0)) {
      const shared: SharedEncoding = { bytes: result.bytes, view: result.view, sent: result.sent };
      frame.encodeCache.set(key, shared);
    }
    return result.bytes;
  }
}
