import { describe, expect, it } from 'vitest';
import { parsePlan, waveStarts } from '../../../bench/soak/plan.js';
import { ATTACK_KINDS } from '../../../bench/soak/attacks/index.js';
import { UsageError } from '../../../tools/lib/args.js';

const rooms = ['arena', 'churn1', 'churn2', 'churn3', 'churn4'];

describe('soak plan', () => {
  it('the full soak by default: 30 minutes, waves every 3 minutes of 90 s, memory windows of a wave cycle', () => {
    expect(parsePlan([])).toEqual({
      smoke: false, net: 'auto', playMs: 1_800_000, botsPerTransport: 12, probeAddresses: 16, probeEveryMs: 5_000,
      reconnectEveryMs: [120_000, 240_000], chatEveryMs: [4_000, 8_000], lossPct: 5, attacks: [...ATTACK_KINDS],
      sourcesPerAttack: 2, waves: waveStarts(1_800_000, 90_000, 180_000, 90_000), waveMs: 90_000, processPerAttack: true,
      sampleEveryMs: 10_000, progressEveryMs: 30_000, warmupMs: 300_000, memoryWindowMs: 180_000, quiesceTimeoutMs: 90_000,
      shortTimings: false, rooms, seed: 1, out: null, help: false,
    });
  });

  it('the smoke: 18 s with one 10 s wave after 2 s, short timings, no memory windows', () => {
    expect(parsePlan(['--smoke'])).toEqual({
      smoke: true, net: 'auto', playMs: 18_000, botsPerTransport: 3, probeAddresses: 4, probeEveryMs: 1_500,
      reconnectEveryMs: [4_000, 8_000], chatEveryMs: [700, 1_500], lossPct: 5, attacks: [...ATTACK_KINDS],
      sourcesPerAttack: 1, waves: [2_000], waveMs: 10_000, processPerAttack: false, sampleEveryMs: 2_000,
      progressEveryMs: 4_000, warmupMs: 0, memoryWindowMs: 0, quiesceTimeoutMs: 20_000, shortTimings: true,
      rooms, seed: 1, out: null, help: false,
    });
  });

  it('flags set what they name on both kinds', () => {
    const argv = ['--bots', '14', '--loss', '2', '--net', 'loopback', '--attacks', 'garbage,idle-tcp', '--seed', '7', '--out', 'x.jsonl'];
    for (const p of [parsePlan(argv), parsePlan(['--smoke', ...argv])]) {
      expect(p).toMatchObject({ botsPerTransport: 14, lossPct: 2, net: 'loopback', attacks: ['garbage', 'idle-tcp'], seed: 7, out: 'x.jsonl' });
    }
    const p = parsePlan(['--minutes', '10', '--wave-every', '60', '--wave-seconds', '20']);
    expect(p).toMatchObject({ playMs: 600_000, waveMs: 20_000, warmupMs: 100_000, memoryWindowMs: 60_000 });
    expect(p.waves).toEqual(waveStarts(600_000, 30_000, 60_000, 20_000));
    expect(parsePlan(['--smoke', '--minutes', '1', '--wave-seconds', '20'])).toMatchObject({ playMs: 60_000, waveMs: 20_000, waves: [2_000] });
  });

  it('refuses waves that do not fit', () => {
    expect(() => parsePlan(['--smoke', '--wave-seconds', '17'])).toThrow(UsageError);
    expect(() => parsePlan(['--wave-every', '60', '--wave-seconds', '61'])).toThrow(UsageError);
  });

  it('keeps the order of the config line\'s fields', () => {
    const order = ['net', 'lossPct', 'attacks', 'rooms', 'seed', 'out', 'help', 'smoke', 'playMs', 'botsPerTransport', 'probeAddresses',
      'probeEveryMs', 'reconnectEveryMs', 'chatEveryMs', 'sourcesPerAttack', 'waves', 'waveMs', 'processPerAttack', 'sampleEveryMs',
      'progressEveryMs', 'warmupMs', 'memoryWindowMs', 'quiesceTimeoutMs', 'shortTimings'];
    expect(Object.keys(parsePlan([]))).toEqual(order);
    expect(Object.keys(parsePlan(['--smoke']))).toEqual(order);
  });

  it('two plans never share their arrays', () => {
    const a = parsePlan([]);
    a.reconnectEveryMs[0] = 1;
    a.chatEveryMs[0] = 1;
    expect(parsePlan([]).reconnectEveryMs[0]).toBe(120_000);
    expect(parsePlan([]).chatEveryMs[0]).toBe(4_000);
  });

  it('wave starts: every wave ends within the play', () => {
    expect(waveStarts(100, 10, 30, 20)).toEqual([10, 40, 70]);
    expect(waveStarts(100, 90, 30, 20)).toEqual([]);
  });
});
