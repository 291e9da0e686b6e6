/**
 * The link check's two ends (link-check.ts runs them in the two namespaces):
 *
 *   probe-entry.ts --mode responder --host A --port P
 *       echoes every probe with its own receive and send times; answers `stats` on stdin with
 *       how many distinct probes it received and echoed.
 *   probe-entry.ts --mode prober --host A --port P --count N --interval-ms I [--size B] [--drain-ms D]
 *                  [--samples-file F]
 *       sends N probes, I ms apart, and emits a `result` with RTT and one-way delays; with
 *       --samples-file also writes every echo as CSV (seq, send time, RTT, up, down; ms).
 *
 * Times are process.hrtime (CLOCK_MONOTONIC), which is one clock for the whole machine and
 * every network namespace, so one-way delays per direction need no clock sync.
 *
 * Probe (client->server), big-endian:   0 magic 'TWLQ' | 4 seq u32 | 8 client send ns u64
 * Echo (server->client), same buffer:   0 magic 'TWLA' | ... | 16 server receive ns u64 | 24 server send ns u64
 */
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { flag, parseFlags } from '../../tools/lib/args.js';
import { emit, endWithHarness, fail, serveCommands } from '../../tools/lib/child-entry.js';
import { summarize } from '../metrics.js';

const MAGIC_PROBE = 0x54574c51; // 'TWLQ'
const MAGIC_ECHO = 0x54574c41; // 'TWLA'
const HEADER_BYTES = 32;
/** Bounds: a measuring stick, never a load generator. */
const MAX_PROBES = 200_000;
const MIN_INTERVAL_MS = 0.1;
const MAX_SIZE = 1200;
/** Probes sent per timer tick at most, so a coarse timer cannot stretch the run. */
const BURST_LIMIT = 8;
/** Socket buffers sized so a burst is never lost in the receiving process (that would read as link loss). */
const UDP_BUFFER_BYTES = 8 * 1024 * 1024;

const { values: args } = parseFlags(process.argv.slice(2), {
  mode: flag.choice(['responder', 'prober'] as const),
  host: flag.string(),
  port: flag.int(0, 65_535),
  count: flag.int(1, MAX_PROBES),
  'interval-ms': flag.number(MIN_INTERVAL_MS, 60_000),
  size: flag.int(HEADER_BYTES, MAX_SIZE),
  'drain-ms': flag.int(100, 600_000),
  'samples-file': flag.string(),
});
const host = args.host ?? '127.0.0.1';
const port = args.port ?? 0;

function now(): bigint {
  return process.hrtime.bigint();
}

function responder(): void {
  const sock = createSocket({ type: 'udp4', recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES });
  // Distinct probes by sequence number; bounded by MAX_PROBES (seq beyond it is ignored).
  const seen = new Uint8Array(MAX_PROBES);
  let received = 0;
  let duplicates = 0;
  let ignored = 0;
  sock.on('message', (msg, rinfo) => {
    const t = now();
    if (msg.length < HEADER_BYTES || msg.readUInt32BE(0) !== MAGIC_PROBE) {
      ignored++;
      return;
    }
    const seq = msg.readUInt32BE(4);
    if (seq >= MAX_PROBES) {
      ignored++;
      return;
    }
    if (seen[seq]) duplicates++;
    else {
      seen[seq] = 1;
      received++;
    }
    msg.writeUInt32BE(MAGIC_ECHO, 0);
    msg.writeBigUInt64BE(t, 16);
    msg.writeBigUInt64BE(now(), 24);
    sock.send(msg, rinfo.port, rinfo.address);
  });
  sock.bind(port, host, () => emit('ready', { port: sock.address().port }));
  serveCommands((c) => {
    if (c.cmd === 'stats') emit('stats', { received, duplicates, ignored, echoed: received + duplicates });
  });
}

function prober(): void {
  const count = args.count ?? 1000;
  const intervalMs = args['interval-ms'] ?? 2;
  const size = args.size ?? 200;
  const drainMs = args['drain-ms'] ?? 1000;
  // Stop (and so stop sending) when the harness stops us or goes away.
  endWithHarness();
  const sock = createSocket({ type: 'udp4', recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES });
  const got = new Uint8Array(count);
  const samplesFile = args['samples-file'];
  const sendMs: number[] = [];
  const seqs: number[] = [];
  const rtt: number[] = [];
  const up: number[] = [];
  const down: number[] = [];
  let duplicates = 0;
  let reordered = 0;
  let maxSeq = -1;
  sock.on('message', (msg) => {
    const t = now();
    if (msg.length < HEADER_BYTES || msg.readUInt32BE(0) !== MAGIC_ECHO) return;
    const seq = msg.readUInt32BE(4);
    if (seq >= count) return;
    if (got[seq]) {
      duplicates++;
      return;
    }
    got[seq] = 1;
    if (seq < maxSeq) reordered++;
    else maxSeq = seq;
    const sent = msg.readBigUInt64BE(8);
    const srvIn = msg.readBigUInt64BE(16);
    const srvOut = msg.readBigUInt64BE(24);
    seqs.push(seq);
    sendMs.push(Number(sent - start) / 1e6);
    rtt.push(Number(t - sent) / 1e6);
    up.push(Number(srvIn - sent) / 1e6);
    down.push(Number(t - srvOut) / 1e6);
  });
  // The send time of probe 0: CSV times are relative to it.
  let start = 0n;
  sock.bind(0, () => {
    let seq = 0;
    start = now();
    const tick = () => {
      // Send what is due by now (schedule from the start time, so timer lateness does not slow the rate).
      const dueCount = Math.min(count, Math.floor(Number(now() - start) / 1e6 / intervalMs) + 1);
      for (let k = 0; k < BURST_LIMIT && seq < dueCount; k++) {
        const buf = Buffer.alloc(size);
        buf.writeUInt32BE(MAGIC_PROBE, 0);
        buf.writeUInt32BE(seq++, 4);
        buf.writeBigUInt64BE(now(), 8);
        sock.send(buf, port, host);
      }
      if (seq < count) {
        setTimeout(tick, Math.max(0, intervalMs / 2));
        return;
      }
      const elapsedMs = Number(now() - start) / 1e6;
      setTimeout(() => {
        if (samplesFile) {
          const rows = seqs.map((q, i) => `${q},${sendMs[i].toFixed(3)},${rtt[i].toFixed(3)},${up[i].toFixed(3)},${down[i].toFixed(3)}`);
          writeFileSync(samplesFile, `seq,send_ms,rtt_ms,up_ms,down_ms\n${rows.join('\n')}\n`);
        }
        emit('result', {
          sent: count,
          echoed: rtt.length,
          duplicates,
          reordered,
          intervalMs,
          size,
          sendMs: elapsedMs,
          rttMs: summarize(rtt),
          upMs: summarize(up),
          downMs: summarize(down),
          rttMinMs: rtt.length ? rtt.reduce((a, b) => Math.min(a, b)) : null,
        });
        sock.close(() => process.exit(0));
      }, drainMs);
    };
    tick();
  });
}

switch (args.mode) {
  case 'responder':
    responder();
    break;
  case 'prober':
    prober();
    break;
  default:
    fail('--mode is required: responder or prober', 2);
}
