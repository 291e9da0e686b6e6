/**
 * server/h3/quic/quic-connection.ts, receive path: the datagrams of one packet reach the handler
 * in the order sent, each its own copy (the endpoint reads every packet into one shared scratch
 * buffer). On the real binding over loopback.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeQuicPairs, quicPair } from '../helpers/quic-pair.js';
import { waitFor } from '../helpers/util.js';

afterEach(closeQuicPairs);

describe('QuicConnection: received datagrams', () => {
  it('delivers the datagrams of one packet in order, each a copy of its own', async () => {
    const events: string[] = [];
    const datagrams: Uint8Array[] = [];
    const { serverEp, client } = await quicPair({
      server: () => ({
        onDatagram: (d) => {
          events.push(`datagram ${d[0]}`);
          datagrams.push(d);
        },
      }),
    });
    // Let the handshake's last ACKs (held up to ACK_COALESCE_MS) arrive first.
    await new Promise((r) => setTimeout(r, 150));
    const before = serverEp.stats().packetsIn;
    // One loop turn: three small datagrams leave in one packet.
    for (let i = 1; i <= 3; i++) expect(client.sendDatagram(new Uint8Array(20).fill(i))).toBe('sent');
    await waitFor(() => datagrams.length === 3);
    expect(serverEp.stats().packetsIn - before).toBe(1);
    expect(events).toEqual(['datagram 1', 'datagram 2', 'datagram 3']);
    // Each payload survived the reads after it (no view of the shared scratch buffer).
    datagrams.forEach((d, i) => expect([...d]).toEqual(new Array(20).fill(i + 1)));
    expect(new Set(datagrams.map((d) => d.buffer)).size).toBe(3);
  });
});
