/**
 * The game server over real WebTransport (quiche on loopback) against a client that breaks the
 * reliable stream's framing: the one protocol-error rule (`error` first, counted, no resume), and
 * memory that follows what a peer delivers, not what it announces. Bounded: a few dozen sessions.
 * The protocol-error rule and admission also with the QUIC endpoint on a worker thread (the
 * errors and the peer's address cross the hand-off); the memory check reads this thread's
 * ArrayBuffers, so it runs in-thread only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createDevCertificate } from '../../certs/dev-cert.js';
import { NodeWebTransport } from '../../server/h3/index.js';
import { createGameServer, mintTicket, type GameServer } from '../../server/index.js';
import { WT_MAX_CLIENT_FRAME_BYTES } from '../../server/transports/webtransport.js';
import { encodeMessage } from '../../shared/codec.js';
import { ErrorCode } from '../../shared/errors.js';
import { encodeFrame, writeVarint } from '../../shared/framing.js';
import { MAX_RELIABLE_MESSAGE_BYTES } from '../../shared/limits.js';
import { PROTOCOL_VERSION } from '../../shared/messages.js';
import { wtGameClient, type WtGameClient } from '../server/wt-test-client.js';

const secret = 'wt-abuse-secret-0123456789ab';
let server: GameServer | null = null;
const transports: NodeWebTransport[] = [];

afterEach(async () => {
  for (const t of transports.splice(0)) { try { t.close(); } catch { /* closed */ } }
  await server?.close();
  server = null;
});

/** `workers`: the QUIC endpoint on that many worker threads (0: in-thread). */
async function start(workers = 0) {
  const cert = createDevCertificate();
  server = createGameServer({
    ticketSecret: secret, httpPort: 0, metrics: { public: true },
    webTransport: { port: 0, certPem: cert.certPem, keyPem: cert.keyPem, workers },
  });
  const info = await server.listen();
  return { info, hash: cert.sha256 };
}

/** A raw game client on WebTransport: sends frames of its choosing, reads the server's messages. */
function rawClient(url: string, hash: Uint8Array): Promise<WtGameClient> {
  return wtGameClient(url, hash, transports);
}

