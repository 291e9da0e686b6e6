/**
 * The statistics every tool reports with (bots, bench/, experiments/): one percentile
 * definition, medians, means, arrival gaps, an empirical CDF and a bounded sample store. Pure,
 * so test/tools/lib/ checks them exactly.
 *
 * Percentiles are nearest-rank: the smallest sample such that at least p% of the samples are
 * <= it, `sorted[ceil(p/100 * n) - 1]`. It never interpolates, so a reported p99 is a value that
 * was actually observed, and it is the same definition in every tool's output. For no samples
 * the answer is null (a tool that prints NaN or an empty cell decides that at its output).
 */

/** The samples as a new ascending Float64Array (the caller's array is left as it is). */
export function sortedCopy(samples: ArrayLike<number>): Float64Array {
  return Float64Array.from(samples).sort();
}

/** Nearest-rank percentile of unsorted samples (p clamped to [0, 100]; p = 0 is the minimum). */
export function percentile(samples: ArrayLike<number>, p: number): number | null {
  return samples.length === 0 ? null : percentileOfSorted(sortedCopy(samples), p);
}

/** Like `percentile`, for samples already sorted ascending (no copy). */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const q = Math.min(100, Math.max(0, p));
  const rank = Math.max(1, Math.ceil((q / 100) * n));
  return sorted[Math.min(n, rank) - 1];
}

/**
 * Median of the finite values (nulls, NaN and infinities are ignored); for an even count the
 * mean of the two middle values. Null when nothing is left. Used for median-of-runs lines.
 */
export function median(values: ReadonlyArray<number | null | undefined>): number | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** Arithmetic mean, null for no samples. */
export function mean(samples: ArrayLike<number>): number | null {
  if (samples.length === 0) return null;
  let s = 0;
  for (let i = 0; i < samples.length; i++) s += samples[i];
  return s / samples.length;
}

/** Percentiles reported for a distribution (gaps, staleness, tick durations). */
export interface Distribution {
  count: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

export function summarize(samples: ArrayLike<number>): Distribution {
  const sorted = sortedCopy(samples);
  return {
    count: sorted.length,
    p50: percentileOfSorted(sorted, 50),
    p99: percentileOfSorted(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : null,
  };
}

/**
 * Differences between consecutive timestamps (arrival gaps). Timestamps must be in arrival
 * order; the result has one element fewer.
 */
export function gaps(timestamps: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 1; i < timestamps.length; i++) out.push(timestamps[i] - timestamps[i - 1]);
  return out;
}

/**
 * Empirical CDF: points (x, share of samples <= x), at most about `maxPoints` of them (every
 * k-th sorted sample), always ending at (max, 1).
 */
export function cdfPoints(values: ArrayLike<number>, maxPoints = 400): Array<[number, number]> {
  const sorted = sortedCopy(values);
  const n = sorted.length;
  if (n === 0) return [];
  const step = Math.max(1, Math.floor(n / maxPoints));
  const out: Array<[number, number]> = [];
  for (let i = step - 1; i < n; i += step) out.push([sorted[i], (i + 1) / n]);
  if (out[out.length - 1][1] !== 1) out.push([sorted[n - 1], 1]);
  return out;
}

/**
 * A sample store with a hard capacity. Past the capacity it keeps a uniform random subset
 * (reservoir sampling, Vitter's algorithm R), so percentiles stay unbiased while memory stays
 * bounded however long a window runs. `random` is injected so tests are exact.
 */
export class SampleReservoir {
  private readonly data: Float64Array;
  private filled = 0;
  private seen = 0;

  constructor(readonly capacity: number, private readonly random: () => number = Math.random) {
    if (!(capacity >= 1) || !Number.isInteger(capacity)) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.data = new Float64Array(capacity);
  }

  /** Samples offered since the last reset (kept or not). */
  get offered(): number {
    return this.seen;
  }

  get size(): number {
    return this.filled;
  }

  add(value: number): void {
    this.seen++;
    if (this.filled < this.capacity) {
      this.data[this.filled++] = value;
      return;
    }
    const j = Math.floor(this.random() * this.seen);
    if (j < this.capacity) this.data[j] = value;
  }

  reset(): void {
    this.filled = 0;
    this.seen = 0;
  }

  /** The kept samples (a copy). */
  values(): Float64Array {
    return this.data.slice(0, this.filled);
  }
}
