/**
 * QUIC stream ids (RFC 9000 §2.1): the two low bits give the type, bit 0x1 set for a stream
 * the server initiated, bit 0x2 set for a unidirectional one; the ids of each of the four types
 * are used in order, 4 apart, starting from the type's number.
 */

export type StreamRole = 'client' | 'server';

/** True for a bidirectional stream (bit 0x2 clear). */
export function isBidiStream(id: number): boolean {
  return (id & 2) === 0;
}

/** True for a stream the client initiated (bit 0x1 clear). */
export function isClientInitiatedStream(id: number): boolean {
  return (id & 1) === 0;
}

/**
 * True for a valid id of a client-initiated bidirectional stream (low bits 0b00), the only kind
 * a WebTransport session id can be (draft-ietf-webtrans-http3 §4.2).
 */
export function isClientBidiStreamId(id: number): boolean {
  return Number.isSafeInteger(id) && id >= 0 && id % 4 === 0;
}

/** True for a stream the other end initiated, seen from an endpoint in `role`. */
export function isPeerInitiatedStream(id: number, role: StreamRole): boolean {
  return isClientInitiatedStream(id) === (role === 'server');
}

/** The ids of the streams one endpoint opens, each type in order (RFC 9000 §2.1). */
export class StreamIdAllocator {
  private nextBidi: number;
  private nextUni: number;

  constructor(role: StreamRole) {
    this.nextBidi = role === 'client' ? 0 : 1;
    this.nextUni = role === 'client' ? 2 : 3;
  }

  /** The id of the next bidirectional (`bidi`) or unidirectional stream this endpoint opens. */
  next(bidi: boolean): number {
    if (bidi) {
      const id = this.nextBidi;
      this.nextBidi += 4;
      return id;
    }
    const id = this.nextUni;
    this.nextUni += 4;
    return id;
  }
}
