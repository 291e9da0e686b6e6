/**
 * The reliable stream's framing as the WebTransport channel uses it: shared/framing.ts
 * (`varint length | message`, RFC 9000 §16 varints), behind a two-method seam so the channel
 * does not depend on the decoder's result shape.
 */
import { encodeFrame, FrameDecoder } from '../../shared/framing.js';

export interface ReliableFrameDecoder {
  /** Whole messages completed by this chunk; `error` set when the stream is unusable. */
  push(chunk: Uint8Array): { messages: Uint8Array[]; error: string | null };
}

export interface ReliableFraming {
  encode(message: Uint8Array): Uint8Array;
  createDecoder(): ReliableFrameDecoder;
}

export const reliableFraming: ReliableFraming = {
  encode: (message) => encodeFrame(message),
  createDecoder() {
    const decoder = new FrameDecoder();
    return {
      push(chunk) {
        const r = decoder.push(chunk);
        return r.ok ? { messages: r.frames, error: null } : { messages: r.frames, error: `${r.reason}: ${r.detail}` };
      },
    };
  },
};
