/**
 * A shared snapshot encoding stamped per client (Connection's sendUnreliableStamped): over a real
 * WebSocket the client receives exactly `withLastInputSeq(shared, seq)`, whether the stamp is
 * written in the frame (the one-copy path) or the message is held under congestion (an owned
 * stamped copy, which must not change when the shared bytes are reused for the next tick).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSnapshot, LAST_INPUT_SEQ_OFFSET, u32, withLastInputSeq } from '../../../shared/snapshot/index.js';
import { sendOnChannel } from '../../../server/transports/connection.js';
import { WS_UNRELIABLE_HIGH_WATER_BYTES } from '../../../server/transports/websocket.js';
import { Scene } from '../../shared/snapshot/scene.js';
import { closeWsPairs, wsPair } from './helpers/ws-pair.js';

afterEach(closeWsPairs);

/** A real snapshot message of a scene of `players` (its own lastInputSeq is 7). */
function sharedEncoding(players: number, seed = 3): Uint8Array {
  const scene = new Scene({ players, seed });
  const r = encodeSnapshot({ snapshotId: 1, serverTick: 1, serverTime: 1, lastInputSeq: 7, entities: scene.entities() }, 1200);
  if (!r.ok) throw new Error('encode failed');
  return r.bytes;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  expect(cond(), what).toBe(true);
}

/** Most messages the congestion loop sends; loopback buffers fill long before. */
const MAX_MESSAGES = 50_000;

describe('stamped unreliable sends over a real WebSocket', () => {
  it('the client receives withLastInputSeq(shared, seq) for every seq and size; the shared bytes stay as they were', async () => {
    const { conn, received } = await wsPair();
    // 7-bit and 16-bit frame lengths (RFC 6455 §5.2), and the seq's extremes.
    const shared = [sharedEncoding(2), sharedEncoding(64), sharedEncoding(256)];
    expect(shared[0]!.length).toBeLessThan(126);
    expect(shared[2]!.length).toBeGreaterThan(126);
    const seqs = [0, 1, 0x01020304, 2 ** 32 - 1, 2 ** 32 + 5, -1];
    const before = shared.map((b) => b.slice());
    const expected: Uint8Array[] = [];
    let bytes = 0;
    for (const b of shared) {
      for (const seq of seqs) {
        expect(conn.sendUnreliableStamped(b, LAST_INPUT_SEQ_OFFSET, u32(seq))).toBe(true);
        expected.push(withLastInputSeq(b, seq));
        bytes += b.length;
      }
    }
    shared.forEach((b, i) => expect(b).toEqual(before[i]));
    await until(() => received.length === expected.length, 'every message');
    expect(received).toEqual(expected);
    expect(conn.stats().messagesSentUnreliable).toBe(expected.length);
    expect(conn.stats().bytesSentUnreliable).toBe(bytes);
  });

  it('sendOnChannel with a stamp sends the same bytes on both channels, in order with plain sends', async () => {
    const { conn, received } = await wsPair();
    const b = sharedEncoding(64);
    expect(sendOnChannel(conn, 'unreliable', b, undefined, LAST_INPUT_SEQ_OFFSET, u32(41))).toBe(true);
    expect(sendOnChannel(conn, 'unreliable', b)).toBe(true);
    expect(sendOnChannel(conn, 'reliable', b, undefined, LAST_INPUT_SEQ_OFFSET, u32(42))).toBe(true);
    await until(() => received.length === 3, 'three messages');
    expect(received).toEqual([withLastInputSeq(b, 41), b, withLastInputSeq(b, 42)]);
  });

  it('a stamped message held under congestion is an owned copy: reusing the shared bytes does not change what arrives', async () => {
    const { conn, ws, received } = await wsPair();
    ws.pause();
    const shared = sharedEncoding(256);
    let seq = 0;
    let committed = -1;
    const options = { replaceKey: 'snapshot', commitTag: 0, onCommitted: (tag: number) => { committed = tag; } };
    // Fill the socket until messages are held (and one is replaced), as snapshots would be.
    while (conn.stats().unreliableReplaced < 2 && seq < MAX_MESSAGES) {
      options.commitTag = ++seq;
      expect(conn.sendUnreliableStamped(shared, LAST_INPUT_SEQ_OFFSET, seq, options)).toBe(true);
      if (seq % 200 === 0) await new Promise((r) => setImmediate(r)); // let libuv write
    }
    expect(conn.bufferedAmount).toBeGreaterThanOrEqual(WS_UNRELIABLE_HIGH_WATER_BYTES);
    expect(committed).toBeLessThan(seq); // the newest is held, not committed
    const original = shared.slice();
    const want = withLastInputSeq(shared, seq);
    // The next tick reuses the shared buffer: a held message must not see it.
    shared.fill(0xee);
    ws.resume();
    await until(() => received.length > 0 && received.at(-1)![1] === want[1] && received.at(-1)![4] === want[4], 'the newest message');
    expect(received.at(-1)).toEqual(want);
    expect(committed).toBe(seq);
    const seqOf = (m: Uint8Array) => new DataView(m.buffer, m.byteOffset).getUint32(LAST_INPUT_SEQ_OFFSET);
    for (const m of received) expect(m).toEqual(withLastInputSeq(original, seqOf(m)));
  });

  it('refuses after close, and counts the drop, as sendUnreliable does', async () => {
    const { conn } = await wsPair();
    conn.close(1000, 'bye');
    expect(conn.sendUnreliableStamped(sharedEncoding(8), LAST_INPUT_SEQ_OFFSET, 1)).toBe(false);
    expect(conn.stats().unreliableDropped).toBe(1);
  });
});
