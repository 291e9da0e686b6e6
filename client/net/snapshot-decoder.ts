import type { EntityState } from './game-client-types.js';
import { decodeSnapshotBody } from './snapshot-codec.js';

/**
 * Received snapshots kept as delta baselines. The server deltas against the newest snapshot we
 * acked, and our ack may be a few snapshots behind what is in flight; 32 snapshots (1.6 s at
 * 20 Hz) is Quake 3's PACKET_BACKUP and covers any ack the server can still be using.
 */
export const SNAPSHOT_BASELINE_LIMIT = 32;

/** One decoded snapshot: full state (the delta already applied). */
export interface DecodedSnapshot {
  id: number;
  serverTime: number;
  lastInputSeq: number;
  entities: EntityState[];
}

export type SnapshotDecodeResult = { ok: true; snapshot: DecodedSnapshot } | { ok: false; reason: string };

/** Decodes one snapshot body given a way to look up earlier snapshots by id. */
export type SnapshotBodyDecoder = (
  body: Uint8Array,
  baseline: (id: number) => DecodedSnapshot | undefined,
) => SnapshotDecodeResult;

/**
 * Per-connection snapshot state on the client: the ring of baselines and the ack (newest
 * snapshot decoded, 0 before the first; shared/messages.ts `InputBody.ack`).
 */
export class SnapshotDecoder {
  private readonly ring: (DecodedSnapshot | undefined)[] = new Array(SNAPSHOT_BASELINE_LIMIT);
  private newest = 0;

  constructor(private readonly decodeBody: SnapshotBodyDecoder = decodeSnapshotBody) {}

  /** Id to put in `input.ack`: the newest snapshot we can use as a baseline; 0 = none. */
  get ackId(): number {
    return this.newest;
  }

  /** A baseline by id, if still held. */
  baseline(id: number): DecodedSnapshot | undefined {
    const s = this.ring[id % SNAPSHOT_BASELINE_LIMIT];
    return s && s.id === id ? s : undefined;
  }

  decode(body: Uint8Array): SnapshotDecodeResult {
    let result: SnapshotDecodeResult;
    try {
      result = this.decodeBody(body, (id) => this.baseline(id));
    } catch (error) {
      // The codec is not supposed to throw; a peer's bytes must not crash the client if it does.
      return { ok: false, reason: `decoder threw: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (!result.ok) return result;
    const snap = result.snapshot;
    this.ring[snap.id % SNAPSHOT_BASELINE_LIMIT] = snap;
    if (snap.id > this.newest) this.newest = snap.id;
    return result;
  }

  /** A new connection numbers snapshots afresh and has no baselines. */
  reset(): void {
    this.ring.fill(undefined);
    this.newest = 0;
  }
}
