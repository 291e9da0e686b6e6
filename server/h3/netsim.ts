/**
 * A seeded, deterministic link simulator for UDP packets, used on the QUIC path to study and test
 * behaviour under loss, latency, jitter, duplication, reordering and a bandwidth limit, each set
 * per direction. `up` is client -> server, `down` is server -> client.
 *
 * Per packet, in this order (like Linux netem):
 * 1. loss: dropped with probability `loss`;
 * 2. rate: if `rateBytesPerSec` > 0 the packet is serialised onto a link of that speed behind the
 *    packets before it; when the bytes waiting for the link would exceed `queueLimitBytes`, it is
 *    dropped (tail drop, counted as `queueDrops`);
 * 3. delay: it arrives `delayMs` plus a uniform jitter in [-jitterMs, +jitterMs] after leaving the
 *    link, never before the packet sent before it (jitter alone does not reorder);
 * 4. reorder: with probability `reorder` it is held back `reorderDelayMs` more and exempt from the
 *    ordering rule, so later packets overtake it;
 * 5. duplicate: with probability `duplicate` a second copy arrives right after it.
 * Every packet draws the same number of random values whatever the settings, from a PRNG per
 * direction, so one seed gives one outcome and traffic in one direction never changes the other's.
 *
 * Time is injected (`now`, `setTimer`), so tests step it; nothing here reads the system clock.
 */
import { validateLinkConfig, type Direction, type LinkConfig, type LinkDirectionConfig } from './link-config.js';

/**
 * Most packets in flight inside the simulator per direction (waiting for their delivery time);
 * beyond it packets are dropped and counted as `pendingDrops`, so a huge delay cannot grow memory
 * without bound.
 */
export const MAX_PENDING_PACKETS = 20_000;

/** Counters of one direction. */
export interface LinkDirectionStats {
  sent: number;
  bytesSent: number;
  delivered: number;
  bytesDelivered: number;
  /** Dropped by the random loss. */
  lost: number;
  /** Dropped because the rate limiter's queue was full. */
  queueDrops: number;
  /** Dropped because MAX_PENDING_PACKETS were already in flight. */
  pendingDrops: number;
  duplicated: number;
  reordered: number;
  /** Packets currently in flight. */
  pending: number;
}

/** The clock and timer the simulator runs on. */
export interface NetsimClock {
  /** Current time, ms (any origin, non-decreasing). */
  now: () => number;
  /** Calls `fn` after `delayMs`; returns a handle for `clearTimer`. */
  setTimer: (fn: () => void, delayMs: number) => unknown;
  /** Cancels a timer; optional (a stale timer firing is harmless). */
  clearTimer?: (handle: unknown) => void;
}

export interface LinkSimulatorOptions extends NetsimClock {
  /** PRNG seed (any 32-bit integer). */
  seed: number;
  /**
   * Deliver a packet that is already due (no delay, nothing queued before it) synchronously inside
   * `send()` instead of on a zero-delay timer, which costs about a millisecond per hop in Node.
   * Only for `deliver` callbacks that are safe to run re-entrantly (e.g. a socket send).
   */
  immediate?: boolean;
}

/** The system clock and Node timers, for running the simulator for real. */
export function systemNetsimClock(): NetsimClock {
  return {
    now: () => performance.now(),
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };
}

/** sfc32: small, fast, well-distributed 32-bit PRNG; returns floats in [0, 1). */
function makeRandom(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next(); // mix the seed in
  return next;
}

interface Pending {
  at: number;
  seq: number;
  packet: Uint8Array;
  deliver: (packet: Uint8Array) => void;
  dir: Direction;
}

/** Binary min-heap on (at, seq): earliest delivery first, FIFO among equal times. */
class DeliveryHeap {
  private readonly items: Pending[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Pending | undefined {
    return this.items[0];
  }

  push(p: Pending): void {
    const a = this.items;
    a.push(p);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(a[i], a[parent])) break;
      [a[i], a[parent]] = [a[parent], a[i]];
      i = parent;
    }
  }

  pop(): Pending | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l], a[m])) m = l;
        if (r < a.length && less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }
}

function less(x: Pending, y: Pending): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

interface DirectionState {
  cfg: LinkDirectionConfig;
  random: () => number;
  /** When the rate-limited link finishes sending what it already has. */
  linkFreeAt: number;
  /** Arrival time of the newest in-order packet (jitter never reorders). */
  lastArrival: number;
  stats: LinkDirectionStats;
}

function emptyStats(): LinkDirectionStats {
  return { sent: 0, bytesSent: 0, delivered: 0, bytesDelivered: 0, lost: 0, queueDrops: 0, pendingDrops: 0, duplicated: 0, reordered: 0, pending: 0 };
}

/**
 * The simulator. `send()` takes a packet (copied, so the caller may reuse its buffer) and calls
 * `deliver` with it later, or never when it is dropped.
 */