async function until(pred: () => boolean, what: string, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function header(length: number): Uint8Array {
  const h = new Uint8Array(4);
  const end = writeVarint(h, 0, length);
  return h.subarray(0, end);
}

describe.each([0, 1])('one rule for protocol errors over WebTransport: `error` first, counted, not resumable (workers: %i)', (workers) => {
  const cases: [string, Uint8Array, number, string][] = [
    ['zero-length frame', Uint8Array.of(0), ErrorCode.BAD_MESSAGE, 'protocol_empty_frame'],
    ['oversized frame', header(MAX_RELIABLE_MESSAGE_BYTES + 1), ErrorCode.MESSAGE_TOO_LARGE, 'protocol_frame_too_large'],
    ['frame longer than any client message', header(WT_MAX_CLIENT_FRAME_BYTES + 1), ErrorCode.MESSAGE_TOO_LARGE, 'protocol_frame_too_large'],
    ['invalid message', encodeFrame(Uint8Array.of(5, 0xc1)), ErrorCode.BAD_MESSAGE, 'protocol_invalid_field'],
  ];
  for (const [what, bytes, code, reason] of cases) {
    it(`${what} in a session -> error ${code}, then the close, session gone`, async () => {
      const { info, hash } = await start(workers);
      const c = await rawClient(info.webTransportUrl!, hash);
      await c.writer.write(encodeFrame(encodeMessage('hello', { v: PROTOCOL_VERSION, ticket: mintTicket(secret, { playerId: 'p', name: 'p', room: 'arena' }) })));
      await until(() => c.of('welcome').length === 1, 'welcome');
      await c.writer.write(bytes);
      await until(() => c.closeCode !== null, 'close');
      expect(c.of('error').map((e) => e.code)).toEqual([code]);
      expect(c.closeCode).toBe(code);
      expect(server!.sessions.get('p')).toBeUndefined();
      const text = await (await fetch(`${info.httpUrl}/metrics`)).text();
      expect(text).toMatch(new RegExp(`^tickwire_refusals_total\\{layer="game",reason="${reason}"\\} 1$`, 'm'));
      expect(text).toMatch(/^tickwire_session_closes_total\{code="[A-Z_]+"\} 1$/m);
    });
  }
});

describe('announced frames cost what is delivered, not what is announced', () => {
  it('30 WebTransport sessions announcing the largest frame hold no frame buffers; each is refused with `error` first', async () => {
    const { info, hash } = await start();
    // 30: within one address's share of pending hellos (MAX_PENDING_PER_ADDRESS).
    const clients: Awaited<ReturnType<typeof rawClient>>[] = [];
    for (let i = 0; i < 30; i++) clients.push(await rawClient(info.webTransportUrl!, hash));
    // Every session speaks first (a hello each), so each has a live reliable stream and session.
    await Promise.all(clients.map((c, i) => c.writer.write(encodeFrame(encodeMessage('hello', {
      v: PROTOCOL_VERSION, ticket: mintTicket(secret, { playerId: `m${i}`, name: 'm', room: 'arena' }),
    })))));
    await until(() => clients.every((c) => c.of('welcome').length === 1), 'welcomes', 20_000);
    const before = process.memoryUsage().arrayBuffers;
    // 30 x 256 KiB = 7.9 MB announced; 4 bytes delivered each.
    await Promise.all(clients.map((c) => c.writer.write(header(MAX_RELIABLE_MESSAGE_BYTES))));
    await until(() => clients.every((c) => c.closeCode !== null), 'every session refused', 20_000);
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(4 * 1024 * 1024);
    for (const c of clients) {
      expect(c.closeCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
      expect(c.of('error').map((e) => e.code)).toEqual([ErrorCode.MESSAGE_TOO_LARGE]);
    }
    expect(server!.sessions.list()).toHaveLength(0);
  }, 60_000);
});

describe.each([0, 1])('WebTransport admission (workers: %i)', (workers) => {
  it("allowed origins: 'self' admits this server's pages; another origin, or none, is refused at CONNECT", async () => {
    const cert = createDevCertificate();
    server = createGameServer({
      ticketSecret: secret, httpPort: 0, allowedOrigins: 'self',
      webTransport: { port: 0, certPem: cert.certPem, keyPem: cert.keyPem, workers },
    });
    const info = await server.listen();
    const open = (origin?: string) => {
      const wt = new NodeWebTransport(info.webTransportUrl!, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.sha256 }], origin });
      transports.push(wt);
      return wt.ready;
    };
    await expect(open('http://evil.example')).rejects.toThrow();
    await expect(open()).rejects.toThrow();
    await expect(open(info.httpUrl)).resolves.toBeUndefined();
  });

  it('a session beyond its address share is closed with SERVER_BUSY', async () => {
    const cert = createDevCertificate();
    server = createGameServer({
      ticketSecret: secret, httpPort: 0, admission: { maxPendingPerAddress: 1 },
      webTransport: { port: 0, certPem: cert.certPem, keyPem: cert.keyPem, workers },
    });
    const info = await server.listen();
    await rawClient(info.webTransportUrl!, cert.sha256);
    const second = new NodeWebTransport(info.webTransportUrl!, { serverCertificateHashes: [{ algorithm: 'sha-256', value: cert.sha256 }] });
    transports.push(second);
    await second.ready.catch(() => undefined);
    await second.closed.catch(() => undefined);
    // Checked at the server: the Node client reports a session closed in the same flight as
    // its CONNECT answer as a lost connection instead of the close code (server/h3's client).
    const text = await server.metrics.text();
    expect(text).toMatch(/^tickwire_refusals_total\{layer="game",reason="pending_per_address"\} 1$/m);
    expect(text).toMatch(/^tickwire_session_closes_total\{code="SERVER_BUSY"\} 1$/m);
  });
});
