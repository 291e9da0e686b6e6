/**
 * Wire byte counters for the observer process (it holds exactly one game connection, so every
 * UDP or WebSocket byte it moves during the window is that connection's):
 * - UDP: payload bytes of every datagram received and sent by any `node:dgram` socket of this
 *   process (QUIC packets: headers, encryption, acks, everything above UDP).
 * - TCP: `bytesRead` / `bytesWritten` of the WebSocket's socket (frames, masks, pings; the
 *   HTTP upgrade happened before the window).
 * Measurement only: the counting wrappers pass every call through unchanged.
 */
import dgram from 'node:dgram';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { WebSocketConstructor } from '../../client/net/transport-types.js';

export interface WireTotals {
  udpIn: number;
  udpOut: number;
  tcpIn: number;
  tcpOut: number;
}

let udpIn = 0;
let udpOut = 0;
let installed = false;
const sockets = new Set<WebSocket>();

function byteLength(msg: unknown): number {
  if (typeof msg === 'string') return Buffer.byteLength(msg);
  if (ArrayBuffer.isView(msg)) return msg.byteLength;
  if (Array.isArray(msg)) return msg.reduce((s: number, m: unknown) => s + byteLength(m), 0);
  return 0;
}

/** Counts UDP payload bytes of all dgram sockets of this process from now on. Idempotent. */
export function installUdpCounters(): void {
  if (installed) return;
  installed = true;
  const proto = dgram.Socket.prototype as unknown as {
    emit: (event: string | symbol, ...args: unknown[]) => boolean;
    send: (...args: unknown[]) => void;
  };
  const emit = proto.emit;
  proto.emit = function (this: unknown, event: string | symbol, ...args: unknown[]) {
    if (event === 'message') udpIn += byteLength(args[0]);
    return emit.call(this, event, ...args);
  };
  const send = proto.send;
  proto.send = function (this: unknown, ...args: unknown[]) {
    // send(msg, offset, length, port[, address][, cb]) or send(msg[, port][, address][, cb]).
    udpOut += typeof args[1] === 'number' && typeof args[2] === 'number' ? (args[2] as number) : byteLength(args[0]);
    return send.apply(this, args);
  };
}

/** A `ws` WebSocket that remembers its instances so their socket byte counts can be read. */
export const CountingWebSocket: WebSocketConstructor = class extends WebSocket {
  constructor(url: string) {
    super(url);
    sockets.add(this);
    this.once('close', () => sockets.delete(this));
  }
} as unknown as WebSocketConstructor;

export function wireTotals(): WireTotals {
  let tcpIn = 0;
  let tcpOut = 0;
  for (const ws of sockets) {
    const s = (ws as unknown as { _socket?: Socket | null })._socket;
    if (s) {
      tcpIn += s.bytesRead;
      tcpOut += s.bytesWritten;
    }
  }
  return { udpIn, udpOut, tcpIn, tcpOut };
}
