/**
 * A FIFO of received byte chunks, read without copying where the bytes lie in one chunk. Shared by
 * the incremental decoders (frames, capsules). It holds what callers push; each decoder bounds
 * what it waits for.
 */
export class ChunkQueue {
  private readonly chunks: Uint8Array[] = [];
  private headOffset = 0;
  private total = 0;

  /** Bytes held. */
  get available(): number {
    return this.total;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  clear(): void {
    this.chunks.length = 0;
    this.headOffset = 0;
    this.total = 0;
  }

  /** Up to `n` contiguous bytes from the front, not consumed (a view when possible). */
  peek(n: number): Uint8Array {
    if (this.total === 0) return new Uint8Array(0);
    const first = this.chunks[0];
    const inFirst = first.length - this.headOffset;
    if (inFirst >= n || this.chunks.length === 1) {
      return first.subarray(this.headOffset, this.headOffset + Math.min(n, inFirst));
    }
    const out = new Uint8Array(Math.min(n, this.total));
    let o = 0;
    let off = this.headOffset;
    for (const c of this.chunks) {
      const k = Math.min(c.length - off, out.length - o);
      out.set(c.subarray(off, off + k), o);
      o += k;
      off = 0;
      if (o === out.length) break;
    }
    return out;
  }

  /** Drops `n` bytes (n <= available). */
  consume(n: number): void {
    this.total -= n;
    while (n > 0) {
      const c = this.chunks[0];
      const k = Math.min(c.length - this.headOffset, n);
      n -= k;
      this.headOffset += k;
      if (this.headOffset === c.length) {
        this.chunks.shift();
        this.headOffset = 0;
      }
    }
  }

  /** Exactly `n` bytes (n <= available); a view when they lie in one chunk, else a copy. */
  take(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const v = this.peek(n);
    this.consume(n);
    return v;
  }

  /** At most `n` bytes from the first chunk, as a view. */
  takeUpTo(n: number): Uint8Array {
    if (this.total === 0) return new Uint8Array(0);
    const first = this.chunks[0];
    const k = Math.min(n, first.length - this.headOffset);
    const v = first.subarray(this.headOffset, this.headOffset + k);
    this.consume(k);
    return v;
  }

  /** Everything held, as one array. */
  takeAll(): Uint8Array {
    return this.take(this.total);
  }
}
