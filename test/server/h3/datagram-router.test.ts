/**
 * server/h3/datagram-router.ts without UDP: HTTP datagrams (RFC 9297 §2.1) routed by their
 * Quarter Stream ID in both directions, drops counted, a malformed prefix a connection error.
 */
import { describe, expect, it } from 'vitest';
import { encodeDatagram } from '../../../server/h3/wire/datagram.js';
import { H3_DATAGRAM_ERROR } from '../../../server/h3/wire/errors.js';
import type { WebTransportSession } from '../../../server/h3/session.js';
import { connectHeaders, controlStream, enc, harness, hex } from './helpers/h3-harness.js';

/** A server with sessions on the given CONNECT stream ids (Quarter Stream IDs of 1, 2 and 4 bytes). */
function withSessions(ids: number[]) {
  const got: Array<[number, string]> = [];
  const h = harness('server', {
    onSession: (s: WebTransportSession) => {
      s.onDatagram = (d) => got.push([s.id, Buffer.from(d).toString()]);
    },
  });
  h.t.data(2, controlStream());
  for (const id of ids) h.t.data(id, connectHeaders());
  return { h, got };
}

describe('incoming datagrams', () => {
  it('reach the session their Quarter Stream ID names, whatever its length', () => {
    const { h, got } = withSessions([0, 400, 70_000]);
    for (const id of [0, 400, 70_000]) h.t.datagram(encodeDatagram(id, enc(`to ${id}`)));
    expect(got).toEqual([[0, 'to 0'], [400, 'to 400'], [70_000, 'to 70000']]);
    expect(h.sessions.map((s) => s.datagramsReceived)).toEqual([1, 1, 1]);
  });

  it('for no open session (unknown, ended, or a non-CONNECT stream) are dropped and counted', () => {
    const { h, got } = withSessions([0, 70_000]);
    h.sessions[1].close(0, '');
    h.t.datagram(encodeDatagram(4, enc('a')));
    h.t.datagram(encodeDatagram(70_000, enc('b')));
    h.t.datagram(encodeDatagram(800_000, enc('c')));
    expect(got).toEqual([]);
    expect(h.h3.counters.datagramsDroppedUnknownSession).toBe(3);
    expect(h.ops('close')).toEqual([]);
  });

  it('a Quarter Stream ID of 2^60 or more, or none at all, is H3_DATAGRAM_ERROR', () => {
    const { h } = withSessions([0]);
    h.t.datagram(new Uint8Array([0xf0, 0, 0, 0, 0, 0, 0, 0, 1]));
    expect(h.ops('close')[0]).toMatchObject({ app: true, code: H3_DATAGRAM_ERROR });
    const e = withSessions([0]).h;
    e.t.datagram(new Uint8Array(0));
    expect(e.ops('close')[0]).toMatchObject({ app: true, code: H3_DATAGRAM_ERROR });
  });
});

describe('outgoing datagrams', () => {
  it('carry the Quarter Stream ID prefix (1, 2 and 4 bytes), large ones too', () => {
    const { h } = withSessions([0, 400, 70_000]);
    const big = new Uint8Array(3000).fill(5);
    for (const s of h.sessions) expect(s.sendDatagram(enc('hi'))).toBe(true);
    h.sessions[0].sendDatagram(big);
    expect(h.ops('datagram').map((d) => d.hex)).toEqual([
      hex(encodeDatagram(0, enc('hi'))), hex(encodeDatagram(400, enc('hi'))), hex(encodeDatagram(70_000, enc('hi'))),
      h.ops('datagram')[3].hex,
    ]);
    expect(h.t.datagramQueue[3]).toEqual(encodeDatagram(0, big));
    expect(h.sessions[0].datagramsSent).toBe(2);
  });

  it('a full queue is a counted drop for the session', () => {
    const { h } = withSessions([0]);
    h.t.datagramResult = 'queue_full';
    expect(h.sessions[0].sendDatagram(enc('x'))).toBe(false);
    expect(h.sessions[0].datagramsDropped).toBe(1);
  });

  it("purge drops only this session's queued datagrams that the predicate selects; a throwing predicate is rethrown after", () => {
    const { h } = withSessions([0, 4]);
    for (const s of h.sessions) for (const b of [1, 2]) s.sendDatagram(new Uint8Array([b]));
    h.sessions[0].purgeDatagrams((p) => p[0] === 1);
    expect(h.t.datagramQueue.map(hex)).toEqual(['0002', '0101', '0102']);
    const bug = new Error('predicate');
    expect(() => h.sessions[1].purgeDatagrams(() => {
      throw bug;
    })).toThrow(bug);
    expect(h.t.datagramQueue).toHaveLength(3);
  });

  it('a purge nested in a predicate runs for its own session, and the outer one carries on with its own', () => {
    const { h } = withSessions([0, 4]);
    for (const s of h.sessions) for (const b of [1, 2, 3]) s.sendDatagram(new Uint8Array([b]));
    let nested = false;
    h.sessions[0].purgeDatagrams((p) => {
      if (!nested) {
        nested = true;
        h.sessions[1].purgeDatagrams((q) => q[0] === 3);
      }
      return p[0] !== 2;
    });
    // What the test transport's purge visits depends on the queue as it iterates; the survivors
    // are what matters: session 0 keeps only its 2, session 1 loses only its 3.
    expect(h.t.datagramQueue.map(hex).sort()).toEqual(['0002', '0101', '0102'].sort());
    // After a purge whose predicate threw, the next purge works on its own arguments.
    expect(() => h.sessions[1].purgeDatagrams(() => {
      throw new Error('bug');
    })).toThrow('bug');
    h.sessions[1].purgeDatagrams((q) => q[0] === 1);
    expect(h.t.datagramQueue.map(hex)).toEqual(['0002', '0102']);
  });

  it('maxDatagramSize is what QUIC allows minus the prefix; 0 before the handshake', () => {
    const { h } = withSessions([0, 400]);
    expect(h.sessions.map((s) => s.maxDatagramSize)).toEqual([1199, 1198]);
    h.t.maxDatagram = null;
    expect(h.sessions[0].maxDatagramSize).toBe(0);
  });
});
