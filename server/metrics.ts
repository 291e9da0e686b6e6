import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one game server, on a Registry of its own (no module globals: two
 * servers in one process, as in tests, never share or clash on metrics).
 *
 * Hot-path figures (the traffic counters, per message; the tick and snapshot durations, up to
 * 120 a second per room) are counted here in plain fixed-size arrays and handed to prom-client
 * by the metric's collect(), which runs whenever it is read (scrape, `get()`): a prom-client
 * inc() or observe() costs far more than adding to a number.
 */
export class GameMetrics {
  readonly registry = new Registry();
  /** Live sessions (active connections) by transport. */
  readonly sessions: Gauge<'transport'>;
  /** Sessions inside the resume window without a connection. */
  readonly suspendedSessions: Gauge;
  /** Wall time of one simulation step; observe with `observeTick()` (read-only here). */
  readonly tickDuration: Pick<Histogram, 'get'>;
  /** Wall time of building and sending one room's snapshots to all its members; observe with `observeSnapshot()`. */
  readonly snapshotDuration: Pick<Histogram, 'get'>;
  private readonly tickTally = new HistogramTally(TICK_DURATION_BUCKETS);
  private readonly snapshotTally = new HistogramTally(SNAPSHOT_DURATION_BUCKETS);
  readonly tickSkipped: Counter;
  /** Application payload bytes by channel and direction. */
  readonly bytes: Counter<'channel' | 'direction'>;
  readonly messages: Counter<'channel' | 'direction'>;
  /** Messages dropped (not acted on) by reason, e.g. `stale`, `rate_limited`, `queue_full`. */
  readonly dropped: Counter<'reason'>;
  /** Messages that failed validation, by drop reason (`decode`, `too_large`, `invalid_field`...). */
  readonly invalid: Counter<'reason'>;
  /** Sessions closed by us, by game close code name. */
  readonly closes: Counter<'code'>;
  readonly hookErrors: Counter<'hook'>;
  readonly rooms: Gauge;
  /**
   * Traffic counted but not yet added to `bytes` and `messages`, per slot (TRAFFIC_SLOTS):
   * every message of every session is counted, and a prom-client inc() costs about 0.8 µs even
   * on a bound child (20,000 messages a second at P=512 made that 2% of a core). The counters'
   * collect() adds what is pending whenever they are read (scrape, `get()`).
   */
  private readonly pendingBytes = new Float64Array(TRAFFIC_SLOTS.length);
  private readonly pendingMessages = new Float64Array(TRAFFIC_SLOTS.length);
  /** Set by the session manager: open connections by transport, read at scrape time. */
  connectionCounts: (() => Record<string, number>) | null = null;
  /** Set by the server: kernel drops of the WebTransport UDP socket (null: unknown), read at scrape time. */
  udpSocketDrops: (() => number | null) | null = null;
  /** Refusals counted here (`refuse()`), by `layer reason` key; read into `refusals` when scraped. */
  private readonly ownRefusals = new Map<string, RefusalCount>();
  /** Other layers' monotonic refusal totals (the QUIC and HTTP/3 endpoint), read at scrape time. */
  private readonly refusalSources: Array<() => Iterable<RefusalCount>> = [];

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const metrics = this;
    this.sessions = new Gauge({
      name: 'tickwire_sessions',
      help: 'Open connections (handshaking or in a session) by transport',
      labelNames: ['transport'],
      registers,
      // Read from the session manager at scrape time, so the figure cannot drift from the truth.
      collect() {
        const counts = metrics.connectionCounts?.();
        if (!counts) return;
        this.reset();
        for (const transport of ['websocket', 'webtransport']) this.set({ transport }, counts[transport] ?? 0);
      },
    });
    this.suspendedSessions = new Gauge({ name: 'tickwire_sessions_suspended', help: 'Sessions waiting inside the resume window', registers });
    this.tickDuration = new Histogram({
      name: 'tickwire_tick_duration_seconds',
      help: 'Wall time of one simulation step (room hooks)',
      buckets: [...TICK_DURATION_BUCKETS],
      registers,
      collect() { metrics.tickTally.copyInto(this); },
    });
    this.snapshotDuration = new Histogram({
      name: 'tickwire_snapshot_duration_seconds',
      help: 'Wall time of encoding and sending one room snapshot to every member',
      buckets: [...SNAPSHOT_DURATION_BUCKETS],
      registers,
      collect() { metrics.snapshotTally.copyInto(this); },
    });
    this.tickSkipped = new Counter({ name: 'tickwire_tick_skipped_total', help: 'Simulation steps dropped to avoid a catch-up spiral', registers });
    this.bytes = new Counter({
      name: 'tickwire_bytes_total', help: 'Application payload bytes by channel and direction', labelNames: ['channel', 'direction'], registers,
      collect() { metrics.flushTraffic(this, metrics.pendingBytes); },
    });
    this.messages = new Counter({
      name: 'tickwire_messages_total', help: 'Messages by channel and direction', labelNames: ['channel', 'direction'], registers,
      collect() { metrics.flushTraffic(this, metrics.pendingMessages); },
    });
    this.dropped = new Counter({ name: 'tickwire_messages_dropped_total', help: 'Messages dropped by reason', labelNames: ['reason'], registers });
    this.invalid = new Counter({ name: 'tickwire_messages_invalid_total', help: 'Messages that failed decoding or validation, by reason', labelNames: ['reason'], registers });
    this.closes = new Counter({ name: 'tickwire_session_closes_total', help: 'Connections closed by the server, by close code name', labelNames: ['code'], registers });
    this.hookErrors = new Counter({ name: 'tickwire_room_hook_errors_total', help: 'Exceptions thrown by room definition hooks', labelNames: ['hook'], registers });
    this.rooms = new Gauge({ name: 'tickwire_rooms', help: 'Open rooms', registers });
    new Counter({
      name: 'tickwire_refusals_total',
      help: 'Everything refused or dropped because of what a peer sent or asked for, by layer (quic, http3, webtransport, http, game) and reason',
      labelNames: ['layer', 'reason'],
      registers,
      // Totals live with the layer that counts them (plain numbers on hot paths); a scrape sets
      // the counter to the sum, so the figure cannot drift from the layers' own.
      collect() {
        this.reset();
        for (const r of metrics.refusals()) this.inc({ layer: r.layer, reason: r.reason }, r.count);
      },
    });
    new Gauge({
      name: 'tickwire_udp_socket_drops',
      help: 'Datagrams the kernel dropped for a UDP socket since it was bound (receive buffer full: the server is not keeping up); no sample where unknown',
      // A label, so that "unknown" can be no sample at all (an unlabelled gauge always reads 0).
      labelNames: ['socket'],
      registers,
      collect() {
        const drops = metrics.udpSocketDrops?.();
        this.reset();
        if (drops !== null && drops !== undefined) this.set({ socket: 'webtransport' }, drops);
      },
    });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'tickwire_' });
  }

  /** Counts one refusal of `layer` for `reason` (a stable snake_case label). */
  refuse(layer: RefusalLayer, reason: string, n = 1): void {
    const key = `${layer} ${reason}`;
    const entry = this.ownRefusals.get(key);
    if (entry) entry.count += n;
    else if (this.ownRefusals.size < MAX_REFUSAL_LABELS) this.ownRefusals.set(key, { layer, reason, count: n });
  }

  /** Adds a source of monotonic refusal totals (read at every scrape; zero counts are skipped). */
  addRefusalSource(source: () => Iterable<RefusalCount>): void {
    this.refusalSources.push(source);
  }

  /** Every refusal total: those counted here and those of the added sources, summed by label. */
  refusals(): RefusalCount[] {
    const sum = new Map<string, RefusalCount>();
    const add = (r: RefusalCount) => {
      if (r.count <= 0) return;
      const key = `${r.layer} ${r.reason}`;
      const e = sum.get(key);
      if (e) e.count += r.count;
      else sum.set(key, { ...r });
    };
    for (const r of this.ownRefusals.values()) add(r);
    for (const source of this.refusalSources) for (const r of source()) add(r);
    return [...sum.values()];
  }

  /** Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Counts one message of `length` bytes in `bytes` and `messages` (added when they are read). */
  countMessage(channel: 'reliable' | 'unreliable', direction: 'in' | 'out', length: number): void {
    const slot = (channel === 'reliable' ? 0 : 2) + (direction === 'in' ? 0 : 1);
    this.pendingBytes[slot] += length;
    this.pendingMessages[slot]++;
  }

  /** Observes one simulation step of `seconds` in `tickDuration` (handed over when it is read). */
  observeTick(seconds: number): void {
    this.tickTally.observe(seconds);
  }

  /** Observes one room snapshot of `seconds` in `snapshotDuration` (handed over when it is read). */
  observeSnapshot(seconds: number): void {
    this.snapshotTally.observe(seconds);
  }

  private flushTraffic(counter: Counter<'channel' | 'direction'>, pending: Float64Array): void {
    for (let slot = 0; slot < TRAFFIC_SLOTS.length; slot++) {
      const n = pending[slot];
      if (n === 0) continue;
      pending[slot] = 0;
      counter.inc(TRAFFIC_SLOTS[slot], n);
    }
  }
}

