/**
 * Bit-level writer and reader for the snapshot codec (docs/protocol.md, "Layout"): values are
 * written most significant bit first, big-endian across bytes. The reader never throws: reading
 * past the end yields zeros and sets `overrun`, which the decoder turns into a `malformed` result.
 */

/** Largest exp-Golomb prefix the reader accepts: values up to 2^32 - 1 need at most 32 zeros. */
const MAX_EG_PREFIX = 32;

/** Writes bits into a fixed buffer sized by the caller's budget. */
export class BitWriter {
  readonly bytes: Uint8Array;
  private bytePos = 0;
  /** Pending bits not yet flushed to `bytes` (fewer than 8 between calls). */
  private acc = 0;
  private accBits = 0;
  private readonly capacityBits: number;

  /**
   * `into`: write into this buffer (at least `capacityBytes` long) instead of a new one, for a
   * caller that copies `finish()` out before the next use.
   */
  constructor(capacityBytes: number, into?: Uint8Array) {
    this.bytes = into && into.length >= capacityBytes ? into : new Uint8Array(capacityBytes);
    this.capacityBits = capacityBytes * 8;
  }

  /** Bits written so far. */
  get bitLength(): number {
    return this.bytePos * 8 + this.accBits;
  }

  /**
   * Writes the low `bits` bits of `value` (0 <= bits <= 32; value treated as unsigned).
   * @throws RangeError past capacity: the encoder sizes its output before writing, so this is a bug.
   */
  write(value: number, bits: number): void {
    if (this.bytePos * 8 + this.accBits + bits > this.capacityBits) throw new RangeError('BitWriter capacity exceeded');
    if (bits > 24) {
      // Keep the accumulator within 31 bits: high part first.
      this.put(Math.floor(value / 65536) & ((1 << (bits - 16)) - 1), bits - 16);
      this.put(value & 0xffff, 16);
    } else if (bits > 0) {
      this.put(value & ((1 << bits) - 1), bits);
    }
  }

  private put(v: number, n: number): void {
    let acc = (this.acc << n) | v;
    let accBits = this.accBits + n;
    while (accBits >= 8) {
      accBits -= 8;
      this.bytes[this.bytePos++] = acc >>> accBits;
      acc &= (1 << accBits) - 1;
    }
    this.acc = acc;
    this.accBits = accBits;
  }

  /** Writes one bit. */
  bit(b: boolean | number): void {
    this.write(b ? 1 : 0, 1);
  }

  /** Order-0 exp-Golomb code of `value` (0 <= value <= 2^32 - 2). */
  expGolomb(value: number): void {
    const v = value + 1;
    const n = Math.floor(Math.log2(v));
    this.write(0, n);
    this.write(v, n + 1);
  }

  /** The written bytes, zero-padded to a byte boundary. */
  finish(): Uint8Array {
    if (this.accBits > 0) {
      this.bytes[this.bytePos] = this.acc << (8 - this.accBits);
      return this.bytes.subarray(0, this.bytePos + 1);
    }
    return this.bytes.subarray(0, this.bytePos);
  }
}

/** Bits of the order-0 exp-Golomb code of `value`. */
export function expGolombBits(value: number): number {
  return 2 * Math.floor(Math.log2(value + 1)) + 1;
}

/** Reads bits written by BitWriter. */
export class BitReader {
  private bitPos = 0;
  private readonly bitEnd: number;
  /** Set once any read went past the end (the values read there were zeros). */
  overrun = false;

  constructor(private readonly bytes: Uint8Array) {
    this.bitEnd = bytes.length * 8;
  }

  /** Bits not yet read. */
  get remaining(): number {
    return Math.max(0, this.bitEnd - this.bitPos);
  }

  /** Reads `bits` bits (0..32) as an unsigned number. */
  read(bits: number): number {
    if (this.bitPos + bits > this.bitEnd) {
      this.overrun = true;
      this.bitPos = this.bitEnd;
      return 0;
    }
    if (bits > 24) {
      const hi = this.take(bits - 16);
      return hi * 65536 + this.take(16);
    }
    return bits > 0 ? this.take(bits) : 0;
  }

  /** 1..24 bits known to be in range: one 32-bit window over up to 4 bytes. */
  private take(bits: number): number {
    const b = this.bytes;
    const i = this.bitPos >>> 3;
    const window = ((b[i] << 24) | ((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0)) >>> 0;
    this.bitPos += bits;
    return ((window << (this.bitPos - bits - i * 8)) >>> 0) >>> (32 - bits);
  }

  bit(): boolean {
    return this.read(1) === 1;
  }

  /**
   * The next `bits` bits (1..24) without consuming them; bits past the end read as zero (a later
   * read or skip of them flags the overrun).
   */
  peek(bits: number): number {
    const b = this.bytes;
    const i = this.bitPos >>> 3;
    const window = (((b[i] ?? 0) << 24) | ((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0)) >>> 0;
    return ((window << (this.bitPos & 7)) >>> 0) >>> (32 - bits);
  }

  /** Consumes `bits` bits (after a peek). */
  skip(bits: number): void {
    if (this.bitPos + bits > this.bitEnd) {
      this.overrun = true;
      this.bitPos = this.bitEnd;
    } else {
      this.bitPos += bits;
    }
  }

  /** Signed two's-complement value of `bits` bits. */
  readSigned(bits: number): number {
    const v = this.read(bits);
    return v >= 2 ** (bits - 1) ? v - 2 ** bits : v;
  }

  /** Order-0 exp-Golomb; returns -1 (and sets overrun) for a prefix longer than 32 zeros. */
  expGolomb(): number {
    let zeros = 0;
    while (!this.overrun && this.read(1) === 0) {
      if (++zeros > MAX_EG_PREFIX) {
        this.overrun = true;
        return -1;
      }
    }
    if (this.overrun) return -1;
    return 2 ** zeros + this.read(zeros) - 1;
  }

  /** True when only zero padding (fewer than 8 bits) remains. */
  atPaddedEnd(): boolean {
    const left = this.bitEnd - this.bitPos;
    if (left < 0 || left >= 8) return false;
    return this.read(left) === 0 && !this.overrun;
  }
}
