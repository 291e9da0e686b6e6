/**
 * The control plane of one HTTP/3 connection (RFC 9114 §6.2): our control stream and its
 * SETTINGS, the peer's unidirectional streams by type (control, QPACK encoder/decoder, push,
 * WebTransport, unknown), the peer's SETTINGS (which tell whether it speaks WebTransport,
 * draft-ietf-webtrans-http3 §3.1) and GOAWAY both ways (RFC 9114 §5.2).
 */
import {
  FrameDecoder, FRAME_CANCEL_PUSH, FRAME_GOAWAY, FRAME_MAX_PUSH_ID, FRAME_SETTINGS, decodeGoaway, encodeGoawayFrame,
} from './wire/frames.js';
import { CLIENT_SETTINGS, SERVER_SETTINGS, decodeSettings, encodeSettingsFrame, webTransportSupport, type WebTransportSupport } from './wire/settings.js';
import { UNI_STREAM_CONTROL, encodeUniStreamType, parseUniStreamHeader } from './wire/wt-streams.js';
import { concatBytes } from './wire/bytes.js';
import {
  H3_CLOSED_CRITICAL_STREAM, H3_EXCESSIVE_LOAD, H3_FRAME_UNEXPECTED, H3_ID_ERROR, H3_MISSING_SETTINGS, H3_STREAM_CREATION_ERROR,
} from './wire/errors.js';
import { bump } from './h3-counters.js';
import { PARTIAL_FRAME_TIMEOUT_MS } from './h3-limits.js';
import { LIMIT_LABEL, type PeerBufferLimit } from './peer-buffers.js';
import { DONE, type H3Context, type StreamReader } from './h3-context.js';
import { abortReading } from './read-abort.js';

export class ControlStreams {
  /** Our control stream; -1 before the handshake completed. */
  private ourControl = -1;
  private peerControlSeen = false;
  private peerQpackEncoderSeen = false;
  private peerQpackDecoderSeen = false;
  /** The id our GOAWAY named; null before we sent one. */
  private goawayId: number | null = null;
  private goawayReceived = false;
  /** The peer's WebTransport capabilities, once its SETTINGS arrived. */
  peerSupport: WebTransportSupport | null = null;

  constructor(private readonly c: H3Context) {}

  /**
   * The id our GOAWAY named (RFC 9114 §5.2: requests on this stream id and above are not
   * processed); null before we sent one.
   */
  get goawaySentId(): number | null {
    return this.goawayId;
  }

  /** True after the peer sent GOAWAY. */
  get peerDraining(): boolean {
    return this.goawayReceived;
  }

  isOurControlStream(id: number): boolean {
    return id === this.ourControl;
  }

  /** RFC 9114 §6.2.1: each side opens one control stream; SETTINGS is its first frame. */
  open(): void {
    this.ourControl = this.c.transport.openStream(false);
    const settings = this.c.role === 'server' ? SERVER_SETTINGS : CLIENT_SETTINGS;
    const type = encodeUniStreamType(UNI_STREAM_CONTROL);
    const frame = encodeSettingsFrame(settings);
    const out = new Uint8Array(type.length + frame.length);
    out.set(type, 0);
    out.set(frame, type.length);
    this.c.transport.write(this.ourControl, out);
  }

  /**
   * Sends GOAWAY once (RFC 9114 §5.2) naming `id`: from a server the first client bidi stream
   * it will not process (§7.2.6); from a client a push id, 0 since we never accept pushes.
   * Nothing before the handshake (no control stream yet).
   */
  sendGoaway(id: number): void {
    if (this.goawayId !== null || this.ourControl < 0) return;
    this.goawayId = id;
    this.c.counters.goawaysSent++;
    this.c.transport.write(this.ourControl, encodeGoawayFrame(id));
  }

  /** The reader of a new peer unidirectional stream: its type comes first (RFC 9114 §6.2). */
  newUniStream(): StreamReader {
    return new UniHeaderReader(this.c, this);
  }