export class LinkSimulator {
  private readonly clock: NetsimClock;
  private readonly dirs: Record<Direction, DirectionState>;
  private readonly heap = new DeliveryHeap();
  private seq = 0;
  private timer: unknown = null;
  private timerAt = Infinity;
  private closed = false;
  private readonly immediate: boolean;

  constructor(config: LinkConfig, options: LinkSimulatorOptions) {
    validateLinkConfig(config);
    this.clock = options;
    this.immediate = options.immediate ?? false;
    const seed = options.seed | 0;
    this.dirs = {
      up: { cfg: { ...config.up }, random: makeRandom(seed ^ 0x5bd1e995), linkFreeAt: -Infinity, lastArrival: -Infinity, stats: emptyStats() },
      down: { cfg: { ...config.down }, random: makeRandom(seed ^ 0x27d4eb2f), linkFreeAt: -Infinity, lastArrival: -Infinity, stats: emptyStats() },
    };
  }

  /** The configuration in force. */
  get config(): LinkConfig {
    return { up: { ...this.dirs.up.cfg }, down: { ...this.dirs.down.cfg } };
  }

  /** Sends one packet in `direction`. Returns false when it was dropped at once (loss or queue full). */
  send(direction: Direction, packet: Uint8Array, deliver: (packet: Uint8Array) => void): boolean {
    if (this.closed) return false;
    const d = this.dirs[direction];
    const { cfg, stats } = d;
    const now = this.clock.now();
    stats.sent++;
    stats.bytesSent += packet.length;
    // Always draw four values so the random stream stays aligned whatever the settings.
    const rLoss = d.random();
    const rJitter = d.random();
    const rReorder = d.random();
    const rDup = d.random();
    if (rLoss < cfg.loss) {
      stats.lost++;
      return false;
    }
    let departure = now;
    if (cfg.rateBytesPerSec > 0) {
      const start = Math.max(now, d.linkFreeAt);
      const waitingBytes = ((start - now) * cfg.rateBytesPerSec) / 1000;
      if (waitingBytes + packet.length > cfg.queueLimitBytes) {
        stats.queueDrops++;
        return false;
      }
      d.linkFreeAt = start + (packet.length * 1000) / cfg.rateBytesPerSec;
      departure = d.linkFreeAt;
    }
    const copies = rDup < cfg.duplicate ? 2 : 1;
    if (this.heap.size + copies > MAX_PENDING_PACKETS) {
      stats.pendingDrops++;
      return false;
    }
    let at = departure + Math.max(0, cfg.delayMs + (2 * rJitter - 1) * cfg.jitterMs);
    if (rReorder < cfg.reorder) {
      at += cfg.reorderDelayMs;
      stats.reordered++;
    } else {
      at = Math.max(at, d.lastArrival);
      d.lastArrival = at;
    }
    if (this.immediate && at <= now && this.heap.size === 0) {
      // Due now and nothing ahead of it: hand it over without a timer. The duplicate is copied
      // first, since the receiver may consume the buffer in place (quiche decrypts in place).
      const dup = copies === 2 ? packet.slice() : null;
      stats.delivered++;
      stats.bytesDelivered += packet.length;
      deliver(packet);
      if (dup) {
        stats.duplicated++;
        stats.delivered++;
        stats.bytesDelivered += dup.length;
        deliver(dup);
      }
      return true;
    }
    const copy = packet.slice();
    this.heap.push({ at, seq: this.seq++, packet: copy, deliver, dir: direction });
    if (copies === 2) {
      stats.duplicated++;
      this.heap.push({ at, seq: this.seq++, packet: copy.slice(), deliver, dir: direction });
    }
    stats.pending += copies;
    this.arm();
    return true;
  }

  /** Counters per direction (a snapshot). */
  stats(): Record<Direction, LinkDirectionStats> {
    return { up: { ...this.dirs.up.stats }, down: { ...this.dirs.down.stats } };
  }

  /** Delivers every packet due by now; called by the timer, and callable by tests. */
  flush(): void {
    const now = this.clock.now();
    for (;;) {
      const top = this.heap.peek();
      if (!top || top.at > now || this.closed) break;
      this.heap.pop();
      const s = this.dirs[top.dir].stats;
      s.pending--;
      s.delivered++;
      s.bytesDelivered += top.packet.length;
      top.deliver(top.packet);
    }
    this.arm();
  }

  /** Drops everything in flight and stops the timer. */
  close(): void {
    this.closed = true;
    this.heap.clear();
    this.dirs.up.stats.pending = 0;
    this.dirs.down.stats.pending = 0;
    this.cancelTimer();
  }

  private arm(): void {
    if (this.closed) return;
    const top = this.heap.peek();
    if (!top) {
      this.cancelTimer();
      return;
    }
    if (this.timer !== null && this.timerAt <= top.at) return;
    this.cancelTimer();
    this.timerAt = top.at;
    const handle = this.clock.setTimer(() => {
      if (this.timer !== handle) return; // superseded
      this.timer = null;
      this.timerAt = Infinity;
      this.flush();
    }, Math.max(0, top.at - this.clock.now()));
    this.timer = handle;
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.clock.clearTimer?.(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }
}
