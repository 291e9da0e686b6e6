// Size of one `input` message (client to server, unreliable, 20 Hz, the newest input and the
// three before it) as encodeMessage writes it, next to the protocol-1 form, in which every
// non-integral direction component travelled as a msgpack float64 (9 bytes). Prints JSON lines.
//   npx tsx bench/input-size.ts
// Sizes are deterministic (seeded): they measure the codec, not the machine.
//
// Scenarios: `random` is the standard-scene bench's light client (bench/standard-scene/
// light-client.ts: each component uniform in [-1, 1], a fresh input every tick), `diagonal` is a
// keyboard held on a diagonal (unit vector, 0.7071 per axis), `axis` a keyboard on one axis
// (components 0 and ±1, which were already 1-byte integers in protocol 1). `seq` and `ack` are
// those of a session five minutes in (6000 inputs; snapshot ids are shared by a server's
// sessions, so the ack is larger).
import { Packr } from 'msgpackr';
import { encodeMessage, RECORD_STRUCTURES } from '../shared/codec.js';
import { MAX_INPUTS_PER_MESSAGE } from '../shared/limits.js';
import type { InputVector } from '../shared/messages.js';
import { seededRandom } from '../shared/random.js';
import { writeJsonLine } from '../tools/lib/json-lines.js';
import { mean } from '../tools/lib/stats.js';

const INPUT_HZ = 20;
const SEQ = 6000;
const ACK = 120_000;

/** The protocol-1 encoder: the same record structures, with `inputs` as nested msgpack arrays. */
const v1 = new Packr({
  structures: RECORD_STRUCTURES.map((k) => [...k]), useRecords: true, maxSharedStructures: RECORD_STRUCTURES.length,
  maxOwnStructures: 0, bundleStrings: false, moreTypes: false, mapsAsObjects: true,
});
const v1Bytes = (seq: number, ack: number, inputs: InputVector[]): number => 1 + v1.pack({ seq, ack, inputs }).length;

const r = seededRandom(1);
const d = Math.SQRT1_2;
const scenarios: [string, () => InputVector][] = [
  ['random', () => [r() * 2 - 1, r() * 2 - 1]],
  ['diagonal', () => [d, -d]],
  ['axis', () => [1, 0]],
];

for (const [scenario, next] of scenarios) {
  const sizes = { before: [] as number[], after: [] as number[] };
  for (let i = 0; i < 200; i++) {
    const inputs = Array.from({ length: MAX_INPUTS_PER_MESSAGE }, next);
    sizes.before.push(v1Bytes(SEQ + i, ACK + i, inputs));
    sizes.after.push(encodeMessage('input', { seq: SEQ + i, ack: ACK + i, inputs }).length);
  }
  const before = mean(sizes.before)!;
  const after = mean(sizes.after)!;
  writeJsonLine({
    bench: 'input-size', scenario, inputsPerMessage: MAX_INPUTS_PER_MESSAGE, seq: SEQ, ack: ACK,
    bytesBefore: +before.toFixed(2), bytesAfter: +after.toFixed(2),
    bytesPerSecondBefore: Math.round(before * INPUT_HZ), bytesPerSecondAfter: Math.round(after * INPUT_HZ),
  });
}
