/**
 * Reads the game's reliable stream as a Node tool or test sees it: the length-prefixed frames
 * (shared/framing.ts, RFC 9000 §16 varint lengths) of a WebTransport stream's readable side.
 */
import { FrameDecoder } from '../../shared/framing.js';

/**
 * Hands each whole frame of `readable` to `onFrame`, in order, until the stream ends, fails or
 * carries a frame the decoder refuses; resolves then (never rejects).
 */
export async function readFrames(readable: ReadableStream<Uint8Array>, onFrame: (frame: Uint8Array) => void): Promise<void> {
  const decoder = new FrameDecoder();
  const reader = readable.getReader();
  for (;;) {
    const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
    if (done || !value) return;
    const r = decoder.push(value);
    for (const f of r.frames) onFrame(f);
    if (!r.ok) return;
  }
}
