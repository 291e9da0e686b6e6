/**
 * Native calls per packet (issue 12): each call into the quiche binding converts its arguments
 * at the N-API boundary, so the endpoint makes only those a packet needs. Counted on the real
 * binding (every call of the server connection's quiche object passes through a counting
 * wrapper) during a sequential datagram echo over real UDP on loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { QuicConnection } from '../../../../server/h3/quic/quic-connection.js';
import { closeQuicPairs, quicPair } from '../helpers/quic-pair.js';
import { waitFor } from '../helpers/util.js';

afterEach(closeQuicPairs);

/** Wraps `conn`'s quiche object so that every method call is counted by name. */
function countNativeCalls(conn: QuicConnection): Map<string, number> {
  const counts = new Map<string, number>();
  const native = Reflect.get(conn, 'native') as object;
  const wrapped = new Proxy(native, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        counts.set(String(prop), (counts.get(String(prop)) ?? 0) + 1);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  Reflect.set(conn, 'native', wrapped);
  return counts;
}

describe('native calls per packet', () => {
  it('a datagram echo costs recv, the datagram queue length, dgramRecv, isReadable, dgramSend, two send and timeout; the datagram budget and an empty purge cost nothing per packet', async () => {
    let counts: Map<string, number> | null = null;
    let budgets = 0;
    let echoes = 0;
    const { server, client } = await quicPair({
      server: (conn) => ({
        onDatagram: (d) => {
          // What the game does per snapshot: size it, purge the stale one, send.
          if ((conn.maxDatagramPayload() ?? 0) > 0) budgets++;
          conn.purgeDatagrams(() => true);
          conn.sendDatagram(d);
        },
      }),
      client: {
        onDatagram: () => {
          echoes++;
        },
      },
    });
    // Warm up (the handshake's own calls are not per packet), then count.
    client.sendDatagram(Uint8Array.of(0));
    await waitFor(() => echoes === 1);
    counts = countNativeCalls(server);
    budgets = 0;
    const N = 200;
    const started = performance.now();
    for (let i = 1; i <= N; i++) {
      client.sendDatagram(Uint8Array.of(i & 0xff));
      await waitFor(() => echoes === 1 + i, 5_000, 1);
      // Spaced out as game traffic is: every packet is a loop turn of its own.
      await new Promise((r) => setTimeout(r, 3));
    }
    // The endpoint's sweep (every 500 ms) forgets the cached budget: one read per sweep.
    const sweeps = Math.ceil((performance.now() - started) / 500);
    const c = counts;
    const total = [...c.values()].reduce((a, b) => a + b, 0);
    const per = (name: string) => (c.get(name) ?? 0) / N;
    expect(budgets).toBe(N);
    // Per echo: recv, dgramRecvQueueLen, dgramRecv, isReadable, dgramSendQueueLen (the purge's
    // check: nothing queued), dgramSend, send (the packet), send (null), timeout = 9; the
    // sweep's checks every 500 ms add a little. On a busy machine the client's ACK timer may fire
    // between echoes (the loop's 3 ms pause grows), and so may quiche's timers here: each such
    // ACK-only packet is one more recv with the checks of a packet that carries nothing to read
    // (datagram queue, isReadable, the close state, a flush: send, timeout), each timer that
    // fires an onTimeout with the same checks; both are allowed for below, so a quiet run is
    // held to 9.5 per echo exactly as before.
    const extraPackets = (c.get('recv') ?? 0) - N;
    expect(extraPackets).toBeGreaterThanOrEqual(0);
    expect(extraPackets).toBeLessThan(N / 4);
    expect(per('dgramSend')).toBe(1);
    expect(c.get('dgramPurgeOutgoing') ?? 0).toBe(0);
    expect(c.get('dgramMaxWritableLen') ?? 0).toBeLessThanOrEqual(1 + sweeps);
    const timerFires = c.get('onTimeout') ?? 0;
    expect((c.get('isDraining') ?? 0) + (c.get('isClosed') ?? 0)).toBeLessThan(N / 10 + 2 * (extraPackets + timerFires));
    expect(c.get('streamCapacity') ?? 0).toBe(0);
    expect((total - 8 * extraPackets - 7 * timerFires) / N).toBeLessThanOrEqual(9.5);
  }, 30_000);
});
