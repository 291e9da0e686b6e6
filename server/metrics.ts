import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one game server, on a Registry of its own (no module globals: two
 * servers in one process, as in tests, never share or clash on metrics).
 */
export class GameMetrics {
  readonly registry = new Registry();
  /** Live sessions (active connections) by transport. */
  readonly sessions: Gauge<'transport'>;
  /** Sessions inside the resume window without a connection. */
  readonly suspendedSessions: Gauge;
  readonly tickDuration: Histogram;
  /** Wall time of building and sending one room's snapshots to all its members. */
  readonly snapshotDuration: Histogram;
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
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.0167, 0.025, 0.05, 0.1],
      registers,
    });
    this.snapshotDuration = new Histogram({
      name: 'tickwire_snapshot_duration_seconds',
      help: 'Wall time of encoding and sending one room snapshot to every member',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05],
      registers,
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

  private flushTraffic(counter: Counter<'channel' | 'direction'>, pending: Float64Array): void {
    for (let slot = 0; slot < TRAFFIC_SLOTS.length; slot++) {
      const n = pending[slot];
      if (n === 0) continue;
      pending[slot] = 0;
      counter.inc(TRAFFIC_SLOTS[slot], n);
    }
  }
}

/** Label sets of the traffic counters, by slot: (channel reliable 0 / unreliable 2) + (direction in 0 / out 1). */
const TRAFFIC_SLOTS = [
  { channel: 'reliable', direction: 'in' },
  { channel: 'reliable', direction: 'out' },
  { channel: 'unreliable', direction: 'in' },
  { channel: 'unreliable', direction: 'out' },
] as const;
