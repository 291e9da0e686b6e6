/**
 * CPU per client message on the WebSocket read path, in process (no sockets): ws's own receiver
 * (what every message went through before server/transports/ws-frame-reader.ts) against
 * `readWholeFrames`, on the standard scene's `input` messages framed and masked as a browser
 * sends them, one frame per chunk (what the server reads at the input rate). Both are handed
 * fresh copies of the same chunks (both unmask in place) and deliver every payload to a sink.
 * Prints one JSON line per reader: nanoseconds of CPU (user + system) per message, median of
 * 5 rounds.
 *
 *   npx tsx bench/ws-frame-read.ts [--messages 200000]
 */
import { randomBytes } from 'node:crypto';
import * as ws from 'ws';
import { encodeInput } from '../client/net/protocol.js';
import { RandomInputs } from '../tools/bots/light-client.js';
import { readWholeFrames } from '../server/transports/ws-frame-reader.js';
import { cliArgs, flag, parseFlags } from '../tools/lib/args.js';
import { writeJsonLine } from '../tools/lib/json-lines.js';
import { median } from '../tools/lib/stats.js';

const USAGE = 'usage: npx tsx bench/ws-frame-read.ts [--messages 200000]';
const FLAGS = { messages: flag.int(1000, 10_000_000) };
const ROUNDS = 5;
/** Distinct chunks cycled through (each copied before it is read). */
const DISTINCT = 1024;

/** ws's Receiver class (a named export of ws, not in its typings). */
interface Receiver {
  on(event: 'message', fn: (data: Buffer) => void): void;
  write(chunk: Buffer): boolean;
}
const ReceiverClass = (ws as unknown as { Receiver: new (o: object) => Receiver }).Receiver;

/** One masked binary frame, FIN set (RFC 6455 §5.2, §5.3), as a browser sends it. */
function clientFrame(payload: Uint8Array): Buffer {
  const header = payload.length < 126 ? 2 : 4;
  const out = Buffer.alloc(header + 4 + payload.length);
  out[0] = 0x82;
  if (header === 2) out[1] = 0x80 | payload.length;
  else {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(payload.length, 2);
  }
  const mask = randomBytes(4);
  mask.copy(out, header);
  for (let i = 0; i < payload.length; i++) out[header + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

function main(): void {
  const { values } = cliArgs(() => parseFlags(process.argv.slice(2), FLAGS), USAGE);
  const n = values.messages ?? 200_000;
  const inputs = new RandomInputs();
  const chunks = Array.from({ length: DISTINCT }, (_, i) => clientFrame(encodeInput({ seq: i + 1, ack: i, inputs: inputs.next() })));
  let sink = 0;
  const deliver = (p: Buffer) => { sink += p.length; };

  const readers: Record<string, () => (chunk: Buffer) => void> = {
    'ws Receiver': () => {
      const r = new ReceiverClass({ isServer: true, binaryType: 'nodebuffer', maxPayload: 1024 * 1024 });
      r.on('message', deliver);
      return (chunk) => { r.write(chunk); };
    },
    readWholeFrames: () => {
      const open = { readyState: 1 };
      return (chunk) => { readWholeFrames(chunk, 1024 * 1024, deliver, open); };
    },
  };
  const results: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, make] of Object.entries(readers)) {
      const read = make();
      const start = process.cpuUsage();
      for (let i = 0; i < n; i++) read(Buffer.from(chunks[i % DISTINCT]!));
      const used = process.cpuUsage(start);
      (results[name] ??= []).push(((used.user + used.system) * 1000) / n);
    }
  }
  for (const [name, ns] of Object.entries(results)) {
    writeJsonLine({ reader: name, messages: n, nsPerMessage: Math.round(median(ns) ?? 0), rounds: ns.map(Math.round) });
  }
  if (sink === 0) throw new Error('nothing delivered');
}

main();
