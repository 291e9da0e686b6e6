/**
 * CPU per client snapshot on the WebSocket send path, in process (no sockets): what a shared
 * snapshot encoding costs per client to become that client's frame. Before, it was stamped into
 * a copy (withLastInputSeq) and the copy framed (binaryFrame): two copies. Now the frame is built
 * from the shared bytes with the stamp written in it (binaryFrame with a stamp, what
 * WebSocketConnection.sendUnreliableStamped does): one copy. Message sizes are the standard
 * scene's snapshot sizes (docs/profiling.md: about 200 B at 64 players, 735 B at 256); the bytes
 * are random (a copy's cost does not depend on them). Prints one JSON line per path and size:
 * nanoseconds of CPU (user + system) per client snapshot, median of 5 rounds.
 *
 *   nice -n 10 npx tsx bench/ws-snapshot-frame.ts [--messages 1000000]
 */
import { randomBytes } from 'node:crypto';
import { SNAPSHOT_MESSAGE_ID } from '../shared/messages.js';
import { LAST_INPUT_SEQ_OFFSET, u32, withLastInputSeq } from '../shared/snapshot/index.js';
import { binaryFrame } from '../server/transports/websocket.js';
import { cliArgs, flag, parseFlags } from '../tools/lib/args.js';
import { writeJsonLine } from '../tools/lib/json-lines.js';
import { median } from '../tools/lib/stats.js';

const USAGE = 'usage: npx tsx bench/ws-snapshot-frame.ts [--messages 1000000]';
const FLAGS = { messages: flag.int(1000, 100_000_000) };
const ROUNDS = 5;
/** Standard-scene snapshot message sizes (bytes) by player count. */
const SIZES: Record<string, number> = { 'P=64': 200, 'P=256': 735 };
/** Clients served from one shared encoding before the next one (a cell's worth). */
const CLIENTS_PER_ENCODING = 64;

function main(): void {
  const { values } = cliArgs(() => parseFlags(process.argv.slice(2), FLAGS), USAGE);
  const n = values.messages ?? 1_000_000;
  let sink = 0;
  const paths: Record<string, (shared: Uint8Array, seq: number) => Uint8Array> = {
    'two copies (stamp, then frame)': (shared, seq) => binaryFrame(withLastInputSeq(shared, seq)),
    'one copy (stamp in the frame)': (shared, seq) => binaryFrame(shared, LAST_INPUT_SEQ_OFFSET, u32(seq)),
  };
  for (const [scene, size] of Object.entries(SIZES)) {
    const encodings = Array.from({ length: 16 }, () => {
      const b = new Uint8Array(randomBytes(size));
      b[0] = SNAPSHOT_MESSAGE_ID;
      return b;
    });
    const results: Record<string, number[]> = {};
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, send] of Object.entries(paths)) {
        const start = process.cpuUsage();
        for (let i = 0; i < n; i++) {
          const frame = send(encodings[((i / CLIENTS_PER_ENCODING) | 0) & 15]!, i);
          sink += frame[frame.length - 1]! + frame[6]!;
        }
        const used = process.cpuUsage(start);
        (results[name] ??= []).push(((used.user + used.system) * 1000) / n);
      }
    }
    for (const [name, ns] of Object.entries(results)) {
      writeJsonLine({ scene, messageBytes: size, path: name, messages: n, nsPerSnapshot: Math.round(median(ns) ?? 0), rounds: ns.map(Math.round) });
    }
  }
  if (sink === 0) throw new Error('no frame built');
}

main();
