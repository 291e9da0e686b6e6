/**
 * The attacks' clients: game sessions over WebSocket and WebTransport that send exactly the bytes
 * an attack chooses (good or bad) and record how the server answered, a raw WebSocket upgrade
 * for frames no library would send, and a raw QUIC + HTTP/3 connection for requests before
 * SETTINGS. Each sends from the local address it is given.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { decodeMessage, encodeMessage } from '../../../shared/codec.js';
import { encodeFrame } from '../../../shared/framing.js';
import { PROTOCOL_VERSION, messageSpecById } from '../../../shared/messages.js';
import { NodeWebTransport, QuicEndpoint } from '../../../server/h3/index.js';
import { buildClientConfig } from '../../../server/h3/quic/config.js';
import type { QuicConnection } from '../../../server/h3/quic/quic-connection.js';
import { encodeDataFrame, encodeHeadersFrame } from '../../../server/h3/wire/frames.js';
import { buildConnectRequestHeaders } from '../../../server/h3/wire/connect-request.js';
import { encodeFieldSection } from '../../../server/h3/wire/qpack/field-section.js';
import { readFrames } from '../../../tools/lib/read-frames.js';
import type { AttackContext } from './attack.js';

/** Longest an attack waits for a connection to open or a dev ticket to arrive. */
export const OPEN_TIMEOUT_MS = 10_000;

/** What a game session (either transport) has seen of the server. */
export interface GameSession {
  /** Names of the messages received, in order (bounded: MESSAGE_LOG_LIMIT). */
  readonly received: string[];
  /** The close code once closed (the `error` code when the transport hid it), else null. */
  readonly closeCode: number | null;
  readonly closed: Promise<number>;
  /** Sends raw bytes on the reliable channel (a WebSocket frame; a WebTransport stream write). */
  sendRaw(bytes: Uint8Array): void;
  hello(ticket: string, extra?: { resumeToken?: string }): void;
  /** Resolves true once a message named `name` arrived, false on close or after `ms`. */
  waitFor(name: string, ms: number): Promise<boolean>;
  close(): void;
}

/** Messages a session records; an attack session needs only the first few. */
const MESSAGE_LOG_LIMIT = 256;

class SessionLog {
  readonly received: string[] = [];
  closeCode: number | null = null;
  lastErrorCode: number | null = null;
  private waiters = new Set<() => void>();
  readonly closed: Promise<number>;
  private resolveClosed!: (code: number) => void;

  constructor() {
    this.closed = new Promise((r) => { this.resolveClosed = r; });
  }

  message(bytes: Uint8Array): void {
    const channel = messageSpecById(bytes[0] ?? 0)?.channel ?? 'reliable';
    const r = decodeMessage(bytes, { channel, direction: 's2c' });
    const name = r.ok ? r.name : 'invalid';
    if (r.ok && r.name === 'error') this.lastErrorCode = (r.body as { code: number }).code;
    if (this.received.length < MESSAGE_LOG_LIMIT) this.received.push(name);
    this.wake();
  }

  close(code: number): void {
    if (this.closeCode !== null) return;
    this.closeCode = code === 0 || code === 1006 ? (this.lastErrorCode ?? code) : code;
    this.resolveClosed(this.closeCode);
    this.wake();
  }

  waitFor(name: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.received.includes(name)) finish(true);
        else if (this.closeCode !== null) finish(false);
      };
      const timer = setTimeout(() => finish(false), ms);
      const finish = (v: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(v);
      };
      this.waiters.add(check);
      check();
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

function helloBytes(ticket: string, extra: { resumeToken?: string } = {}): Uint8Array {
  return encodeMessage('hello', { v: PROTOCOL_VERSION, ticket, ...extra });
}

/** A game session over a `ws` WebSocket from `source`; resolves once the socket is open. */
export async function wsSession(ctx: AttackContext, source: string): Promise<GameSession & { ws: WebSocket }> {
  const log = new SessionLog();
  const ws = new WebSocket(`${ctx.httpUrl.replace(/^http/, 'ws')}/ws`, { localAddress: source, origin: ctx.origin, handshakeTimeout: OPEN_TIMEOUT_MS });
  ws.binaryType = 'nodebuffer';
  ws.on('message', (d: Buffer) => log.message(new Uint8Array(d)));
  ws.on('close', (code) => log.close(code));
  ws.on('error', () => log.close(1006));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  return {
    ws,
    get received() { return log.received; },
    get closeCode() { return log.closeCode; },
    closed: log.closed,
    sendRaw: (bytes) => { if (ws.readyState === WebSocket.OPEN) ws.send(bytes); },
    hello: (ticket, extra) => { if (ws.readyState === WebSocket.OPEN) ws.send(helloBytes(ticket, extra)); },
    waitFor: (name, ms) => log.waitFor(name, ms),
    close: () => ws.terminate(),
  };
}

/**
 * A game session over WebTransport from `endpoint` (bound to the attack's source): the session,
 * its reliable stream (opened at once) and the server's frames on it decoded.
 */
