/**
 * What the pieces of one HTTP/3 connection share: the connection context (`H3Context`, which
 * `H3Connection` implements) and the reader every incoming stream has (`StreamReader`). Each
 * kind of stream (a peer's control stream, a request stream, a CONNECT stream, a WebTransport
 * stream, ...) is a reader class in the module of its concern; the connection dispatches QUIC
 * events to the stream's reader instead of switching on a stream state.
 */
import type { FrameDecoder, FrameEvent } from './wire/frames.js';
import { H3_ID_ERROR } from './wire/errors.js';
import { PARTIAL_FRAME_TIMEOUT_MS } from './h3-limits.js';
import type { H3Counters } from './h3-counters.js';
import type { H3Scheduler, H3Transport, QuicCloseInfo } from './h3-transport.js';
import type { ControlStreams } from './control-streams.js';
import type { ServerRequests } from './server-connect.js';
import type { ClientConnects } from './client-connect.js';
import type { SessionTable } from './session-table.js';
import type { WtStreamRegistry } from './wt-stream-registry.js';
import type { H3ConnectionOptions } from './h3-connection.js';
import type { PeerBufferLimit, StreamTable } from './peer-buffers.js';
import type { WebTransportSessionHost } from './session.js';

/** The reader of one incoming stream (or of our bidirectional stream's receive side). */
export interface StreamReader {
  /** Bytes arrived; `fin` marks the end of the peer's send side. */
  data(id: number, bytes: Uint8Array, fin: boolean): void;
  /** The peer reset its send side (RESET_STREAM); the reader is already removed from the table. */
  reset(id: number, code: number): void;
  /** The peer sent STOP_SENDING for our send side of this stream (`code` null when unknown). */
  stopped?(id: number, code: number | null): void;
  /** The connection ended: release timers, fail what waits. */
  connectionClosed?(info: QuicCloseInfo): void;
  /** A CONNECT in flight or waiting: keeps a connection without sessions from the idle close. */
  readonly waiting?: boolean;
  /** Peer bytes this reader holds (partial frame, parked request, buffered data): peer-buffers.ts. */
  readonly heldBytes?: number;
  /** How long it may hold them, from when it started to (ms); no limit when undefined. */
  readonly holdLimitMs?: number;
  /** Most bytes this one stream may hold (beyond the connection's and the server's limits). */
  readonly holdCap?: number;
  /**
   * Its bytes passed a limit (the connection's or the server's cap, or its time): refuse the
   * stream (or session, or connection) with the code its spec names, and count it.
   */
  overLimit?(id: number, limit: PeerBufferLimit): void;
}

/** A stream we read nothing more from: its bytes are ignored; its FIN or reset forgets it. */
export const DONE: StreamReader = {
  data: () => undefined,
  reset: () => undefined,
};

/** The connection as its pieces see it (it is also the host of its sessions). */
export interface H3Context extends WebTransportSessionHost {
  readonly role: 'server' | 'client';
  readonly options: H3ConnectionOptions;
  readonly transport: H3Transport;
  readonly scheduler: H3Scheduler;
  readonly counters: H3Counters;
  /** Readers of the streams we still read, by stream id, with the books of what they hold. */
  readonly readers: StreamTable;
  readonly isClosed: boolean;
  /** Peer address as 'host:port'. */
  readonly remoteAddress: string;
  readonly control: ControlStreams;
  readonly server: ServerRequests;
  readonly client: ClientConnects;
  readonly sessions: SessionTable;
  readonly registry: WtStreamRegistry;
  /**
   * Closes the connection with an HTTP/3 error code (RFC 9114 §8), counted by code, or under
   * `limit` when a named limit (peer-buffers.ts) was passed.
   */
  connectionError(code: number, detail: string, limit?: string): void;
  /** Closes the connection cleanly (H3_NO_ERROR). */
  close(): void;
  /** A stream error (RFC 9114 §8): reset and stop the stream with `code`, counted like connectionError. */
  rejectStream(id: number, code: number, limit?: string): void;
  /** Runs our own timer code; a throw closes this connection with H3_INTERNAL_ERROR. */
  guard(fn: () => void): void;
  /** Books what stream `id`'s reader holds after it was fed; refuses it past a limit. */
  enforce(id: number): void;
}

/**
 * A stream whose bytes are HTTP/3 frames (RFC 9114 §7): request streams, CONNECT streams and the
 * server's bidirectional streams seen by a client. The frames are pumped by `pumpFrames`, which
 * re-reads the stream's reader after every frame because handling one may hand the stream (and
 * this decoder) to another reader, e.g. a request whose HEADERS opened a session.
 */
export abstract class FramedReader implements StreamReader {
  constructor(protected readonly c: H3Context, readonly dec: FrameDecoder) {}

  data(id: number, bytes: Uint8Array, fin: boolean): void {
    this.dec.push(bytes);
    pumpFrames(this.c, id, fin);
  }

  abstract reset(id: number, code: number): void;

  /** A whole frame (or a DATA piece) arrived. Returns false when pumping must stop. */
  protected abstract frame(id: number, ev: Extract<FrameEvent, { status: 'frame' | 'data' }>, fin: boolean): boolean;

  /** The peer's FIN after the last whole frame. */
  abstract end(id: number): void;

  /** A partial frame (at most a frame header and a whole-delivered frame, wire/frames.ts). */
  get heldBytes(): number {
    return this.dec.bufferedBytes;
  }

  /** How long a partial frame may stall. */
  get holdLimitMs(): number {
    return PARTIAL_FRAME_TIMEOUT_MS;
  }

  /** A malformed frame (RFC 9114 §7.1): a connection error unless the reader says otherwise. */
  protected decodeError(_id: number, code: number, detail: string): void {
    this.c.connectionError(code, detail);
  }

  /** Handles one decoder event; false when the stream's state changed such that pumping must stop. */
  event(id: number, ev: Exclude<FrameEvent, { status: 'need-more' }>, fin: boolean): boolean {
    if (ev.status === 'error') {
      this.decodeError(id, ev.code, ev.detail);
      return false;
    }
    if (ev.status === 'skipped') {
      this.c.counters.unknownFramesSkipped++;
      return true;
    }
    if (ev.status === 'webtransport-stream') {
      // Only possible as the first bytes of a peer bidi stream (decoders made with
      // acceptWebTransportStream, draft-ietf-webtrans-http3 §4.2).
      if (!ev.sessionIdSafe || ev.sessionId % 4 !== 0) {
        this.c.connectionError(H3_ID_ERROR, 'WebTransport stream names an invalid session id');
        return false;
      }
      // `rest` holds every byte pushed so far, so this chunk's FIN belongs with it.
      this.c.registry.attach(id, ev.sessionId, true, ev.rest, fin);
      return false;
    }
    return this.frame(id, ev, fin);
  }
}

/** Drives the frame decoder of stream `id` (see FramedReader). */
export function pumpFrames(c: H3Context, id: number, fin: boolean): void {
  for (;;) {
    if (c.isClosed) return;
    const r = c.readers.get(id);
    if (!(r instanceof FramedReader)) return;
    const ev = r.dec.next();
    if (ev.status === 'need-more') break;
    if (!r.event(id, ev, fin)) return;
  }
  if (!fin) return;
  const r = c.readers.get(id);
  if (r instanceof FramedReader) r.end(id);
}
