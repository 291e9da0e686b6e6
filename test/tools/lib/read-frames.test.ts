import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../shared/framing.js';
import { readFrames } from '../../../tools/lib/read-frames.js';

/** A readable stream of `chunks`, then its end or an error. */
function streamOf(chunks: Uint8Array[], end: 'close' | 'error' = 'close'): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      if (end === 'close') c.close();
      else c.error(new Error('reset'));
    },
  });
}

const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

describe('readFrames', () => {
  it('hands over whole frames in order however the bytes are chunked, until the end', async () => {
    const bytes = concat(encodeFrame(Uint8Array.of(1, 2, 3)), encodeFrame(new Uint8Array(300).fill(7)), encodeFrame(Uint8Array.of(9)));
    const chunks = [bytes.subarray(0, 2), bytes.subarray(2, 5), bytes.subarray(5, 200), bytes.subarray(200)];
    const got: number[][] = [];
    await readFrames(streamOf(chunks), (f) => got.push([f.length, f[0]]));
    expect(got).toEqual([[3, 1], [300, 7], [1, 9]]);
  });

  it('stops at a broken frame, keeping the frames before it', async () => {
    const got: number[] = [];
    await readFrames(streamOf([concat(encodeFrame(Uint8Array.of(4)), Uint8Array.of(0)), encodeFrame(Uint8Array.of(5))]), (f) => got.push(f[0]));
    expect(got).toEqual([4]);
  });

  it('resolves, never rejects, when the stream fails', async () => {
    const got: number[] = [];
    await readFrames(streamOf([encodeFrame(Uint8Array.of(6))], 'error'), (f) => got.push(f[0]));
    expect(got).toEqual([]); // an errored stream drops what it still held
  });
});
