/**
 * The hand-off batch format (server/transports/wt-worker/handoff.ts): records come back in the
 * order written, across batch boundaries too; a replaced record is skipped; the in-flight count
 * survives the 32-bit wrap.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BatchWriter, Flag, HandoffCounters, Op, RECORD_HEADER_BYTES, TO_MAIN, TO_WORKER, closePayload, openPayload,
  protocolErrorPayload, readBatch, readClosePayload, readOpenPayload, readProtocolErrorPayload, readU16, readU32, u16Payload, u32Payload, type Batch,
} from '../../../../server/transports/wt-worker/handoff.js';

interface Rec {
  op: number;
  flags: number;
  conn: number;
  payload: number[];
}

function readAll(batches: Batch[]): Rec[] {
  const out: Rec[] = [];
  for (const b of batches) {
    expect(readBatch(b.buffer, b.length, (op, flags, conn, payload) => out.push({ op, flags, conn, payload: [...payload] }))).toBe(true);
  }
  return out;
}

describe('hand-off batches', () => {
  it('gives back every record in order, whether it fits one batch or spills into several (property)', () => {
    const record = fc.record({
      op: fc.constantFrom(Op.UNRELIABLE, Op.RELIABLE, Op.CLOSE, Op.DRAIN),
      flags: fc.constantFrom(0, Flag.REPLACE),
      conn: fc.nat({ max: 0xffffffff }),
      payload: fc.array(fc.nat({ max: 255 }), { maxLength: 300 }),
    });
    fc.assert(fc.property(fc.array(record, { maxLength: 60 }), fc.integer({ min: 64, max: 4096 }), (recs, capacity) => {
      const posted: Batch[] = [];
      const w = new BatchWriter((b) => posted.push(b), capacity);
      for (const r of recs) w.put(r.op as never, r.flags, r.conn, Uint8Array.from(r.payload));
      const last = w.take();
      if (last) posted.push(last);
      expect(w.take()).toBeNull();
      expect(readAll(posted)).toEqual(recs);
      // Only a record larger than the capacity gets a batch past it (its own).
      for (const b of posted) expect(b.length <= capacity || b.buffer.byteLength === b.length).toBe(true);
    }));
  });

  it('a record larger than the batch capacity travels in a buffer of its own size', () => {
    const posted: Batch[] = [];
    const w = new BatchWriter((b) => posted.push(b), 100);
    w.put(Op.RELIABLE, 0, 1, new Uint8Array(10));
    w.put(Op.RELIABLE, 0, 1, new Uint8Array(500).fill(9));
    posted.push(w.take()!);
    expect(posted.map((b) => b.length)).toEqual([RECORD_HEADER_BYTES + 10, RECORD_HEADER_BYTES + 500]);
    expect(readAll(posted)[1].payload).toEqual(new Array(500).fill(9));
  });

  it('skips a record marked replaced, only in the batch it was written to', () => {
    const w = new BatchWriter(() => undefined, 1024);
    const gen = w.generation;
    const a = w.put(Op.UNRELIABLE, Flag.REPLACE, 7, Uint8Array.of(5, 1));
    w.put(Op.UNRELIABLE, Flag.REPLACE, 7, Uint8Array.of(5, 2));
    w.skip(a);
    const b = w.take()!;
    expect(w.generation).toBe(gen + 1);
    expect(readAll([b]).map((r) => r.payload)).toEqual([[5, 2]]);
  });

  it('a truncated batch ends the walk and says so', () => {
    const w = new BatchWriter(() => undefined, 1024);
    w.put(Op.RELIABLE, 0, 1, new Uint8Array(20));
    const b = w.take()!;
    const seen: number[] = [];
    expect(readBatch(b.buffer, b.length - 1, (op) => seen.push(op))).toBe(false);
    expect(seen).toEqual([]);
  });

  it('round-trips the structured payloads', () => {
    expect(readClosePayload(closePayload(4009, 'server is shutting down'), false)).toEqual({ code: 4009, reason: 'server is shutting down', byPeer: false });
    expect(readClosePayload(closePayload(0xffffffff, 'bye \u00e9', 1), true)).toEqual({ code: 0xffffffff, reason: 'bye \u00e9', byPeer: true });
    expect(readClosePayload(closePayload(1, '', 0), true)).toEqual({ code: 1, reason: '', byPeer: false });
    expect(readClosePayload(closePayload(1, 'x'.repeat(5000)), false).reason.length).toBe(1024);
    expect(readOpenPayload(openPayload(1199, '::ffff:127.0.0.1'))).toEqual({ maxUnreliable: 1199, remoteAddress: '::ffff:127.0.0.1' });
    expect(readProtocolErrorPayload(protocolErrorPayload({ code: 4004, reason: 'too_large', kind: 'frame_too_large' })))
      .toEqual({ code: 4004, reason: 'too_large', kind: 'frame_too_large' });
    expect(readProtocolErrorPayload(protocolErrorPayload({ code: 4002, reason: 'decode', kind: '' })))
      .toEqual({ code: 4002, reason: 'decode', kind: '' });
    expect(readU16(u16Payload(1212))).toBe(1212);
    const p = u32Payload(0xfffffffe, 7);
    expect([readU32(p, 0), readU32(p, 4)]).toEqual([0xfffffffe, 7]);
  });
});

describe('HandoffCounters', () => {
  it('counts bytes in flight per direction, across the 32-bit wrap', () => {
    const c = new HandoffCounters();
    const peer = new HandoffCounters(c.shared); // the other thread's view of the same memory
    let produced = 0x7ffffff0 | 0;
    peer.consumed(TO_WORKER, produced);
    expect(c.inFlight(TO_WORKER, produced)).toBe(0);
    produced = (produced + 100) | 0; // wraps past 2^31
    expect(c.inFlight(TO_WORKER, produced)).toBe(100);
    peer.consumed(TO_WORKER, 60);
    expect(c.inFlight(TO_WORKER, produced)).toBe(40);
    expect(c.inFlight(TO_MAIN, 10)).toBe(10);
  });
});
