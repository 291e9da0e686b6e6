/** Small helpers for the h3 tests: an echo session, bounded polling, stream draining, test patterns. */
import type { WebTransportSession } from '../../../../server/h3/session.js';
import type { QuicConnectionHandler } from '../../../../server/h3/quic/quic-connection.js';
import { concatBytes } from '../../../../server/h3/wire/bytes.js';

/** Makes `s` echo: each datagram back as a datagram, each bidirectional stream back on itself. */
export function echo(s: WebTransportSession): void {
  s.onDatagram = (d) => s.sendDatagram(d);
  s.onBidiStream = (st) => {
    st.onData = (d) => st.write(d);
    st.onEnd = () => st.end();
  };
}

/**
 * Polls `fn` (sync or async) every `intervalMs` (10) ms until it returns a truthy value, which it returns.
 * Throws after `timeoutMs` so a broken expectation fails instead of hanging.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 10): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Reads a byte stream to its end (bounded by `limit` bytes). */
export async function readAllBytes(readable: ReadableStream<Uint8Array>, limit = 16 * 1024 * 1024): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  const reader = readable.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    parts.push(value);
    n += value.byteLength;
    if (n > limit) throw new Error('readAllBytes: over limit');
  }
  return concatBytes(parts);
}

/** Deterministic non-trivial bytes (so a reordering or a shared-buffer bug shows). */
export function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + (i >> 8)) & 0xff;
  return out;
}

/**
 * A read with a timeout that never loses data: when the timeout wins, the read stays pending and
 * is reused by the next call (a fresh read() each time would leave reads behind that swallow
 * later chunks). Resolves null on timeout.
 */
export function timedReader<T>(reader: ReadableStreamDefaultReader<T>): (ms: number) => Promise<ReadableStreamReadResult<T> | null> {
  let pending: Promise<ReadableStreamReadResult<T>> | null = null;
  return async (ms) => {
    if (!pending) pending = reader.read();
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([pending, new Promise<null>((res) => { timer = setTimeout(() => res(null), ms); })]);
    clearTimeout(timer);
    if (r !== null) pending = null;
    return r;
  };
}

/** A QUIC connection handler that ignores every event except those given in `overrides`. */
export function quicHandler(overrides: Partial<QuicConnectionHandler> = {}): QuicConnectionHandler {
  const none = () => undefined;
  return { onEstablished: none, onStreamData: none, onStreamReset: none, onStreamStopped: none, onStreamWritable: none, onDatagram: none, onClosed: none, ...overrides };
}
