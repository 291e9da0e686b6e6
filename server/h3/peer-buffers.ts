/**
 * Every byte a peer can make the HTTP/3 layer hold, accounted in one place: the partial frames of
 * the frame and capsule decoders, parked requests, WebTransport streams buffered until their
 * session exists, a unidirectional stream's partial type. Each stream's reader reports what it
 * holds (`StreamReader.heldBytes`) and for how long it may hold it (`holdLimitMs`); the
 * connection's `StreamTable` keeps the books whenever a reader is set, replaced or fed, and
 * enforces four limits (h3-limits.ts):
 * - the reader's own cap (`holdCap`, e.g. MAX_PARKED_REQUEST_BYTES),
 * - MAX_PEER_BYTES_PER_CONNECTION over the streams of one connection,
 * - MAX_PEER_BYTES_TOTAL over every connection sharing a `PeerBufferBudget` (one server),
 * - the reader's own time limit, counted from when it started holding bytes.
 * A reader past a limit refuses its stream with the code its spec names (`overLimit`). Memory so
 * grows with what was delivered and is bounded by the total, never by what a peer announces.
 */
import { MAX_PEER_BYTES_PER_CONNECTION, MAX_PEER_BYTES_TOTAL } from './h3-limits.js';
import type { H3Scheduler, H3Timer } from './h3-transport.js';
import type { StreamReader } from './h3-context.js';

/**
 * Which limit a reader passed: its own cap (`holdCap`), the connection's, the server's, or its
 * time (`holdLimitMs`).
 */
export type PeerBufferLimit = 'stream_cap' | 'connection_cap' | 'server_cap' | 'time';

/** The limit as it reads in a counter label (`<what>_<limit>`, e.g. parked_request_timeout). */
export const LIMIT_LABEL: Readonly<Record<PeerBufferLimit, string>> = {
  stream_cap: 'too_large', connection_cap: 'connection_cap', server_cap: 'server_cap', time: 'timeout',
};

/** Peer bytes held by the HTTP/3 layer of every connection of one server (or client endpoint). */
export class PeerBufferBudget {
  /** Bytes held now. */
  held = 0;
  /** Most bytes held at once since creation. */
  peak = 0;

  constructor(readonly limit = MAX_PEER_BYTES_TOTAL) {}
}

interface Holding {
  bytes: number;
  /** When this stream started holding bytes (scheduler time). */
  since: number;
}

/**
 * The readers of one connection's streams, by stream id, with the books of what they hold. Use
 * it like a Map; after feeding a reader call `account(id)`, which returns the limit it passed.
 */
export class StreamTable {
  private readonly readers = new Map<number, StreamReader>();
  private readonly holdings = new Map<number, Holding>();
  private held = 0;
  private timer: H3Timer | null = null;
  private timerAt = Infinity;

  constructor(
    private readonly budget: PeerBufferBudget,
    private readonly scheduler: H3Scheduler,
    /** Called when a reader's time limit passed (from a timer: the caller guards it). */
    private readonly onExpired: (id: number, reader: StreamReader) => void,
    private readonly perConnectionLimit = MAX_PEER_BYTES_PER_CONNECTION,
  ) {}

  /** Peer bytes this connection's readers hold now. */
  get heldBytes(): number {
    return this.held;
  }

  get size(): number {
    return this.readers.size;
  }

  get(id: number): StreamReader | undefined {
    return this.readers.get(id);
  }

  set(id: number, reader: StreamReader): this {
    this.readers.set(id, reader);
    this.book(id, reader);
    return this;
  }

  delete(id: number): boolean {
    this.book(id, null);
    return this.readers.delete(id);
  }

  values(): IterableIterator<StreamReader> {
    return this.readers.values();
  }

  [Symbol.iterator](): IterableIterator<[number, StreamReader]> {
    return this.readers.entries();
  }

  /** Forgets every reader and releases what they held (the connection ended). */
  clear(): void {
    for (const h of this.holdings.values()) this.budget.held -= h.bytes;
    this.holdings.clear();
    this.held = 0;
    this.readers.clear();
    this.disarm();
  }

  /**
   * Re-reads what stream `id`'s reader holds after it was fed. Returns the limit the connection
   * or the server is past, or null; the caller refuses that stream (`reader.overLimit`).
   */
  account(id: number): PeerBufferLimit | null {
    const before = this.holdings.get(id)?.bytes ?? 0;
    const r = this.readers.get(id);
    this.book(id, r ?? null);
    const after = this.holdings.get(id)?.bytes ?? 0;
    if (after <= before) return null;
    if (r?.holdCap !== undefined && after > r.holdCap) return 'stream_cap';
    if (this.held > this.perConnectionLimit) return 'connection_cap';
    if (this.budget.held > this.budget.limit) return 'server_cap';
    return null;
  }

  private book(id: number, reader: StreamReader | null): void {
    const bytes = reader?.heldBytes ?? 0;
    const h = this.holdings.get(id);
    if (bytes === 0) {
      if (!h) return;
      this.holdings.delete(id);
      this.held -= h.bytes;
      this.budget.held -= h.bytes;
      return;
    }
    const delta = bytes - (h?.bytes ?? 0);
    if (h) h.bytes = bytes;
    else this.holdings.set(id, { bytes, since: this.scheduler.now() });
    this.held += delta;
    this.budget.held += delta;
    if (this.budget.held > this.budget.peak) this.budget.peak = this.budget.held;
    // Also for a holder already booked: its reader (and so its time limit) may have changed.
    this.arm();
  }

  /** Arms the one timer at the earliest deadline of the streams holding bytes. */
  private arm(): void {
    let at = Infinity;
    for (const [id, h] of this.holdings) {
      const limit = this.readers.get(id)?.holdLimitMs;
      if (limit !== undefined) at = Math.min(at, h.since + limit);
    }
    if (at >= this.timerAt) return;
    this.disarm();
    if (at === Infinity) return;
    this.timerAt = at;
    this.timer = this.scheduler.after(at - this.scheduler.now(), () => {
      this.timer = null;
      this.timerAt = Infinity;
      this.expire();
    });
  }

  private disarm(): void {
    this.timer?.cancel();
    this.timer = null;
    this.timerAt = Infinity;
  }

  private expire(): void {
    const now = this.scheduler.now();
    for (const [id, h] of [...this.holdings]) {
      const r = this.readers.get(id);
      const limit = r?.holdLimitMs;
      if (!r || limit === undefined || h.since + limit > now) continue;
      this.onExpired(id, r);
      // A reader that did not give its bytes up is not asked again for the same period.
      const still = this.holdings.get(id);
      if (still === h) h.since = now;
    }
    this.arm();
  }
}
