import {
  decodeSnapshotBody,
  SNAPSHOT_HISTORY_SIZE,
  SnapshotHistory,
  snapshotFormat,
  STANDARD_FORMAT,
  type DecodedSnapshot,
  type SnapshotDecodeResult,
  type SnapshotFormat,
} from '../../shared/snapshot/index.js';

/**
 * Received snapshots kept as delta baselines: shared/snapshot's ring of SNAPSHOT_HISTORY_SIZE
 * (32, Quake 3's PACKET_BACKUP: 1.6 s at 20 Hz), the same size the server keeps per client, so
 * any baseline the server may still delta against is one we can still hold.
 */
export const SNAPSHOT_BASELINE_LIMIT = SNAPSHOT_HISTORY_SIZE;

export type { DecodedSnapshot, SnapshotDecodeResult };

/**
 * Per-connection snapshot state on the client: the baseline ring, the quantization format (from
 * the world size in `welcome`) and the ack (newest snapshot decoded, 0 before the first;
 * shared/messages.ts `InputBody.ack`).
 */
export class SnapshotDecoder {
  private readonly history = new SnapshotHistory<DecodedSnapshot>(SNAPSHOT_BASELINE_LIMIT);
  private newest = 0;
  private format: SnapshotFormat = STANDARD_FORMAT;

  /** Id to put in `input.ack`: the newest snapshot we hold as a baseline; 0 = none. */
  get ackId(): number {
    return this.newest;
  }

  /** Quantization follows the world size announced in `welcome` (docs/protocol.md). */
  setWorld(worldW: number, worldH: number): void {
    this.format = snapshotFormat(worldW, worldH);
  }

  /** A baseline by id, if still held. */
  baseline(id: number): DecodedSnapshot | undefined {
    return this.history.get(id);
  }

  /** Decodes one snapshot body (the message without its id byte); never throws. */
  decode(body: Uint8Array): SnapshotDecodeResult {
    const result = decodeSnapshotBody(body, (id) => this.history.get(id), this.format);
    if (!result.ok) return result;
    const snap = result.snapshot;
    // Even a late (older) snapshot is a valid baseline the server may pick; the ack only grows.
    this.history.put(snap);
    if (snap.id > this.newest) this.newest = snap.id;
    return result;
  }

  /** A new connection starts with no baselines (its first snapshot is full). */
  reset(): void {
    this.history.clear();
    this.newest = 0;
  }
}
