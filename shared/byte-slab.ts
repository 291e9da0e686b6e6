/**
 * Short-lived byte arrays cut from shared slabs, for messages made once per client per tick
 * (a stamped snapshot, a WebSocket frame). Allocating a backing store per message (`slice()`,
 * `new Uint8Array(n)` past V8's on-heap limit of 64 bytes) costs more than filling it, and the
 * external memory of thousands of small stores a second drives extra garbage collections. A piece
 * is a view of a slab and is never handed out again, so it stays valid as long as it is
 * referenced; a slab is freed once no piece of it is (at most one slab kept alive per piece
 * still held, e.g. in a socket's write queue).
 */
export class ByteSlab {
  private slab: Uint8Array;
  private used = 0;

  /**
   * @param slabBytes size of each slab; pieces larger than a quarter of it get a buffer of their
   *   own, so a big message never wastes most of a slab.
   * @param allocate makes a slab (or a big piece); pieces are its `subarray`s, so a Node Buffer
   *   allocator gives Buffer pieces.
   */
  constructor(readonly slabBytes: number, private readonly allocate: (n: number) => Uint8Array = (n) => new Uint8Array(n)) {
    this.slab = allocate(slabBytes);
  }

  /** A fresh view of `n` bytes, never handed out before (contents unspecified: the caller fills it). */
  take(n: number): Uint8Array {
    if (n > this.slabBytes >>> 2) return this.allocate(n);
    if (this.used + n > this.slabBytes) {
      this.slab = this.allocate(this.slabBytes);
      this.used = 0;
    }
    const out = this.slab.subarray(this.used, this.used + n);
    this.used += n;
    return out;
  }
}
