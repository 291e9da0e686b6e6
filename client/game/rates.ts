/**
 * Rates for the HUD from cumulative counters (snapshots received, bytes down, snapshots lost):
 * the counters are sampled every frame or so, and a rate is the change over the last window.
 */

/** Samples kept per meter; at one per HUD refresh (4 Hz) this covers far more than the window. */
export const RATE_SAMPLE_LIMIT = 64;

export class RateMeter {
  private samples: Array<{ t: number; v: number }> = [];

  /** @param windowMs the span a rate is measured over (default 2 s: steady, yet responsive). */
  constructor(private readonly windowMs = 2000) {}

  /** Records the cumulative counter `value` at time `t` (ms). */
  add(t: number, value: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last && (t < last.t || value < last.v)) this.samples = []; // counter reset (new client)
    this.samples.push({ t, v: value });
    // Keep one sample at or before the window start so a full window can be measured.
    while (this.samples.length > 2 && this.samples[1].t <= t - this.windowMs) this.samples.shift();
    while (this.samples.length > RATE_SAMPLE_LIMIT) this.samples.shift();
  }

  /** Change per second over the window; 0 until two samples span some time. */
  perSecond(): number {
    const n = this.samples.length;
    if (n < 2) return 0;
    const a = this.samples[0];
    const b = this.samples[n - 1];
    return b.t > a.t ? ((b.v - a.v) * 1000) / (b.t - a.t) : 0;
  }

  /** Change of the counter over the window (not per second). */
  delta(): number {
    const n = this.samples.length;
    return n < 2 ? 0 : this.samples[n - 1].v - this.samples[0].v;
  }

  reset(): void {
    this.samples = [];
  }
}

/** Loss share over the window from a received and a lost counter: lost / (received + lost). */
export function lossShare(received: RateMeter, lost: RateMeter): number {
  const r = received.delta();
  const l = Math.max(0, lost.delta());
  return r + l > 0 ? l / (r + l) : 0;
}
