/**
 * Adapters from `WebTransportStream` (callback style) to the WHATWG streams the W3C WebTransport
 * API hands out, with the W3C error conventions (WebTransportError with `streamErrorCode`).
 */
import type { WebTransportStream } from '../session.js';

/** Bytes a readable side may hold unread before we stop the peer (STOP_SENDING) and error it. */
export const STREAM_READ_BUFFER_LIMIT_BYTES = 4 * 1024 * 1024;

/** Largest piece handed to `WebTransportStream.write` at once (well under its queue limit). */
const WRITE_PIECE_BYTES = 64 * 1024;

/** Mirrors the W3C `WebTransportError` (source + streamErrorCode). */
export class WebTransportError extends Error {
  constructor(
    message: string,
    readonly source: 'stream' | 'session',
    readonly streamErrorCode: number | null = null,
  ) {
    super(message);
    this.name = 'WebTransportError';
  }
}

function codeOf(reason: unknown): number {
  if (reason instanceof WebTransportError && reason.streamErrorCode !== null) return reason.streamErrorCode;
  const c = (reason as { streamErrorCode?: unknown } | null)?.streamErrorCode;
  return typeof c === 'number' && Number.isInteger(c) && c >= 0 && c <= 0xffffffff ? c : 0;
}

/** The receive side of `stream` as a ReadableStream. */
export function toReadable(stream: WebTransportStream): ReadableStream<Uint8Array> {
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | null = null;
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controllerRef = controller;
      stream.onData = (data) => {
        if (done) return;
        controller.enqueue(data);
        if ((controller.desiredSize ?? 0) < -STREAM_READ_BUFFER_LIMIT_BYTES) {
          // A reader that does not keep up must not grow memory without bound.
          done = true;
          stream.stopSending(0);
          controller.error(new WebTransportError('read buffer limit exceeded', 'stream', null));
        }
      };
      stream.onEnd = () => {
        if (done) return;
        done = true;
        controller.close();
      };
      stream.onReset = (code) => {
        if (done) return;
        done = true;
        controller.error(new WebTransportError(`stream reset by peer (code ${code})`, 'stream', code));
      };
      stream.onSessionClosed = () => {
        if (done) return;
        done = true;
        controller.error(new WebTransportError('session closed', 'session', null));
      };
      if (!stream.readable) {
        // The session already ended before anyone read.
        done = true;
        controller.error(new WebTransportError('stream closed', 'stream', null));
      }
    },
    cancel(reason) {
      if (done) return;
      done = true;
      stream.stopSending(codeOf(reason));
      void controllerRef;
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }));
}

/** The send side of `stream` as a WritableStream with backpressure from the stream's queue. */
export function toWritable(stream: WebTransportStream): WritableStream<Uint8Array> {
  let waiting: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  let failure: WebTransportError | null = null;
  let ctrl: WritableStreamDefaultController | null = null;
  stream.onWritable = () => {
    const w = waiting;
    waiting = null;
    w?.resolve();
  };
  stream.onStopSending = (code) => {
    failure = new WebTransportError(`peer stopped the stream (code ${code})`, 'stream', code);
    const w = waiting;
    waiting = null;
    w?.reject(failure);
    ctrl?.error(failure);
  };
  const prevSessionClosed = stream.onSessionClosed;
  stream.onSessionClosed = () => {
    prevSessionClosed?.();
    failure = new WebTransportError('session closed', 'session', null);
    const w = waiting;
    waiting = null;
    w?.reject(failure);
    ctrl?.error(failure);
  };
  return new WritableStream<Uint8Array>({
    start(controller) {
      ctrl = controller;
    },
    async write(chunk) {
      // Pieces well under the queue limit, so one huge chunk cannot wait forever for room.
      for (let off = 0; off < chunk.byteLength || off === 0; off += WRITE_PIECE_BYTES) {
        const piece = chunk.subarray(off, off + WRITE_PIECE_BYTES);
        for (;;) {
          if (failure) throw failure;
          if (!stream.writable || stream.session.isClosed) throw new WebTransportError('stream is closed', 'stream', null);
          if (stream.write(piece)) break;
          await new Promise<void>((resolve, reject) => {
            waiting = { resolve, reject };
          });
        }
        if (chunk.byteLength === 0) break;
      }
    },
    close() {
      stream.end();
    },
    abort(reason) {
      stream.reset(codeOf(reason));
    },
  });
}
