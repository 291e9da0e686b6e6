import { SampleRing } from './sample-ring.js';

/** Recent RTT samples kept for percentiles (about a minute of pings at 2 Hz). */
export const RTT_SAMPLE_LIMIT = 128;

/**
 * Round-trip time estimator. Smoothing follows RFC 6298 §2 / RFC 9002 §5.3: the first sample
 * sets srtt and rttvar = sample/2; later ones move srtt by 1/8 and rttvar by 1/4 of the error.
 */
export class RttEstimator {
  private srtt: number | null = null;
  private rttvar = 0;
  private min = Number.POSITIVE_INFINITY;
  readonly samples = new SampleRing(RTT_SAMPLE_LIMIT);

  addSample(rttMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    this.samples.push(rttMs);
    this.min = Math.min(this.min, rttMs);
    if (this.srtt === null) {
      this.srtt = rttMs;
      this.rttvar = rttMs / 2;
      return;
    }
    this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rttMs);
    this.srtt = 0.875 * this.srtt + 0.125 * rttMs;
  }

  /** Smoothed RTT in ms, or null before the first sample. */
  get smoothedMs(): number | null {
    return this.srtt;
  }

  get variationMs(): number {
    return this.rttvar;
  }

  get minMs(): number | null {
    return Number.isFinite(this.min) ? this.min : null;
  }
}
