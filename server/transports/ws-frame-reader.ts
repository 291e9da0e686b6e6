import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/**
 * The parts of ws's receiver (a Writable per socket, ws/lib/receiver.js) this reader looks at to
 * know that it stands between two frames with nothing of its own buffered.
 */
interface WsReceiver {
  _state: number;
  _bufferedBytes: number;
  _fragmented: number;
  _errored: boolean;
  _maxPayload: number;
  writableLength: number;
}

/** ws's receiver state "read the first two bytes of a frame" (GET_INFO in ws/lib/receiver.js). */
const WS_GET_INFO = 0;
/** ws's readyState OPEN. */
const OPEN = 1;
/** First byte of a whole binary data frame: FIN, no RSV bits, opcode 2 (RFC 6455 §5.2). */
const FIN_BINARY = 0x82;
/** Second byte: the MASK bit; a client masks every frame it sends (RFC 6455 §5.3). */
const MASK_BIT = 0x80;
/** Payload length 126: a 16-bit extended length follows (RFC 6455 §5.2). */
const LENGTH_16 = 126;

/**
 * Reads the client's messages straight off the TCP socket while every frame of a chunk is a whole,
 * masked, unfragmented binary frame (what a tickwire client sends: one binary frame per message),
 * and hands everything else to ws's own receiver.
 *
 * ws parses each frame through a Writable (write, buffer list, a state machine, a Buffer per
 * header field, two events per message); issue 12's profile put that at about a sixth of the
 * WebSocket server's CPU at P=256, as much as the input path itself. Here a chunk is parsed in
 * place: header, unmask (RFC 6455 §5.3), a subarray per message.
 *
 * The fast path only runs while ws's receiver stands between frames with nothing buffered, and
 * it stops at the first frame it does not take (a control frame, a fragment, a frame with RSV
 * bits, an unmasked one, a 64-bit length, one over ws's maxPayload, or a frame cut by the chunk's
 * end): that frame and the rest of the chunk go to ws, which then answers pings, runs the
 * closing handshake, and raises its protocol errors exactly as before. Frames reach
 * `onBinary` in the order they came.
 *
 * Returns false (and changes nothing) when ws's socket is not in the expected shape: no TCP socket,
 * an extension on (permessage-deflate transforms payloads), or not exactly one 'data' listener.
 */
export function readFramesDirectly(socket: WebSocket, raw: Duplex, onBinary: (payload: Buffer) => void): boolean {
  const receiver = (socket as unknown as { _receiver?: WsReceiver })._receiver;
  const listeners = raw.listeners('data');
  if (!receiver || socket.extensions !== '' || listeners.length !== 1) return false;
  const wsOnData = listeners[0] as (this: Duplex, chunk: Buffer) => void;
  const onData = (chunk: Buffer): void => {
    let off = 0;
    if (
      socket.readyState === OPEN && receiver._state === WS_GET_INFO && receiver._bufferedBytes === 0
      && receiver._fragmented === 0 && !receiver._errored && receiver.writableLength === 0
    ) {
      off = readWholeFrames(chunk, receiver._maxPayload, onBinary, socket);
      if (off === chunk.length) return;
    }
    wsOnData.call(raw, off === 0 ? chunk : chunk.subarray(off));
  };
  raw.removeListener('data', wsOnData);
  raw.on('data', onData);
  return true;
}

/**
 * Delivers the whole masked binary frames at the start of `chunk`, unmasking them in place, and
 * returns where the first frame it did not take starts (chunk.length when it took them all). Stops
 * as soon as the socket leaves OPEN (a message may close it).
 */
export function readWholeFrames(
  chunk: Buffer, maxPayload: number, onBinary: (payload: Buffer) => void, socket: { readonly readyState: number },
): number {
  const n = chunk.length;
  let off = 0;
  while (off + 2 <= n && socket.readyState === OPEN) {
    if (chunk[off] !== FIN_BINARY) break;
    const b1 = chunk[off + 1];
    if ((b1 & MASK_BIT) === 0) break;
    let len = b1 & 0x7f;
    let header = 2;
    if (len === LENGTH_16) {
      if (off + 4 > n) break;
      len = (chunk[off + 2] << 8) | chunk[off + 3];
      header = 4;
    } else if (len > LENGTH_16) {
      break; // 64-bit length: far above any message of ours; ws judges it
    }
    if (maxPayload > 0 && len > maxPayload) break;
    const mask = off + header;
    const start = mask + 4;
    const end = start + len;
    if (end > n) break;
    const m0 = chunk[mask];
    const m1 = chunk[mask + 1];
    const m2 = chunk[mask + 2];
    const m3 = chunk[mask + 3];
    let i = start;
    for (; i + 4 <= end; i += 4) {
      chunk[i] ^= m0;
      chunk[i + 1] ^= m1;
      chunk[i + 2] ^= m2;
      chunk[i + 3] ^= m3;
    }
    if (i < end) chunk[i++] ^= m0;
    if (i < end) chunk[i++] ^= m1;
    if (i < end) chunk[i] ^= m2;
    off = end;
    onBinary(chunk.subarray(start, end));
  }
  return off;
}