  /** @internal UniHeaderReader: the peer opened a stream of a once-only type. */
  claim(kind: 'control' | 'qpack-encoder' | 'qpack-decoder'): boolean {
    const seen = kind === 'control' ? this.peerControlSeen : kind === 'qpack-encoder' ? this.peerQpackEncoderSeen : this.peerQpackDecoderSeen;
    if (seen) {
      this.c.connectionError(H3_STREAM_CREATION_ERROR, kind === 'control' ? 'second control stream' : `second ${kind} stream`);
      return false;
    }
    if (kind === 'control') this.peerControlSeen = true;
    else if (kind === 'qpack-encoder') this.peerQpackEncoderSeen = true;
    else this.peerQpackDecoderSeen = true;
    return true;
  }

  /** @internal ControlReader: the peer's SETTINGS arrived. */
  settingsReceived(support: WebTransportSupport): void {
    this.peerSupport = support;
    if (this.c.role === 'client') {
      this.c.options.onPeerSettings?.(support);
      return;
    }
    // Requests that waited for SETTINGS (draft-ietf-webtrans-http3 §3.1).
    this.c.server.settingsArrived();
  }

  /** @internal ControlReader: the peer sent GOAWAY. */
  goaway(): void {
    this.c.counters.goawaysReceived++;
    if (this.goawayReceived) return;
    this.goawayReceived = true;
    this.c.options.onGoaway?.();
    this.c.sessions.markAllDraining();
  }
}

/** A peer unidirectional stream whose type is not read yet. */
class UniHeaderReader implements StreamReader {
  private buf: Uint8Array = new Uint8Array(0);

  constructor(private readonly c: H3Context, private readonly control: ControlStreams) {}

  data(id: number, data: Uint8Array, fin: boolean): void {
    const buf = this.buf.length === 0 ? data : concatBytes([this.buf, data]);
    const h = parseUniStreamHeader(buf);
    if (h.status === 'need-more') {
      if (fin) {
        this.c.readers.set(id, DONE);
        return;
      }
      this.buf = buf.slice();
      return;
    }
    if (h.status === 'error') {
      this.c.connectionError(h.code, h.detail);
      return;
    }
    const rest = buf.subarray(h.headerLength);
    switch (h.kind) {
      case 'control': {
        if (!this.control.claim('control')) return;
        const next = new ControlReader(this.c, this.control);
        this.c.readers.set(id, next);
        next.data(id, rest, fin);
        return;
      }
      case 'qpack-encoder':
      case 'qpack-decoder': {
        if (!this.control.claim(h.kind)) return;
        const next = new QpackReader(this.c);
        this.c.readers.set(id, next);
        next.data(id, rest, fin);
        return;
      }
      case 'push':
        // RFC 9114 §6.2.2: only servers push; a client never sent MAX_PUSH_ID here.
        if (this.c.role === 'server') this.c.connectionError(H3_STREAM_CREATION_ERROR, 'client opened a push stream');
        else this.c.connectionError(H3_ID_ERROR, 'push stream without MAX_PUSH_ID');
        return;
      case 'webtransport':
        this.c.registry.attach(id, h.sessionId, false, rest, fin);
        return;
      case 'unknown':
        // RFC 9114 §6.2: unknown (incl. GREASE, §6.2.3) stream types: abort reading, no error.
        this.c.counters.unknownUniStreams++;
        abortReading(this.c, id, H3_STREAM_CREATION_ERROR);
        return;
    }
  }

  reset(): void {
    // A stream reset before its type arrived: nothing to do.
  }

  get heldBytes(): number {
    return this.buf.length;
  }

  get holdLimitMs(): number {
    return PARTIAL_FRAME_TIMEOUT_MS;
  }

  /** A stream type that never completes (at most 15 bytes held, so only its time runs out). */
  overLimit(id: number, limit: PeerBufferLimit): void {
    bump(this.c.counters.limits, `uni_stream_type_${LIMIT_LABEL[limit]}`);
    abortReading(this.c, id, H3_STREAM_CREATION_ERROR);
  }
}

/** The peer's control stream (RFC 9114 §6.2.1): SETTINGS first, then GOAWAY and push frames. */
class ControlReader implements StreamReader {
  private readonly dec = new FrameDecoder();
  private gotSettings = false;

  constructor(private readonly c: H3Context, private readonly control: ControlStreams) {}

  data(_id: number, data: Uint8Array, fin: boolean): void {
    this.dec.push(data);
    this.pump();
    if (fin && !this.c.isClosed) this.c.connectionError(H3_CLOSED_CRITICAL_STREAM, 'peer closed its control stream');
  }

