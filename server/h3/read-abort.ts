/**
 * Aborting the reading of a stream the peer sends on (RFC 9000 §3.5, RFC 9114 §4.1.1, §6.2),
 * in a way that returns the peer's stream credit.
 *
 * STOP_SENDING goes through quiche's `stream_shutdown(Read)`, which in quiche 0.18 (the version
 * in our binding) puts the stream in a draining state where it never again becomes readable.
 * quiche frees a stream, and so raises the peer's MAX_STREAMS (RFC 9000 §4.6), only when the
 * application reads its end (`stream_recv` returning FIN or RESET_STREAM) or, for streams we
 * also send on, when our side is acknowledged. A peer unidirectional stream we stopped before
 * reading its FIN is therefore never freed: each one costs the peer a stream credit for good,
 * and after about a hundred the connection could not open another (issue 10).
 *
 * So a peer unidirectional stream is not stopped at once: its bytes are read and discarded for
 * UNI_STREAM_STOP_GRACE_MS; if it ends in that time (FIN, or RESET_STREAM, e.g. the peer
 * abandoning it) quiche frees it and the credit returns. Only a stream still open after the grace
 * gets STOP_SENDING (counted in `uniStreamsStoppedLate`). Bidirectional streams are stopped at
 * once: quiche frees them when our own send side completes.
 */
import { UNI_STREAM_STOP_GRACE_MS } from './h3-limits.js';
import { isBidiStream, isPeerInitiatedStream } from './wire/stream-id.js';
import { DONE, type H3Context, type StreamReader } from './h3-context.js';
import type { H3Timer } from './h3-transport.js';

/** Stops reading stream `id` with HTTP/3 code `code` (see above); the stream's reader is replaced. */
export function abortReading(c: H3Context, id: number, code: number): void {
  if (isBidiStream(id) || !isPeerInitiatedStream(id, c.role)) {
    c.transport.stopSending(id, code);
    c.readers.set(id, DONE);
    return;
  }
  c.readers.set(id, new DiscardingReader(c, id, code));
}

/** True for the reader of a stream we stopped reading but whose end quiche must still deliver. */
export function isDiscarding(reader: StreamReader | undefined): boolean {
  return reader instanceof DiscardingReader;
}

/** A peer unidirectional stream we no longer read: bytes are dropped until it ends or the grace passes. */
class DiscardingReader implements StreamReader {
  private readonly timer: H3Timer;

  constructor(private readonly c: H3Context, id: number, code: number) {
    this.timer = c.scheduler.after(UNI_STREAM_STOP_GRACE_MS, () => c.guard(() => {
      if (c.readers.get(id) !== this) return;
      c.counters.uniStreamsStoppedLate++;
      c.transport.stopSending(id, code);
      c.readers.set(id, DONE);
    }));
  }

  data(id: number, _bytes: Uint8Array, fin: boolean): void {
    if (!fin) return;
    // quiche freed the stream when it handed us the FIN.
    this.timer.cancel();
    this.c.readers.set(id, DONE);
  }

  reset(): void {
    // quiche freed the stream when it reported the reset.
    this.timer.cancel();
  }

  connectionClosed(): void {
    this.timer.cancel();
  }
}
