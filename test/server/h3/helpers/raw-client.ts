/**
 * A raw QUIC client for protocol tests: a real quiche connection in the client role whose
 * HTTP/3 bytes the test writes itself (valid or not), recording everything the server does:
 * stream data, FINs, resets, STOP_SENDING, datagrams, and how the connection closed.
 */
import { QuicEndpoint } from '../../../../server/h3/quic/endpoint.js';
import { buildClientConfig } from '../../../../server/h3/quic/config.js';
import type { QuicCloseInfo, QuicConnection } from '../../../../server/h3/quic/quic-connection.js';
import { FrameDecoder, encodeHeadersFrame, encodeDataFrame } from '../../../../server/h3/wire/frames.js';
import { CLIENT_SETTINGS, encodeSettingsFrame } from '../../../../server/h3/wire/settings.js';
import { decodeFieldSection, encodeFieldSection, type HeaderField } from '../../../../server/h3/wire/qpack/field-section.js';
import { buildConnectRequestHeaders } from '../../../../server/h3/wire/connect-request.js';
import { waitFor } from './util.js';

export interface StreamRecord {
  chunks: Uint8Array[];
  fin: boolean;
  reset: number | null;
  /** STOP_SENDING code; -1 when reported with an unknown code (quiche collected the stream). */
  stopped: number | null;
  /** Number of the UDP packet (counted from 1) in which the FIN arrived; 0 before. */
  finPacket: number;
  /** Number of the UDP packet in which the RESET_STREAM arrived; 0 before. */
  resetPacket: number;
}

export type RequestOutcome =
  | { kind: 'status'; status: number }
  | { kind: 'reset'; code: number }
  | { kind: 'closed'; code: number; isApp: boolean };

export class RawClient {
  readonly streams = new Map<number, StreamRecord>();
  readonly datagrams: Uint8Array[] = [];
  closeInfo: QuicCloseInfo | null = null;
  established = false;
  /** UDP packets fed to the client's quiche so far (so tests can tell what arrived together). */
  packetsIn = 0;

  private constructor(readonly endpoint: QuicEndpoint, readonly quic: QuicConnection) {}

  /** Connects (QUIC handshake only; no HTTP/3 byte sent yet). */
  static async connect(port: number): Promise<RawClient> {
    const endpoint = await QuicEndpoint.bind({ host: '127.0.0.1', port: 0 });
    const quic = endpoint.connect({ host: '127.0.0.1', port }, buildClientConfig({ alpn: ['h3'], skipCaVerification: true }));
    const c = new RawClient(endpoint, quic);
    const receive = quic.receive.bind(quic);
    quic.receive = (packet, host, port) => {
      c.packetsIn++;
      receive(packet, host, port);
    };
    const rec = (id: number): StreamRecord => {
      let r = c.streams.get(id);
      if (!r) {
        r = { chunks: [], fin: false, reset: null, stopped: null, finPacket: 0, resetPacket: 0 };
        c.streams.set(id, r);
      }
      return r;
    };
    quic.handler = {
      onEstablished: () => {
        c.established = true;
      },
      onStreamData: (id, data, fin) => {
        const r = rec(id);
        if (data.byteLength) r.chunks.push(data);
        if (fin && !r.fin) {
          r.fin = true;
          r.finPacket = c.packetsIn;
        }
      },
      onStreamReset: (id, code) => {
        const r = rec(id);
        r.reset = code;
        r.resetPacket = c.packetsIn;
      },
      onStreamStopped: (id, code) => {
        rec(id).stopped = code ?? -1;
      },
      onStreamWritable: () => undefined,
      onDatagram: (d) => {
        c.datagrams.push(d);
      },
      onClosed: (info) => {
        c.closeInfo = info;
      },
    };
    await waitFor(() => c.established || c.closeInfo !== null, 15_000);
    if (!c.established) throw new Error('raw client: handshake failed');
    return c;
  }

  get alive(): boolean {
    return this.closeInfo === null;
  }

  /** Opens our control stream: type 0x00 then `body` (default: our SETTINGS frame). */
  openControl(body: Uint8Array = encodeSettingsFrame(CLIENT_SETTINGS)): number {
    const id = this.quic.openStream(false);
    const out = new Uint8Array(1 + body.length);
    out[0] = 0x00;
    out.set(body, 1);
    this.quic.write(id, out);
    return id;
  }

  /** Opens a request stream carrying `bytes` (e.g. a HEADERS frame), optionally with FIN. */
  sendOnNewBidi(bytes: Uint8Array, fin = false): number {
    const id = this.quic.openStream(true);
    this.quic.write(id, bytes, fin);
    return id;
  }

  /** Sends a HEADERS frame with the given header list on a new request stream. */
  request(headers: HeaderField[]): number {
    return this.sendOnNewBidi(encodeHeadersFrame(encodeFieldSection(headers)));
  }

  /** A WebTransport CONNECT for `path` on a new request stream. */
  connectRequest(port: number, path = '/wt'): number {
    return this.request(buildConnectRequestHeaders({ authority: `127.0.0.1:${port}`, path }));
  }

  /** Waits until the request on `id` got a response status, a reset, or the connection closed. */
  async outcome(id: number, timeoutMs = 15_000): Promise<RequestOutcome> {
    return waitFor(() => {
      if (this.closeInfo) return { kind: 'closed', code: this.closeInfo.code, isApp: this.closeInfo.isApp } as const;
      const r = this.streams.get(id);
      if (!r) return null;
      if (r.reset !== null) return { kind: 'reset', code: r.reset } as const;
      const status = responseStatus(r.chunks);
      if (status !== null) return { kind: 'status', status } as const;
      return null;
    }, timeoutMs, 1);
  }

  /** Writes a DATA frame carrying `payload` (capsule bytes) on the CONNECT stream `id`. */
  sendCapsuleBytes(id: number, payload: Uint8Array): void {
    this.quic.write(id, encodeDataFrame(payload));
  }

  async close(): Promise<void> {
    this.quic.close(true, 0x100, '');
    await this.endpoint.close();
  }
}

/** The :status of the first HEADERS frame in `chunks`, or null when not (yet) there. */
export function responseStatus(chunks: Uint8Array[]): number | null {
  const dec = new FrameDecoder();
  for (const c of chunks) dec.push(c);
  for (;;) {
    const ev = dec.next();
    if (ev.status !== 'frame' && ev.status !== 'skipped') return null;
    if (ev.status === 'frame' && ev.type === 0x01) {
      const fs = decodeFieldSection(ev.payload);
      if (fs.status !== 'ok') return null;
      const s = fs.headers.find(([n]) => n === ':status');
      return s ? Number(s[1]) : null;
    }
  }
}