/** The layer a refusal happened at (label `layer` of `tickwire_refusals_total`). */
export type RefusalLayer = 'quic' | 'http3' | 'webtransport' | 'http' | 'game';

/** One refusal total: `count` refusals at `layer` for `reason`. */
export interface RefusalCount {
  layer: RefusalLayer;
  reason: string;
  count: number;
}

/**
 * Distinct (layer, reason) pairs `refuse()` keeps. Reasons are fixed strings in our code, never a
 * peer's input; the bound only guards against a bug that would make them so.
 */
export const MAX_REFUSAL_LABELS = 256;

/** Upper bounds (seconds) of `tickwire_tick_duration_seconds`; 0.0167 is one 60 Hz step. */
export const TICK_DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.0167, 0.025, 0.05, 0.1] as const;
/** Upper bounds (seconds) of `tickwire_snapshot_duration_seconds`. */
export const SNAPSHOT_DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05] as const;

/** prom-client's one series of a histogram (15.x, no labels): counts per bucket by upper bound, not cumulative. */
interface HistogramSeries {
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/**
 * The observations of one label-less histogram, kept exactly as prom-client's `observe()` keeps
 * them: a value falls in the first bucket whose bound is >= it (none: only the count and sum),
 * and the sum adds values in the order observed. The totals are cumulative and copied over
 * whole (not added as a delta), so the exported sum is the same float as observing each value.
 * Fixed size: one slot per bucket bound (11 for ticks, 9 for snapshots), whatever the rate.
 */
class HistogramTally {
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    // prom-client refuses these too (a NaN would poison the sum for good).
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    this.sum += value;
    this.count++;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        this.counts[i]++;
        return;
      }
    }
  }

  /**
   * Sets `histogram`'s series to these totals. prom-client 15 has no public way to add counts
   * to a histogram, so this writes its series (`hashMap`) directly; test/server/metrics.test.ts
   * compares the output with a plain Histogram fed the same values and fails if that changes.
   */
  copyInto(histogram: Histogram): void {
    histogram.zero({});
    const { hashMap } = histogram as unknown as { hashMap: Record<string, HistogramSeries> };
    const [series] = Object.values(hashMap);
    for (let i = 0; i < this.bounds.length; i++) series.bucketValues[this.bounds[i]] = this.counts[i];
    series.sum = this.sum;
    series.count = this.count;
  }
}

/** Label sets of the traffic counters, by slot: (channel reliable 0 / unreliable 2) + (direction in 0 / out 1). */
const TRAFFIC_SLOTS = [
  { channel: 'reliable', direction: 'in' },
  { channel: 'reliable', direction: 'out' },
  { channel: 'unreliable', direction: 'in' },
  { channel: 'unreliable', direction: 'out' },
] as const;
