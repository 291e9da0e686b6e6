/**
 * quiche's timers (loss detection, idle, draining; RFC 9002 §6, RFC 9000 §10) of every
 * connection of one endpoint, on one Node timer.
 *
 * Why not one `setTimeout` per connection: quiche's deadline moves with nearly every packet (a
 * snapshot sent arms the probe timeout, its ACK moves the deadline back to the idle timeout), so
 * a timer per connection was cleared and re-created about once per packet, and fired early about
 * as often (each a Timeout object, a list of Node's timer wheel per distinct duration, and its
 * priority queue). Here each connection's exact deadline sits in a binary min-heap indexed by
 * the connection (moving it costs a few comparisons and allocates nothing), and the one Node
 * timer is re-armed only when the earliest deadline moves earlier or has fired.
 */

/** What the heap keeps per entry; the connection carries it (no map lookup, no allocation). */
export interface TimedEntry {
  /** performance.now() ms at which the entry is due; meaningful while `timerSlot >= 0`. */
  timerDeadline: number;
  /** Position in the heap, or -1 when not in it. Owned by `ConnectionTimers`. */
  timerSlot: number;
}

/**
 * A deadline counts as reached this close to it: Node's timers have millisecond resolution and
 * can fire up to a millisecond before a fractional performance.now() deadline (the same
 * tolerance the per-connection timers had).
 */
const DUE_TOLERANCE_MS = 1;

/** Deadlines of many entries on one Node timer; `fire` runs for each entry that comes due. */
export class ConnectionTimers<T extends TimedEntry> {
  private readonly heap: T[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** When the Node timer fires (performance.now() ms), meaningful while `timer` is set. */
  private timerAt = 0;
  private readonly onTimerBound = (): void => this.onTimer();
  /** Entries due in the current firing (reused: no array per firing). */
  private readonly due: T[] = [];

  /** `fire` must not throw (the endpoint's wrapper turns a throw into that connection's failure). */
  constructor(private readonly fire: (entry: T) => void) {}

  /** Number of entries with a deadline. */
  get size(): number {
    return this.heap.length;
  }

  /** Sets (or moves) `entry`'s deadline to `at` (performance.now() ms). */
  set(entry: T, at: number): void {
    const i = entry.timerSlot;
    entry.timerDeadline = at;
    if (i < 0) {
      entry.timerSlot = this.heap.length;
      this.heap.push(entry);
      this.up(entry.timerSlot);
    } else if (!this.up(i)) {
      this.down(i);
    }
    this.arm();
  }

  /** Forgets `entry`'s deadline (no-op when it has none). */
  clear(entry: T): void {
    const i = entry.timerSlot;
    if (i < 0) return;
    entry.timerSlot = -1;
    const last = this.heap.pop() as T;
    if (last !== entry) {
      this.heap[i] = last;
      last.timerSlot = i;
      if (!this.up(i)) this.down(i);
    }
    if (this.heap.length === 0) this.stop();
  }

  /** Forgets every deadline and stops the Node timer. */
  clearAll(): void {
    for (const e of this.heap) e.timerSlot = -1;
    this.heap.length = 0;
    this.stop();
  }

  private stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Makes the Node timer fire no later than the earliest deadline. A timer that would fire
   * earlier than needed is kept (an early firing finds nothing due and re-arms): moving a Node
   * timer costs more than that.
   */
  private arm(): void {
    const top = this.heap[0];
    if (top === undefined) return;
    if (this.timer !== null && this.timerAt <= top.timerDeadline + DUE_TOLERANCE_MS) return;
    if (this.timer) clearTimeout(this.timer);
    const now = performance.now();
    const delay = Math.max(0, top.timerDeadline - now);
    this.timerAt = now + delay;
    this.timer = setTimeout(this.onTimerBound, delay);
  }

  private onTimer(): void {
    this.timer = null;
    const limit = performance.now() + DUE_TOLERANCE_MS;
    const due = this.due;
    // Take every due entry out first: `fire` sets new deadlines (quiche's next one), which may be
    // due at once again; those wait for the next firing instead of spinning here.
    while (this.heap.length > 0 && this.heap[0].timerDeadline < limit) {
      const e = this.heap[0];
      this.clear(e);
      due.push(e);
    }
    for (let i = 0; i < due.length; i++) {
      const e = due[i];
      // An earlier entry's firing may have set this one's deadline again (it then waits for it).
      if (e.timerSlot < 0) this.fire(e);
    }
    due.length = 0;
    this.arm();
  }

  /** Moves the entry at `i` towards the root while it is earlier than its parent; true if it moved. */
  private up(i: number): boolean {
    const h = this.heap;
    const e = h[i];
    const start = i;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p];
      if (parent.timerDeadline <= e.timerDeadline) break;
      h[i] = parent;
      parent.timerSlot = i;
      i = p;
    }
    h[i] = e;
    e.timerSlot = i;
    return i !== start;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const e = h[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r].timerDeadline < h[l].timerDeadline ? r : l;
      if (h[c].timerDeadline >= e.timerDeadline) break;
      h[i] = h[c];
      h[i].timerSlot = i;
      i = c;
    }
    h[i] = e;
    e.timerSlot = i;
  }
}
