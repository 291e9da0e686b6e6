import { describe, expect, it } from 'vitest';
import {
  StreamIdAllocator, isBidiStream, isClientBidiStreamId, isClientInitiatedStream, isPeerInitiatedStream,
} from '../../../../server/h3/wire/stream-id.js';

describe('stream ids (RFC 9000 §2.1)', () => {
  it('read the type from the two low bits', () => {
    // 0: client bidi, 1: server bidi, 2: client uni, 3: server uni.
    expect([0, 1, 2, 3, 4, 7].map(isBidiStream)).toEqual([true, true, false, false, true, false]);
    expect([0, 1, 2, 3, 4, 7].map(isClientInitiatedStream)).toEqual([true, false, true, false, true, false]);
    expect([0, 1, 2, 3].map((id) => isPeerInitiatedStream(id, 'server'))).toEqual([true, false, true, false]);
    expect([0, 1, 2, 3].map((id) => isPeerInitiatedStream(id, 'client'))).toEqual([false, true, false, true]);
  });

  it('a WebTransport session id is a client bidirectional stream id, and a safe non-negative integer', () => {
    expect([0, 4, 2 ** 52].map(isClientBidiStreamId)).toEqual([true, true, true]);
    expect([1, 2, 3, -4, 4.5, 2 ** 60].map(isClientBidiStreamId)).toEqual([false, false, false, false, false, false]);
  });

  it('allocates each role\'s ids of each type in order, 4 apart', () => {
    const client = new StreamIdAllocator('client');
    expect([client.next(true), client.next(false), client.next(true), client.next(false), client.next(true)]).toEqual([0, 2, 4, 6, 8]);
    const server = new StreamIdAllocator('server');
    expect([server.next(false), server.next(false), server.next(true), server.next(true)]).toEqual([3, 7, 1, 5]);
    for (const id of [1, 5]) expect(isBidiStream(id) && !isClientInitiatedStream(id)).toBe(true);
  });
});
