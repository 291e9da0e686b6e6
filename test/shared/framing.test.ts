import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../shared/errors.js';
import { FRAME_BUFFER_INITIAL_BYTES, FrameDecoder, encodeFrame, varintLength, writeVarint } from '../../shared/framing.js';
import { MAX_RELIABLE_MESSAGE_BYTES } from '../../shared/limits.js';

const bytesOf = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const cat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};

describe('QUIC varint (RFC 9000 §16)', () => {
  it('matches the RFC 9000 Appendix A.1 examples', () => {
    const enc = (v: number) => { const b = new Uint8Array(varintLength(v)); writeVarint(b, 0, v); return [...b]; };
    expect(enc(37)).toEqual([0x25]);
    expect(enc(15293)).toEqual([0x7b, 0xbd]);
    expect(enc(494878333)).toEqual([0x9d, 0x7f, 0x3e, 0x7d]);
    // The RFC's 8-byte example exceeds 2^53; check the 8-byte form with a safe integer instead.
    expect(enc(2 ** 40)).toEqual([0xc0, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00]);
    expect([63, 64, 16383, 16384, 1073741823, 1073741824].map(varintLength)).toEqual([1, 2, 2, 4, 4, 8]);
    expect(() => writeVarint(new Uint8Array(8), 0, -1)).toThrow(RangeError);
  });
});

describe('encodeFrame / FrameDecoder', () => {
  it('round-trips frames at every length-prefix size boundary', () => {
    const frames = [1, 63, 64, 16383, 16384, 70000].map((n, i) => bytesOf(n, i));
    const d = new FrameDecoder();
    const r = d.push(cat(frames.map((f) => encodeFrame(f))));
    expect(r.ok).toBe(true);
    expect(r.frames).toEqual(frames);
    expect(d.bufferedBytes).toBe(0);
  });

  it('reassembles a stream split at every possible position, and byte by byte', () => {
    const frames = [bytesOf(5), bytesOf(100, 2), bytesOf(1, 3)];
    const wire = cat(frames.map((f) => encodeFrame(f)));
    for (let cut = 0; cut <= wire.length; cut++) {
      const d = new FrameDecoder();
      const a = d.push(wire.subarray(0, cut));
      const b = d.push(wire.subarray(cut));
      expect([...a.frames, ...b.frames]).toEqual(frames);
    }
    const d = new FrameDecoder();
    const got: Uint8Array[] = [];
    for (const byte of wire) got.push(...d.push(Uint8Array.of(byte)).frames);
    expect(got).toEqual(frames);
  });

  it('returns copies the caller owns (reusing the chunk buffer does not corrupt frames)', () => {
    const chunk = encodeFrame(bytesOf(10));
    const d = new FrameDecoder();
    const [frame] = d.push(chunk).frames;
    chunk.fill(0);
    expect(frame).toEqual(bytesOf(10));
  });

  it('accepts a non-minimal length encoding (RFC 9000 §16 allows it)', () => {
    const d = new FrameDecoder();
    const r = d.push(Uint8Array.from([0xc0, 0, 0, 0, 0, 0, 0, 3, 7, 8, 9]));
    expect(r).toEqual({ ok: true, frames: [Uint8Array.from([7, 8, 9])] });
  });

  it('refuses a frame over the limit from its header alone, keeping earlier frames', () => {
    const d = new FrameDecoder(1000);
    const header = new Uint8Array(2);
    writeVarint(header, 0, 1001);
    const r = d.push(cat([encodeFrame(bytesOf(3)), header]));
    expect(r).toMatchObject({ ok: false, reason: 'too_large', code: ErrorCode.MESSAGE_TOO_LARGE });
    expect(r.frames).toEqual([bytesOf(3)]);
    expect(d.bufferedBytes).toBe(0);
    expect(d.failed).toBe(true);
    // A failed decoder stays failed: the stream cannot be resynchronised.
    expect(d.push(encodeFrame(bytesOf(3)))).toMatchObject({ ok: false, frames: [] });
  });

  it('refuses a huge 8-byte length without allocating it', () => {
    const d = new FrameDecoder();
    const r = d.push(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(r).toMatchObject({ ok: false, reason: 'too_large' });
  });

  it('refuses a zero-length frame (no message id)', () => {
    const r = new FrameDecoder().push(Uint8Array.from([0x00]));
    expect(r).toMatchObject({ ok: false, reason: 'decode', code: ErrorCode.BAD_MESSAGE });
  });

  it('encodeFrame refuses empty and oversize messages (our own bug)', () => {
    expect(() => encodeFrame(new Uint8Array(0))).toThrow(RangeError);
    expect(() => encodeFrame(new Uint8Array(MAX_RELIABLE_MESSAGE_BYTES + 1))).toThrow(RangeError);
    expect(() => encodeFrame(new Uint8Array(11), 10)).toThrow(RangeError);
  });

  it('property: any frames under any chunking come out whole and in order', () => {
    fc.assert(fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }),
      (frames, cuts) => {
        const wire = cat(frames.map((f) => encodeFrame(f)));
        const d = new FrameDecoder(300);
        const got: Uint8Array[] = [];
        let at = 0;
        let k = 0;
        while (at < wire.length) {
          const n = cuts[k++ % cuts.length];
          const r = d.push(wire.subarray(at, at + n));
          expect(r.ok).toBe(true);
          got.push(...r.frames);
          at += n;
        }
        expect(got).toEqual(frames);
      },
    ), { numRuns: 500 });
  });

  it('property: random bytes never throw and never buffer more than one frame', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
      const d = new FrameDecoder(512);
      for (const c of chunks) {
        const r = d.push(c);
        for (const f of r.frames) expect(f.length).toBeLessThanOrEqual(512);
        expect(d.bufferedBytes).toBeLessThanOrEqual(512 + 8);
      }
    }), { numRuns: 1000 });
  });
});

describe('FrameDecoder memory follows delivered bytes, not announced lengths', () => {
  const announce = (n: number) => {
    const header = new Uint8Array(varintLength(n));
    writeVarint(header, 0, n);
    return header;
  };

  it('1,000 decoders each fed a max-size announcement hold O(bytes delivered)', () => {
    const before = process.memoryUsage().arrayBuffers;
    const decoders = Array.from({ length: 1_000 }, () => new FrameDecoder());
    for (const d of decoders) expect(d.push(cat([announce(MAX_RELIABLE_MESSAGE_BYTES), bytesOf(10)])).ok).toBe(true);
    const grown = process.memoryUsage().arrayBuffers - before;
    // Announced: 1,000 x 256 KiB = 262 MB. Delivered: 10 bytes each.
    expect(decoders.reduce((n, d) => n + d.allocatedBytes, 0)).toBeLessThanOrEqual(1_000 * FRAME_BUFFER_INITIAL_BYTES);
    expect(grown).toBeLessThan(16 * 1024 * 1024);
    expect(decoders.every((d) => d.bufferedBytes === 10)).toBe(true);
  });

  it('a partial frame buffer stays within twice what arrived, and the frame comes out whole', () => {
    const frame = bytesOf(100_000, 9);
    const wire = cat([announce(frame.length), frame]);
    const d = new FrameDecoder();
    let got: Uint8Array[] = [];
    for (let at = 0; at < wire.length; at += 777) {
      got = d.push(wire.subarray(at, at + 777)).frames;
      if (got.length === 0) expect(d.allocatedBytes).toBeLessThanOrEqual(Math.max(FRAME_BUFFER_INITIAL_BYTES, 2 * d.bufferedBytes));
    }
    expect(got).toEqual([frame]);
    expect(d.allocatedBytes).toBe(0);
  });
});
