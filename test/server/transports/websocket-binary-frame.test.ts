// binaryFrame's header for each of RFC 6455 §5.2's three payload-length forms (7-bit, 16-bit,
// 64-bit), and the stamp written in the frame's copy only.
import { describe, expect, it } from 'vitest';
import { binaryFrame } from '../../../server/transports/websocket.js';

function payloadOf(n: number): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (i * 7) & 0xff;
  return p;
}

describe('binaryFrame (RFC 6455 §5.2, server to client: FIN, opcode 2, unmasked)', () => {
  it('writes the 7-bit length up to 125 bytes', () => {
    const f = binaryFrame(payloadOf(125));
    expect([...f.subarray(0, 2)]).toEqual([0x82, 125]);
    expect(new Uint8Array(f.subarray(2))).toEqual(payloadOf(125));
  });

  it('writes 126 and a 16-bit length from 126 to 65,535 bytes', () => {
    const f = binaryFrame(payloadOf(65_535));
    expect([...f.subarray(0, 4)]).toEqual([0x82, 126, 0xff, 0xff]);
    expect(f.length).toBe(4 + 65_535);
  });

  it('writes 127 and a 64-bit big-endian length from 65,536 bytes', () => {
    const n = 0x01_02_03; // 66,051
    const f = binaryFrame(payloadOf(n));
    expect([...f.subarray(0, 10)]).toEqual([0x82, 127, 0, 0, 0, 0, 0x00, 0x01, 0x02, 0x03]);
    expect(new Uint8Array(f.subarray(10))).toEqual(payloadOf(n));
  });

  it('writes a stamp into the frame, not into the payload', () => {
    const p = payloadOf(20);
    const f = binaryFrame(p, 1, 0xa1b2c3d4);
    expect([...f.subarray(3, 7)]).toEqual([0xa1, 0xb2, 0xc3, 0xd4]);
    expect(p).toEqual(payloadOf(20));
  });
});
