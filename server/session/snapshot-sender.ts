import {
  NEAR_RADIUS, PriorityAccumulator, SnapshotHistory, SnapshotTickEncoder, snapshotFormat, u32, withLastInputSeq,
  type SnapshotClient, type SnapshotFormat, type SnapshotView,
} from '../../shared/snapshot/index.js';
import type { WorldFrame } from '../rooms/types.js';

/**
 * Side of the square cells by which budget-bound snapshots are shared (world units): "near the
 * viewer" means "in or near the viewer's cell". NEAR_RADIUS: 16 cells in the standard world, so
 * about 32 players per cell at P=512, well under the half of a snapshot that a shared cell may
 * force ahead of the ages.
 */
export const SHARE_CELL_SIZE = NEAR_RADIUS;

/** Key of the frame's shared tick encoder in `WorldFrame.encodeCache`. */
const TICK_ENCODER_KEY = 'snapshotTickEncoder';

const formats = new WeakMap<WorldFrame['world'], SnapshotFormat>();
function formatFor(world: WorldFrame['world']): SnapshotFormat {
  let f = formats.get(world);
  if (!f) {
    f = snapshotFormat(world.width, world.height);
    formats.set(world, f);
  }
  return f;
}

/** Key of the room's cell schedule cursors in `WorldFrame.encodeState`. */
const CELL_CURSORS_KEY = 'snapshotCellCursors';

function cellCursors(frame: WorldFrame): Map<number, number> {
  let c = frame.encodeState.get(CELL_CURSORS_KEY) as Map<number, number> | undefined;
  if (!c) {
    c = new Map();
    frame.encodeState.set(CELL_CURSORS_KEY, c);
  }
  return c;
}

/**
 * The frame's encoder, made by the first member that needs it: entities are sorted and
 * quantized once per tick, and complete encodings are shared between every member with the
 * same baseline (S's SnapshotTickEncoder; valid because everyone sees everyone here).
 */
function tickEncoder(frame: WorldFrame): SnapshotTickEncoder {
  let enc = frame.encodeCache.get(TICK_ENCODER_KEY) as SnapshotTickEncoder | undefined;
  if (!enc) {
    enc = new SnapshotTickEncoder({
      snapshotId: frame.snapshotId,
      serverTick: frame.tick,
      serverTime: frame.time,
      entities: frame.entities,
      format: formatFor(frame.world),
      cellSize: SHARE_CELL_SIZE,
      cellCursors: cellCursors(frame),
    });
    frame.encodeCache.set(TICK_ENCODER_KEY, enc);
  }
  return enc;
}

/**
 * Snapshots committed (see SnapshotSender.committed) since the client's last ack advanced, past
 * which committed ones no longer count as acks: 16 snapshots, 0.8 s at 20 Hz. A client that
 * decodes what it gets acks within a few snapshots even on a busy server; one that stops acking
 * (it failed to decode one, or never acks at all) gets its own acked baseline again, or full
 * snapshots, and so can recover.
 */
export const IMPLICIT_ACK_LEAD_LIMIT = 16;

export interface SnapshotSendStats {
  encoded: number;
  shared: number;
  full: number;
  incomplete: number;
}

/**
 * Per-connection snapshot state: the ring of views sent (SNAPSHOT_HISTORY_SIZE, Quake 3's 32) to
 * resolve the client's acks into a delta baseline. When not every entity fits the budget, the
 * room's per-cell schedule picks them (shared/snapshot/cell-priority.ts); the priority
 * accumulator serves only a viewer the tick has no position for. A new connection (also a resumed one) starts with a full snapshot,
 * as the client's baselines are per connection too.
 *
 * Encodings are shared between members through the frame's SnapshotTickEncoder: when the
 * baseline is complete (or absent) and the result complete, the bytes depend only on (frame,
 * baseline id); when the budget binds, only on (frame, baseline view content, viewer's cell of
 * SHARE_CELL_SIZE, the cell's cursor, budget). Each further client only stamps its own
 * lastInputSeq.
 */