  reset(): void {
    this.c.connectionError(H3_CLOSED_CRITICAL_STREAM, 'peer reset its control stream');
  }

  /** A partial frame (at most a header and a whole-delivered frame: FRAME_DECODER_MAX_BUFFERED). */
  get heldBytes(): number {
    return this.dec.bufferedBytes;
  }

  get holdLimitMs(): number {
    return PARTIAL_FRAME_TIMEOUT_MS;
  }

  /**
   * The control stream's partial frame stalled or the connection holds too much. The server-wide
   * cap is not applied to it: its bytes are bounded by the frame limits, one stream per connection,
   * and closing an honest connection because of others' load would be wrong.
   */
  overLimit(_id: number, limit: PeerBufferLimit): void {
    if (limit === 'server_cap') return;
    this.c.connectionError(H3_EXCESSIVE_LOAD, `control stream: partial frame over a limit (${LIMIT_LABEL[limit]})`, `control_frame_${LIMIT_LABEL[limit]}`);
  }

  private pump(): void {
    const c = this.c;
    for (;;) {
      if (c.isClosed) return;
      const ev = this.dec.next();
      if (ev.status === 'need-more') return;
      if (ev.status === 'error') {
        c.connectionError(ev.code, ev.detail);
        return;
      }
      if (ev.status === 'skipped') {
        if (!this.gotSettings) {
          c.connectionError(H3_MISSING_SETTINGS, 'first control frame is not SETTINGS');
          return;
        }
        c.counters.unknownFramesSkipped++;
        continue;
      }
      if (ev.status !== 'frame') {
        // DATA (or a WT signal) on the control stream: RFC 9114 §7.2.1.
        c.connectionError(this.gotSettings ? H3_FRAME_UNEXPECTED : H3_MISSING_SETTINGS, 'DATA on the control stream');
        return;
      }
      if (!this.gotSettings) {
        if (ev.type !== FRAME_SETTINGS) {
          c.connectionError(H3_MISSING_SETTINGS, 'first control frame is not SETTINGS');
          return;
        }
        const s = decodeSettings(ev.payload);
        if (s.status === 'error') {
          c.connectionError(s.code, s.detail);
          return;
        }
        this.gotSettings = true;
        this.control.settingsReceived(webTransportSupport(s.values));
        continue;
      }
      switch (ev.type) {
        case FRAME_SETTINGS:
          c.connectionError(H3_FRAME_UNEXPECTED, 'second SETTINGS frame');
          return;
        case FRAME_GOAWAY: {
          const g = decodeGoaway(ev.payload);
          if (g.status === 'error') {
            c.connectionError(g.code, g.detail);
            return;
          }
          // RFC 9114 §5.2: a server's GOAWAY names a client bidi stream id.
          if (c.role === 'client' && g.safe && g.id % 4 !== 0) {
            c.connectionError(H3_ID_ERROR, 'GOAWAY id is not a client bidi stream id');
            return;
          }
          this.control.goaway();
          continue;
        }
        case FRAME_MAX_PUSH_ID:
          if (c.role === 'client') {
            c.connectionError(H3_FRAME_UNEXPECTED, 'MAX_PUSH_ID from a server');
            return;
          }
          continue;
        case FRAME_CANCEL_PUSH:
          continue; // We never push; nothing to cancel.
        default:
          // HEADERS, PUSH_PROMISE on the control stream (RFC 9114 §7.2.2, §7.2.5).
          c.connectionError(H3_FRAME_UNEXPECTED, `frame 0x${ev.type.toString(16)} on the control stream`);
          return;
      }
    }
  }
}

/**
 * The peer's QPACK encoder or decoder stream (RFC 9204 §4.2): read and discarded, since our
 * dynamic table capacity is 0; closing or resetting it is a connection error.
 */
class QpackReader implements StreamReader {
  constructor(private readonly c: H3Context) {}

  data(_id: number, _data: Uint8Array, fin: boolean): void {
    if (fin) this.c.connectionError(H3_CLOSED_CRITICAL_STREAM, 'peer closed a QPACK stream');
  }

  reset(): void {
    this.c.connectionError(H3_CLOSED_CRITICAL_STREAM, 'peer reset a QPACK stream');
  }
}
