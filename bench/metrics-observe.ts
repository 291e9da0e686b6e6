/**
 * Cost of observing one tick duration: a plain prom-client Histogram's observe() (what the room
 * called per step and per snapshot before) against GameMetrics.observeTick() (counted locally,
 * handed to prom-client when scraped). Same buckets, same values (durations of 20-400 µs, like
 * real steps). Prints one JSON line per way: nanoseconds per observation (median of 5 rounds,
 * the two interleaved).
 *
 *   npx tsx bench/metrics-observe.ts [--iterations 1000000]
 */
import { Histogram, Registry } from 'prom-client';
import { GameMetrics, TICK_DURATION_BUCKETS } from '../server/metrics.js';
import { cliArgs, flag, parseFlags } from '../tools/lib/args.js';
import { writeJsonLine } from '../tools/lib/json-lines.js';
import { median } from '../tools/lib/stats.js';

const USAGE = 'usage: npx tsx bench/metrics-observe.ts [--iterations 1000000]';
const FLAGS = { iterations: flag.int(1000, 100_000_000) };
const ROUNDS = 5;

const { values } = cliArgs(() => parseFlags(process.argv.slice(2), FLAGS), USAGE);
const iterations = values.iterations ?? 1_000_000;

const durations = new Float64Array(1024);
for (let i = 0; i < durations.length; i++) durations[i] = (20 + ((i * 7919) % 380)) / 1e6;

const plain = new Histogram({ name: 'plain', help: 'plain', buckets: [...TICK_DURATION_BUCKETS], registers: [new Registry()] });
const metrics = new GameMetrics();
const ways: Record<string, (v: number) => void> = {
  'prom-client Histogram.observe': (v) => plain.observe(v),
  'GameMetrics.observeTick': (v) => metrics.observeTick(v),
};

const perObserve: Record<string, number[]> = {};
for (let round = 0; round <= ROUNDS; round++) {
  for (const [way, observe] of Object.entries(ways)) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) observe(durations[i & 1023]);
    const ns = Number(process.hrtime.bigint() - started) / iterations;
    // Round 0 warms both up (the optimising compiler) and is not counted.
    if (round > 0) (perObserve[way] ??= []).push(ns);
  }
}
for (const [way, ns] of Object.entries(perObserve)) {
  writeJsonLine({ bench: 'metrics-observe', way, nsPerObserve: Number((median(ns) ?? NaN).toFixed(1)) });
}
// Both saw the same values: the scrape must agree (a cheap check that the bench measured the real thing).
const ours = (await metrics.tickDuration.get()).values.map((v) => v.value);
const theirs = (await plain.get()).values.map((v) => v.value);
if (ours.join() !== theirs.join()) throw new Error(`histograms differ: ${ours.join()} vs ${theirs.join()}`);
