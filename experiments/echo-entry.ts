/**
 * A tiny UDP and TCP echo pair used to prove the link impairment before (and independently of)
 * the game: the server side runs in one namespace, the client side in the other.
 *
 *   echo-entry.ts --mode udp-server --host A --port P      counts datagrams, echoes each back
 *   echo-entry.ts --mode udp-client --host A --port P --count N --interval-ms I
 *   echo-entry.ts --mode tcp-server --host A --port P      echoes bytes back
 *   echo-entry.ts --mode tcp-client --host A --port P --bytes B
 *
 * Each UDP probe carries a 4-byte sequence number, so duplicates would be visible (and counted).
 * Results are JSON event lines; the servers take the commands `stats` and `quit`
 * (tools/lib/child.ts protocol).
 */
import { createSocket } from 'node:dgram';
import { createServer, connect } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { flag, parseFlags } from '../tools/lib/args.js';
import { emit, fail, serveCommands } from '../tools/lib/child-entry.js';

/** Bounds: the probe is a measuring stick, never a load generator. */
const MAX_UDP_PROBES = 1_000_000;
const MAX_TCP_BYTES = 256 * 1024 * 1024;
/**
 * Socket receive buffer for the UDP probes: a probe burst must never overflow it, or a busy
 * machine's scheduling delay would show up as link loss.
 */
const UDP_RECV_BUFFER_BYTES = 8 * 1024 * 1024;
/** How long the UDP client waits for late echoes after its last send. */
const UDP_DRAIN_MS = 500;
/** A TCP transfer that takes longer than this under loss is reported as failed, not awaited. */
const TCP_TIMEOUT_MS = 60_000;

const { values: args } = parseFlags(process.argv.slice(2), {
  mode: flag.choice(['udp-server', 'udp-client', 'tcp-server', 'tcp-client'] as const),
  host: flag.string(),
  port: flag.int(0, 65_535),
  count: flag.int(1, MAX_UDP_PROBES),
  'interval-ms': flag.number(0, 60_000),
  size: flag.int(4, 1200),
  bytes: flag.int(1, MAX_TCP_BYTES),
});
const mode = args.mode;
const host = args.host ?? '127.0.0.1';
const port = args.port ?? 0;

function udpServer(): void {
  const sock = createSocket({ type: 'udp4', recvBufferSize: UDP_RECV_BUFFER_BYTES });
  const seen = new Set<number>();
  let received = 0;
  let duplicates = 0;
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 4) return;
    const seq = msg.readUInt32BE(0);
    received++;
    if (seen.has(seq)) duplicates++;
    else if (seen.size < MAX_UDP_PROBES) seen.add(seq);
    sock.send(msg, rinfo.port, rinfo.address);
  });
  sock.bind(port, host, () => emit('ready', { port: sock.address().port }));
  serveCommands((c) => {
    if (c.cmd === 'stats') emit('stats', { received, duplicates });
    if (c.cmd === 'quit') sock.close(() => process.exit(0));
  });
}

function udpClient(): void {
  const count = args.count ?? 1000;
  const intervalMs = args['interval-ms'] ?? 1;
  const size = args.size ?? 200;
  const sock = createSocket({ type: 'udp4', recvBufferSize: UDP_RECV_BUFFER_BYTES });
  const seen = new Set<number>();
  let duplicates = 0;
  sock.on('message', (msg) => {
    if (msg.length < 4) return;
    const seq = msg.readUInt32BE(0);
    if (seen.has(seq)) duplicates++;
    else seen.add(seq);
  });
  sock.bind(0, () => {
    let seq = 0;
    const tick = () => {
      // A few per tick keeps the total time bounded even with a coarse timer.
      for (let k = 0; k < 4 && seq < count; k++) {
        // A fresh buffer each time: dgram sends asynchronously and must not see it rewritten.
        const buf = Buffer.alloc(size);
        buf.writeUInt32BE(seq++, 0);
        sock.send(buf, port, host);
      }
      if (seq < count) setTimeout(tick, intervalMs);
      else setTimeout(() => {
        emit('result', { sent: count, echoed: seen.size, duplicates });
        sock.close(() => process.exit(0));
      }, UDP_DRAIN_MS);
    };
    tick();
  });
}

function tcpServer(): void {
  const server = createServer((s) => {
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  server.listen(port, host, () => {
    const a = server.address();
    emit('ready', { port: typeof a === 'object' && a ? a.port : port });
  });
  serveCommands((c) => {
    if (c.cmd === 'quit') server.close(() => process.exit(0));
  });
}

function tcpClient(): void {
  const total = args.bytes ?? 1_000_000;
  const payload = randomBytes(total);
  const want = createHash('sha256').update(payload).digest('hex');
  const got = createHash('sha256');
  let receivedBytes = 0;
  const started = Date.now();
  const s = connect(port, host, () => {
    s.end(payload);
  });
  const timer = setTimeout(() => {
    emit('result', { ok: false, error: 'timeout', receivedBytes, totalBytes: total });
    process.exit(1);
  }, TCP_TIMEOUT_MS);
  s.on('data', (d: Buffer) => {
    got.update(d);
    receivedBytes += d.length;
  });
  s.on('end', () => {
    clearTimeout(timer);
    const ok = receivedBytes === total && got.digest('hex') === want;
    emit('result', { ok, receivedBytes, totalBytes: total, elapsedMs: Date.now() - started });
    process.exit(ok ? 0 : 1);
  });
  s.on('error', (err) => {
    clearTimeout(timer);
    emit('result', { ok: false, error: err.message, receivedBytes, totalBytes: total });
    process.exit(1);
  });
}

switch (mode) {
  case 'udp-server': udpServer(); break;
  case 'udp-client': udpClient(); break;
  case 'tcp-server': tcpServer(); break;
  case 'tcp-client': tcpClient(); break;
  default:
    fail(`unknown --mode ${String(mode)}`, 2);
}
