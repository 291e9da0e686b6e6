/**
 * Our WebTransportServer (server/h3) on 127.0.0.1 with the dev certificate, whose sessions echo
 * datagrams and answer each reliable frame with its bytes reversed, one byte per stream write
 * (so the client must reassemble frames across chunks). For WebTransportChannel tests from Node
 * and from real browsers.
 */
import { createDevCertificate, type DevCertificate } from '../../../../certs/dev-cert.js';
import { WebTransportServer } from '../../../../server/h3/server.js';
import type { RetryMode } from '../../../../server/h3/quic/admission.js';
import type { SessionCloseInfo, WebTransportSession, WebTransportStream } from '../../../../server/h3/session.js';
import { encodeFrame, FrameDecoder } from '../../../../shared/framing.js';

export interface EchoServer {
  server: WebTransportServer;
  port: number;
  url: string;
  cert: DevCertificate;
  sessions: WebTransportSession[];
  streams: WebTransportStream[];
  closes: SessionCloseInfo[];
  stop(): Promise<void>;
}

let cert: DevCertificate | null = null;

/** `retry`: the server's Retry mode (default: the server's default, 'under-load'). */
export async function startEchoServer(options: { retry?: RetryMode } = {}): Promise<EchoServer> {
  cert ??= createDevCertificate();
  const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'], retry: options.retry });
  const side: EchoServer = {
    server, port: 0, url: '', cert, sessions: [], streams: [], closes: [],
    stop: () => server.close(),
  };
  server.onSession = (s) => {
    side.sessions.push(s);
    s.onClose = (info) => side.closes.push(info);
    s.onDatagram = (d) => s.sendDatagram(d);
    s.onBidiStream = (st) => {
      side.streams.push(st);
      const dec = new FrameDecoder();
      st.onData = (chunk) => {
        for (const f of dec.push(chunk).frames) {
          const frame = encodeFrame(f.slice().reverse());
          for (const b of frame) st.write(new Uint8Array([b]));
        }
      };
    };
  };
  side.port = (await server.listen()).port;
  side.url = `https://127.0.0.1:${side.port}/wt`;
  return side;
}
