/**
 * A fixed-capacity ring of numeric samples (RTTs, snapshot gaps). Old samples fall off so a
 * long-running client keeps bounded memory; readers compute percentiles over `values()`.
 */
export class SampleRing {
  private readonly buf: Float64Array;
  private next = 0;
  private count = 0;
  private total = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError('capacity must be a positive integer');
    this.buf = new Float64Array(capacity);
  }

  push(value: number): void {
    if (!Number.isFinite(value)) return;
    this.buf[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    this.total++;
  }

  /** Samples held, oldest first. */
  values(): number[] {
    const out: number[] = [];
    const start = this.count < this.capacity ? 0 : this.next;
    for (let i = 0; i < this.count; i++) out.push(this.buf[(start + i) % this.capacity]);
    return out;
  }

  get size(): number {
    return this.count;
  }

  /** Samples ever pushed (including those that fell off). */
  get pushed(): number {
    return this.total;
  }

  clear(): void {
    this.next = 0;
    this.count = 0;
  }
}
