/**
 * server/h3/h3-transport.ts: the narrow QUIC interface is what `QuicConnection` offers (checked
 * by the compiler and at run time), and the default scheduler runs and cancels timers.
 */
import { describe, expect, it } from 'vitest';
import { QuicConnection } from '../../../server/h3/quic/quic-connection.js';
import { nodeH3Scheduler, type H3Transport } from '../../../server/h3/h3-transport.js';
import { ScriptedTransport } from './helpers/scripted-transport.js';

/** Compile-time: a QuicConnection (and the test transport) can be handed to the HTTP/3 layer. */
const asTransport = (q: QuicConnection | ScriptedTransport): H3Transport => q;

describe('H3Transport', () => {
  it('lists only members QuicConnection has', () => {
    void asTransport;
    const methods: Array<keyof H3Transport> = [
      'openStream', 'write', 'resetStream', 'stopSending', 'queuedBytes', 'forgetStream', 'afterFlush',
      'sendDatagram', 'purgeDatagrams', 'maxDatagramPayload', 'close',
    ];
    for (const m of methods) expect(typeof (QuicConnection.prototype as unknown as Record<string, unknown>)[m], m).toBe('function');
  });
});

describe('nodeH3Scheduler', () => {
  it('runs a timer after its delay and not once cancelled', async () => {
    const ran: string[] = [];
    const t0 = nodeH3Scheduler.now();
    nodeH3Scheduler.after(5, () => ran.push('a'));
    nodeH3Scheduler.after(5, () => ran.push('b')).cancel();
    await new Promise((r) => setTimeout(r, 30));
    expect(ran).toEqual(['a']);
    expect(nodeH3Scheduler.now()).toBeGreaterThanOrEqual(t0 + 5);
  });
});
