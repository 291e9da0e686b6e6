import { describe, expect, it } from 'vitest';
import { SNAPSHOT_BASELINE_LIMIT, SnapshotDecoder } from '../../../client/net/snapshot-decoder.js';
import { encodeSnapshot, snapshotFormat, type SnapshotView } from '../../../shared/snapshot/index.js';

/** Encodes a real snapshot with shared/snapshot and returns its body (without the id byte). */
function snapshot(id: number, xs: number[], baseline: SnapshotView | null = null, format = snapshotFormat(1000, 1000)) {
  const r = encodeSnapshot({
    snapshotId: id,
    serverTick: id * 3,
    serverTime: 1_000 + id * 50,
    lastInputSeq: id * 2,
    entities: xs.map((x, i) => ({ id: i + 1, x, y: 100, angle: 0 })),
    baseline,
    format,
  }, 1024);
  if (!r.ok) throw new Error(r.detail);
  return { body: r.bytes.subarray(1), view: r.view };
}

describe('SnapshotDecoder (baselines and ack) with the shared snapshot codec', () => {
  it('acks 0 before the first snapshot, then the newest decoded; decodes deltas against held baselines', () => {
    const d = new SnapshotDecoder();
    expect(d.ackId).toBe(0);
    const s1 = snapshot(1, [10, 20]);
    const r1 = d.decode(s1.body);
    expect(r1.ok && r1.snapshot).toMatchObject({ id: 1, baselineId: 0, serverTime: 1050, lastInputSeq: 2, serverTick: 3 });
    expect(d.ackId).toBe(1);
    const s3 = snapshot(3, [11, 25], s1.view);
    const r3 = d.decode(s3.body);
    expect(r3.ok && r3.snapshot.baselineId).toBe(1);
    expect(r3.ok && r3.snapshot.entities.map((e) => e.x)).toEqual([11, 25]);
    expect(d.ackId).toBe(3);
  });

  it('a late, older snapshot becomes a baseline but never lowers the ack', () => {
    const d = new SnapshotDecoder();
    const s1 = snapshot(1, [10]);
    d.decode(s1.body);
    d.decode(snapshot(3, [12], s1.view).body);
    expect(d.decode(snapshot(2, [11], s1.view).body).ok).toBe(true);
    expect(d.ackId).toBe(3);
    expect(d.baseline(2)?.entities[0].x).toBe(11);
  });

  it('drops a delta whose baseline it no longer holds (unknown_baseline), ack unchanged', () => {
    const d = new SnapshotDecoder();
    const s1 = snapshot(1, [10]);
    d.decode(s1.body);
    for (let id = 2; id <= SNAPSHOT_BASELINE_LIMIT + 1; id++) d.decode(snapshot(id, [10]).body);
    expect(d.baseline(1)).toBeUndefined();
    const ack = d.ackId;
    const r = d.decode(snapshot(SNAPSHOT_BASELINE_LIMIT + 5, [12], s1.view).body);
    expect(r).toMatchObject({ ok: false, reason: 'unknown_baseline' });
    expect(d.ackId).toBe(ack);
  });

  it('uses the world size from welcome for quantization', () => {
    const big = snapshotFormat(4000, 4000);
    const d = new SnapshotDecoder();
    d.setWorld(4000, 4000);
    const r = d.decode(snapshot(1, [3999.75], null, big).body);
    expect(r.ok && r.snapshot.entities[0].x).toBe(3999.75);
  });

  it('garbage is a counted failure, never an exception', () => {
    const d = new SnapshotDecoder();
    expect(d.decode(new Uint8Array([1, 2, 3])).ok).toBe(false);
    expect(d.ackId).toBe(0);
  });

  it('reset forgets baselines and the ack (new connection)', () => {
    const d = new SnapshotDecoder();
    d.decode(snapshot(4, [1]).body);
    d.reset();
    expect(d.ackId).toBe(0);
    expect(d.baseline(4)).toBeUndefined();
  });
});