export async function wtSession(ctx: AttackContext, endpoint: QuicEndpoint): Promise<GameSession & { wt: NodeWebTransport; write(bytes: Uint8Array): Promise<void> }> {
  const log = new SessionLog();
  const wt = new NodeWebTransport(ctx.wtUrl, {
    serverCertificateHashes: [{ algorithm: 'sha-256', value: ctx.certSha256 }],
    origin: ctx.origin,
    endpoint,
    connectTimeoutMs: OPEN_TIMEOUT_MS,
  });
  void wt.closed.then((i) => log.close(i.closeCode), () => log.close(0));
  await wt.ready;
  const bidi = await wt.createBidirectionalStream();
  const writer = bidi.writable.getWriter();
  writer.closed.catch(() => undefined);
  void readFrames(bidi.readable, (f) => log.message(f));
  const write = (bytes: Uint8Array) => writer.write(bytes).catch(() => undefined);
  return {
    wt,
    write,
    get received() { return log.received; },
    get closeCode() { return log.closeCode; },
    closed: log.closed,
    sendRaw: (bytes) => void write(bytes),
    hello: (ticket, extra) => void write(encodeFrame(helloBytes(ticket, extra))),
    waitFor: (name, ms) => log.waitFor(name, ms),
    close: () => { try { wt.close({ closeCode: 0 }); } catch { /* closed already */ } },
  };
}

/**
 * A TCP connection from `source` upgraded to a WebSocket by hand (RFC 6455 §4.1), for frames the
 * `ws` library would never send (a header announcing bytes that never come). Resolves after the
 * server's 101; rejects on any other answer.
 */
export function rawWebSocket(ctx: AttackContext, source: string): Promise<Socket> {
  const u = new URL(ctx.httpUrl);
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: u.hostname, port: Number(u.port), localAddress: source });
    socket.setTimeout(OPEN_TIMEOUT_MS, () => socket.destroy(new Error('upgrade timed out')));
    socket.once('error', reject);
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.setTimeout(0);
      if (!/^HTTP\/1\.1 101/.test(head)) {
        socket.destroy();
        reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        return;
      }
      resolve(socket);
    };
    socket.on('data', onData);
    socket.once('connect', () => {
      socket.write([
        'GET /ws HTTP/1.1', `Host: ${u.host}`, 'Upgrade: websocket', 'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13', `Origin: ${ctx.origin}`, '', '',
      ].join('\r\n'));
    });
  });
}

/**
 * A masked client frame header (RFC 6455 §5.2) announcing `length` payload bytes with `opcode`
 * (2 = binary), FIN set; the masking key is all zeros, so payload bytes go as they are.
 */
export function wsFrameHeader(length: number, opcode = 2): Buffer {
  const mask = Buffer.alloc(4);
  if (length < 126) return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | length]), mask]);
  if (length < 65_536) {
    const h = Buffer.alloc(4);
    h[0] = 0x80 | opcode;
    h[1] = 0x80 | 126;
    h.writeUInt16BE(length, 2);
    return Buffer.concat([h, mask]);
  }
  const h = Buffer.alloc(10);
  h[0] = 0x80 | opcode;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  return Buffer.concat([h, mask]);
}

/** A raw QUIC connection (quiche client role) whose HTTP/3 bytes the attack writes itself. */
export class RawQuic {
  /** Stream ids the server reset, with the HTTP/3 code. */
  readonly resets = new Map<number, number>();
  closed = false;
  private constructor(readonly endpoint: QuicEndpoint, readonly quic: QuicConnection, private readonly ownsEndpoint: boolean) {}

  /** Handshake only; no HTTP/3 byte is sent. Rejects when it does not complete in OPEN_TIMEOUT_MS. */
  static async connect(ctx: AttackContext, endpoint: QuicEndpoint | null, source: string): Promise<RawQuic> {
    const ep = endpoint ?? await QuicEndpoint.bind({ host: source, port: 0 });
    const quic = ep.connect({ host: ctx.wtHost, port: ctx.wtPort }, buildClientConfig({ alpn: ['h3'], skipCaVerification: true }));
    const c = new RawQuic(ep, quic, endpoint === null);
    let established = false;
    quic.handler = {
      onEstablished: () => { established = true; },
      onStreamData: () => undefined,
      onStreamReset: (id, code) => { c.resets.set(id, code); },
      onStreamStopped: () => undefined,
      onStreamWritable: () => undefined,
      onDatagram: () => undefined,
      onClosed: () => { c.closed = true; },
    };
    const deadline = Date.now() + OPEN_TIMEOUT_MS;
    while (!established && !c.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (!established) {
      await c.close();
      throw new Error('QUIC handshake did not complete');
    }
    return c;
  }

  /** A WebTransport CONNECT on a new request stream (before any SETTINGS of ours: it is parked). */
  connectRequest(ctx: AttackContext): number {
    const id = this.quic.openStream(true);
    const headers = buildConnectRequestHeaders({ authority: `${ctx.wtHost}:${ctx.wtPort}`, path: '/wt', origin: ctx.origin });
    this.quic.write(id, encodeHeadersFrame(encodeFieldSection(headers)));
    return id;
  }

  /** A DATA frame of `bytes` on stream `id`. */
  data(id: number, bytes: Uint8Array): void {
    if (!this.closed) this.quic.write(id, encodeDataFrame(bytes));
  }

  async close(): Promise<void> {
    if (!this.closed) {
      try {
        this.quic.close(true, 0x100, '');
      } catch {
        // Closed already.
      }
    }
    // Let the CONNECTION_CLOSE leave before the socket goes.
    await new Promise((r) => setTimeout(r, 20));
    if (this.ownsEndpoint) await this.endpoint.close().catch(() => undefined);
  }
}
