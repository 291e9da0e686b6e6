/**
 * The structural subset of the browser APIs client/net uses. The browser's own classes satisfy
 * them; in Node the caller injects `ws`'s WebSocket and server/h3's `NodeWebTransport` (client/
 * must not import them: it runs in the browser too).
 */

export type TransportKind = 'webtransport' | 'websocket';

/** W3C WebTransport `WebTransportHash` (only sha-256 is defined). */
export interface CertificateHash {
  algorithm: 'sha-256';
  value: Uint8Array;
}

export interface WebTransportOptionsLike {
  serverCertificateHashes?: CertificateHash[];
}

export interface WebTransportCloseInfoLike {
  closeCode?: number;
  reason?: string;
}

export interface WebTransportBidiStreamLike {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

export interface WebTransportDatagramsLike {
  readable: ReadableStream<Uint8Array>;
  /** Older drafts of the W3C API; newer browsers offer `createWritable()` instead or as well. */
  writable?: WritableStream<Uint8Array>;
  createWritable?: () => WritableStream<Uint8Array>;
  readonly maxDatagramSize?: number;
}

export interface WebTransportLike {
  readonly ready: Promise<unknown>;
  readonly closed: Promise<WebTransportCloseInfoLike | undefined | void>;
  readonly draining?: Promise<unknown>;
  readonly datagrams: WebTransportDatagramsLike;
  createBidirectionalStream(): Promise<WebTransportBidiStreamLike>;
  close(info?: WebTransportCloseInfoLike): void;
}

export type WebTransportConstructor = new (url: string, options?: WebTransportOptionsLike) => WebTransportLike;

/** What a WebSocket message/close/error event must carry for us. */
export interface WebSocketEventLike {
  data?: unknown;
  code?: number;
  reason?: string;
}

export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  // The listener takes `unknown` so both the DOM WebSocket and `ws` (whose event types differ)
  // are assignable; the channel reads the fields of WebSocketEventLike defensively.
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: unknown) => void): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** The subset of `fetch` used for connect-info (and the bots' dev tickets). */
export type FetchLike = (
  url: string,
  init?: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/** Timers, injectable so unit tests can step time. Same shapes as the globals. */
export interface TimerApi {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const defaultTimers: TimerApi = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof globalThis.setTimeout>),
  setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
  clearInterval: (h) => globalThis.clearInterval(h as ReturnType<typeof globalThis.setInterval>),
};
