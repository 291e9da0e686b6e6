/**
 * Stateless reset (RFC 9000 §10.3) on real sockets: what the endpoint answers to short-header
 * packets for connection ids it does not know (size, token, rate, counting), and what it is for:
 * a client of a server that died without a word learns it at its next packet, when the
 * replacement process (same port, same statelessResetKey) answers with a reset, instead of
 * waiting out its idle timeout (30 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { WebTransportServer } from '../../../../server/h3/server.js';
import { NodeWebTransport } from '../../../../server/h3/client/node-webtransport.js';
import { LOCAL_CID_LENGTH, MIN_STATELESS_RESET_BYTES, STATELESS_RESETS_PER_SECOND } from '../../../../server/h3/quic/limits.js';
import { RawUdpPeer } from '../helpers/abandoned-handshakes.js';
import { testCert } from '../helpers/cert.js';
import { timedReader, waitFor } from '../helpers/util.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const cert = testCert();
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A short-header packet (RFC 9000 §17.3) of `size` bytes to connection id `cid`. */
function shortPacket(cid: Uint8Array, size: number): Buffer {
  const p = randomBytes(size);
  p[0] = 0x40 | (p[0] & 0x3f);
  p.set(cid, 1);
  return p;
}

const expectedToken = (key: Uint8Array, cid: Uint8Array) => createHmac('sha256', key).update(cid).digest().subarray(0, 16);

describe('stateless reset', () => {
  it('answers a stray short-header packet with a smaller reset ending in the token of its connection id, counted', async () => {
    const key = randomBytes(32);
    const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'], statelessResetKey: key });
    const { port } = await server.listen();
    cleanup.push(() => server.close());
    const peer = await RawUdpPeer.bind();
    cleanup.push(() => peer.close());

    const sizes = [MIN_STATELESS_RESET_BYTES + 1, 30, 43, 44, 200, 1200];
    const cids = sizes.map(() => randomBytes(LOCAL_CID_LENGTH));
    sizes.forEach((size, i) => peer.send(shortPacket(cids[i], size), port));
    await waitFor(() => peer.receivedPackets === sizes.length);
    // Replies may arrive in any order: match them by their token.
    for (const [i, size] of sizes.entries()) {
      const token = expectedToken(key, cids[i]);
      const reset = peer.datagrams.find((d) => d.subarray(d.length - 16).equals(token));
      expect(reset, `reset for a ${size}-byte packet`).toBeDefined();
      // §10.3.3: smaller than the trigger; §10.3: at least 21 bytes, a short header.
      expect(reset!.length).toBeLessThan(size);
      expect(reset!.length).toBeGreaterThanOrEqual(MIN_STATELESS_RESET_BYTES);
      if (size <= 43) expect(reset!.length).toBe(size - 1);
      expect(reset![0] & 0xc0).toBe(0x40);
    }
    // A packet that could itself be a (minimal) reset gets no answer: no loop between two
    // endpoints that both lost state.
    peer.send(shortPacket(randomBytes(LOCAL_CID_LENGTH), MIN_STATELESS_RESET_BYTES), port);
    await new Promise((r) => setTimeout(r, 200));
    expect(peer.receivedPackets).toBe(sizes.length);
    const refusals = server.refusals().filter((r) => r.layer === 'quic');
    expect(refusals.find((r) => r.reason === 'stateless_reset_sent')?.count).toBe(sizes.length);
    expect(refusals.find((r) => r.reason === 'unknown_connection')?.count).toBe(sizes.length + 1);
  });

  it('sends at most STATELESS_RESETS_PER_SECOND resets to a burst of stray packets', async () => {
    const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'] });
    const { port } = await server.listen();
    cleanup.push(() => server.close());
    const peer = await RawUdpPeer.bind();
    cleanup.push(() => peer.close());
    const burst = 3 * STATELESS_RESETS_PER_SECOND;
    for (let i = 0; i < burst; i++) peer.send(shortPacket(randomBytes(LOCAL_CID_LENGTH), 100), port);
    await waitFor(() => server.stats().endpoint.packetsDroppedUnknown === burst);
    const sent = server.stats().endpoint.statelessResetsSent;
    expect(sent).toBeGreaterThanOrEqual(STATELESS_RESETS_PER_SECOND);
    // The bucket refills while the burst is read; it never lets the whole burst through.
    expect(sent).toBeLessThan(burst);
    await waitFor(() => peer.receivedPackets === sent);
  });

  it('with statelessResetKey null, sends none', async () => {
    const server = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'], statelessResetKey: null });
    const { port } = await server.listen();
    cleanup.push(() => server.close());
    const peer = await RawUdpPeer.bind();
    cleanup.push(() => peer.close());
    peer.send(shortPacket(randomBytes(LOCAL_CID_LENGTH), 100), port);
    await waitFor(() => server.stats().endpoint.packetsDroppedUnknown === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(peer.receivedPackets).toBe(0);
  });

  it('a client of a server killed without a word is reset by its replacement (same port and key) at its next packet', async () => {
    const key = randomBytes(32);
    // tsx as a loader in one process (its CLI would run the script in a grandchild that
    // SIGKILL does not reach).
    const child: ChildProcess = spawn(process.execPath, [
      '--import', 'tsx', join(root, 'test', 'server', 'h3', 'fixtures', 'wt-echo-process.ts'), key.toString('hex'),
    ], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.push(() => {
      child.kill('SIGKILL');
    });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`server process exited (${code})`)));
    });
    const { port, certHash } = JSON.parse(line) as { port: number; certHash: string };

    const client = new NodeWebTransport(`https://127.0.0.1:${port}/wt`, {
      serverCertificateHashes: [{ algorithm: 'sha-256', value: Buffer.from(certHash, 'base64') }],
    });
    cleanup.push(() => client.close());
    await client.ready;
    const writer = client.datagrams.writable.getWriter();
    const read = timedReader(client.datagrams.readable.getReader());
    await writer.write(Uint8Array.of(1));
    expect((await read(5_000))?.value).toEqual(Uint8Array.of(1));
    let closed = false;
    void client.closed.then(() => { closed = true; }, () => { closed = true; });

    // The server process dies: no CONNECTION_CLOSE, no capsule, nothing.
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // Its replacement binds the same port with the same key. It knows no connection.
    const replacement = new WebTransportServer({ certPem: cert.certPem, keyPem: cert.keyPem, paths: ['/wt'], port, statelessResetKey: key });
    await replacement.listen();
    cleanup.push(() => replacement.close());

    // The client's next packet draws a stateless reset, and the client ends the connection then,
    // not after its 30 s idle timeout.
    await writer.write(Uint8Array.of(2));
    await waitFor(() => closed, 3_000);
    expect(replacement.stats().endpoint.statelessResetsSent).toBeGreaterThanOrEqual(1);
    writer.releaseLock();
  }, 30_000);
});
