import { describe, expect, it } from 'vitest';
import {
  SNAPSHOT_BASELINE_LIMIT,
  SnapshotDecoder,
  type DecodedSnapshot,
  type SnapshotBodyDecoder,
} from '../../../client/net/snapshot-decoder.js';

/**
 * A toy body format for testing the ring and the ack alone: [id, baselineId, x]. A delta
 * (baselineId != 0) adds x to the baseline's entity; a missing baseline fails, like the real
 * codec must.
 */
const toy: SnapshotBodyDecoder = (body, baseline) => {
  const [id, base, x] = body;
  if (id === 255) throw new Error('hostile bytes');
  let prev = 0;
  if (base !== 0) {
    const b = baseline(base);
    if (!b) return { ok: false, reason: `no baseline ${base}` };
    prev = b.entities[0].x;
  }
  const snapshot: DecodedSnapshot = { id, serverTime: id * 50, lastInputSeq: id, entities: [{ id: 1, x: prev + x, y: 0, angle: 0 }] };
  return { ok: true, snapshot };
};

describe('SnapshotDecoder (baselines and ack)', () => {
  it('acks 0 before the first snapshot, then the newest decoded id', () => {
    const d = new SnapshotDecoder(toy);
    expect(d.ackId).toBe(0);
    expect(d.decode(new Uint8Array([1, 0, 10])).ok).toBe(true);
    expect(d.ackId).toBe(1);
    const r = d.decode(new Uint8Array([3, 1, 5]));
    expect(r.ok && r.snapshot.entities[0].x).toBe(15);
    expect(d.ackId).toBe(3);
  });

  it('a late, older snapshot still becomes a baseline but never lowers the ack', () => {
    const d = new SnapshotDecoder(toy);
    d.decode(new Uint8Array([1, 0, 10]));
    d.decode(new Uint8Array([3, 1, 5]));
    expect(d.decode(new Uint8Array([2, 1, 1])).ok).toBe(true);
    expect(d.ackId).toBe(3);
    expect(d.baseline(2)?.entities[0].x).toBe(11);
  });

  it('fails a delta whose baseline is gone, without moving the ack', () => {
    const d = new SnapshotDecoder(toy);
    d.decode(new Uint8Array([1, 0, 10]));
    for (let id = 2; id <= SNAPSHOT_BASELINE_LIMIT + 1; id++) d.decode(new Uint8Array([id, 0, 0]));
    expect(d.baseline(1)).toBeUndefined(); // overwritten in the ring
    const ack = d.ackId;
    expect(d.decode(new Uint8Array([SNAPSHOT_BASELINE_LIMIT + 5, 1, 1]))).toEqual({ ok: false, reason: 'no baseline 1' });
    expect(d.ackId).toBe(ack);
  });

  it('a decoder that throws is a failed decode, not a crash', () => {
    const d = new SnapshotDecoder(toy);
    expect(d.decode(new Uint8Array([255, 0, 0]))).toMatchObject({ ok: false, reason: expect.stringMatching(/hostile/) });
  });

  it('reset forgets baselines and the ack (new connection)', () => {
    const d = new SnapshotDecoder(toy);
    d.decode(new Uint8Array([4, 0, 1]));
    d.reset();
    expect(d.ackId).toBe(0);
    expect(d.baseline(4)).toBeUndefined();
  });
});
