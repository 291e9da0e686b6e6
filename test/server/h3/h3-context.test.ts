/**
 * server/h3/h3-context.ts: framed streams are pumped across a change of reader (a request's
 * HEADERS open a session, the capsule behind them in the same packet is read by the session's
 * CONNECT stream), the WebTransport signal hands a stream to the registry, and DONE ignores.
 */
import { describe, expect, it } from 'vitest';
import { encodeDataFrame, encodeFrame } from '../../../server/h3/wire/frames.js';
import { encodeCloseSessionCapsule } from '../../../server/h3/wire/capsules.js';
import { H3_ID_ERROR } from '../../../server/h3/wire/errors.js';
import { encodeVarint } from '../../../server/h3/wire/varint.js';
import { DONE } from '../../../server/h3/h3-context.js';
import { cat, connectHeaders, controlStream, enc, harness, serverWithSession } from './helpers/h3-harness.js';

describe('pumpFrames', () => {
  it('reads on with the new reader when a frame hands the stream over', () => {
    const h = harness('server');
    h.t.data(2, controlStream());
    h.t.data(0, cat(encodeFrame(0x21, enc('skip me')), connectHeaders(), encodeDataFrame(encodeCloseSessionCapsule(3, 'at once'))));
    expect(h.h3.counters.unknownFramesSkipped).toBe(1);
    expect(h.closes.get(0)).toMatchObject({ code: 3, reason: 'at once', byPeer: true });
  });

  it('a WebTransport signal naming a session id that is no CONNECT stream id is H3_ID_ERROR', () => {
    const h = serverWithSession();
    h.t.data(4, cat(encodeVarint(0x41), encodeVarint(2)));
    expect(h.ops('close')[0]).toMatchObject({ code: H3_ID_ERROR });
  });
});

describe('DONE', () => {
  it('ignores bytes; the FIN forgets the stream', () => {
    const h = serverWithSession();
    h.h3.readers.set(4, DONE);
    h.t.data(4, enc('ignored'));
    expect(h.h3.readers.get(4)).toBe(DONE);
    h.t.data(4, new Uint8Array(0), true);
    expect(h.h3.readers.get(4)).toBeUndefined();
  });
});
