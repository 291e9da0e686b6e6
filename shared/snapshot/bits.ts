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
  private bitPos = 0;

  constructor(capacityBytes: number) {
    this.bytes = new Uint8Array(capacityBytes);
  }

  /** Bits written so far. */
  get bitLength(): number {
    return this.bitPos;
  }

  /**
   * Writes the low `bits` bits of `value` (0 <= bits <= 32; value treated as unsigned).
   * @throws RangeError past capacity: the encoder sizes its output before writing, so this is a bug.
   */
  write(value: number, bits: number): void {
    if (this.bitPos + bits > this.bytes.length * 8) throw new RangeError('BitWriter capacity exceeded');
    for (let remaining = bits; remaining > 0;) {
      const byteIndex = this.bitPos >>> 3;
      const free = 8 - (this.bitPos & 7);
      const take = remaining < free ? remaining : free;
      // The `take` bits of value just below bit `remaining`.
      const chunk = Math.floor(value / 2 ** (remaining - take)) & ((1 << take) - 1);
      this.bytes[byteIndex] |= chunk << (free - take);
      this.bitPos += take;
      remaining -= take;
    }
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
    return this.bytes.subarray(0, (this.bitPos + 7) >>> 3);
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
    let value = 0;
    for (let remaining = bits; remaining > 0;) {
      const byte = this.bytes[this.bitPos >>> 3];
      const offset = this.bitPos & 7;
      const free = 8 - offset;
      const take = remaining < free ? remaining : free;
      const chunk = (byte >>> (free - take)) & ((1 << take) - 1);
      value = value * 2 ** take + chunk;
      this.bitPos += take;
      remaining -= take;
    }
    return value;
  }

  bit(): boolean {
    return this.read(1) === 1;
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