export class SnapshotSender {
  private readonly history = new SnapshotHistory();
  private readonly priority = new PriorityAccumulator();
  /** Newest acked snapshot id still in the history (0: none, send full). */
  private acked = 0;
  /** Newest snapshot committed to an ordered reliable channel (implicit ack), and how many since the last ack. */
  private committedId = 0;
  private committedSinceAck = 0;
  readonly stats: SnapshotSendStats = { encoded: 0, shared: 0, full: 0, incomplete: 0 };
  /** This client's request to the tick encoder, refilled for every snapshot (nothing allocated per build). */
  private readonly request: SnapshotClient = { baseline: null, lastInputSeq: 0, viewerId: undefined, viewerPosition: undefined, priority: this.priority, budgetBytes: 0 };

  /** `budgetBytes` is read per snapshot: a WebTransport datagram limit can change with the path. */
  constructor(private readonly budgetBytes: () => number) {}

  /** Records the client's ack (input.ack); ignores older ids and ids no longer held. */
  ack(snapshotId: number): 'applied' | 'stale' {
    if (snapshotId <= this.acked || this.history.get(snapshotId) === undefined) return 'stale';
    this.acked = snapshotId;
    this.committedSinceAck = 0;
    return 'applied';
  }

  /**
   * Snapshot `snapshotId`, built by this sender, is committed to an ordered reliable channel
   * (Connection's `onCommitted`: WebSocket, or snapshots on the reliable stream): the client
   * will have decoded it before the next one arrives, so it is a baseline without waiting for
   * the ack. On such a channel every client of a cell then builds on the previous snapshot, and
   * their views stay equal, which is what lets them share encodings (an ack that comes in after
   * the next snapshot tick would put that client on a view of its own for a rotation; near
   * saturation a quarter of the acks did, and sharing fell to half).
   */
  committed(snapshotId: number): void {
    if (snapshotId <= this.committedId || this.history.get(snapshotId) === undefined) return;
    this.committedId = snapshotId;
    this.committedSinceAck++;
  }

  /** The baseline of the next snapshot: the newest acked or (within the limit) committed one. */
  private baseline(): SnapshotView | null {
    const id = this.committedId > this.acked && this.committedSinceAck <= IMPLICIT_ACK_LEAD_LIMIT ? this.committedId : this.acked;
    return id ? this.history.get(id) ?? null : null;
  }

  /**
   * After `encode`: -1 when its bytes are this client's message as they are; else they are a
   * shared encoding, and the client's message is them with this u32 (its lastInputSeq) at
   * LAST_INPUT_SEQ_OFFSET (withLastInputSeq, or the transport's stamp: Connection's
   * sendUnreliableStamped). The shared bytes are valid until the next snapshot tick.
   */
  stamp = -1;

  /**
   * The `snapshot` message for this client, or null when the budget cannot hold even a header.
   * A shared encoding costs one stamped copy (withLastInputSeq, cut from a pooled slab) and
   * nothing else per client. A viewer without an entity (a spectator) has no `viewerId`;
   * `viewerPosition` is where it looks, and its cell the one it shares encodings with.
   */
  build(frame: WorldFrame, viewerId: number | undefined, lastInputSeq: number, viewerPosition?: { x: number; y: number }): Uint8Array | null {
    const bytes = this.encode(frame, viewerId, lastInputSeq, viewerPosition);
    return bytes && this.stamp >= 0 ? withLastInputSeq(bytes, lastInputSeq) : bytes;
  }

  /**
   * As `build`, without the stamped copy: a shared encoding comes back as it is, and `stamp`
   * says what to write into it, so that a transport that copies the message anyway (the
   * WebSocket frame) makes the one copy per client.
   */
  encode(frame: WorldFrame, viewerId: number | undefined, lastInputSeq: number, viewerPosition?: { x: number; y: number }): Uint8Array | null {
    this.stamp = -1;
    const request = this.request;
    request.baseline = this.baseline();
    request.lastInputSeq = lastInputSeq;
    request.viewerId = viewerId;
    request.viewerPosition = viewerPosition;
    request.budgetBytes = this.budgetBytes();
    const encoder = tickEncoder(frame);
    const result = encoder.encodeShared(request);
    request.baseline = null;
    request.viewerPosition = undefined;
    if (!result.ok) return null;
    this.history.put(result.view);
    const shared = encoder.lastShared;
    if (shared) this.stats.shared++;
    else this.stats.encoded++;
    if (result.baselineId === 0) this.stats.full++;
    if (!result.complete) this.stats.incomplete++;
    if (shared) this.stamp = u32(lastInputSeq);
    return result.bytes;
  }
}
