import { describe, expect, it } from 'vitest';
import { UsageError } from '../../tools/lib/args.js';
import { DEFAULT_ARGS, parseArgs } from '../../bench/standard-scene/args.js';

describe('bench:scene flags', () => {
  it('defaults to P=16,64,256,512, two runs, 3 s warm-up, 10 s window, both transports and the peer', () => {
    const a = parseArgs([]);
    expect(a).toEqual({ ...DEFAULT_ARGS });
    expect(a.ps).toEqual([16, 64, 256, 512]);
    expect(a.transports).toEqual(['webtransport', 'websocket']);
  });

  it('--quick is P=64, one run, 3 s window; explicit flags still win', () => {
    expect(parseArgs(['--quick'])).toMatchObject({ ps: [64], runs: 1, windowS: 3, warmupS: 3, quick: true, peer: true });
    expect(parseArgs(['--window', '5', '--quick'])).toMatchObject({ ps: [64], runs: 1, windowS: 5 });
    expect(parseArgs(['--quick', '--ps=16'])).toMatchObject({ ps: [16], runs: 1, windowS: 3 });
  });

  it('parses lists, inline values and transport names', () => {
    const a = parseArgs(['--ps', '16, 64,64', '--runs=3', '--warmup', '0', '--window', '2.5', '--transports', 'ws', '--no-peer']);
    expect(a).toMatchObject({ ps: [16, 64], runs: 3, warmupS: 0, windowS: 2.5, transports: ['websocket'], peer: false });
    expect(parseArgs(['--transports', 'WebTransport,wt,ws']).transports).toEqual(['webtransport', 'websocket']);
    expect(parseArgs(['--peer-only']).peerOnly).toBe(true);
  });

  it.each([
    [['--ps', '1']], [['--ps', '0']], [['--ps', '64,abc']], [['--ps']], [['--ps', '5000']],
    [['--runs', '0']], [['--runs', '1.5']], [['--runs', '99']],
    [['--window', '0']], [['--window', '1000']], [['--warmup', '-1']],
    [['--transports', 'udp']], [['--bogus']], [['--peer-only', '--no-peer']],
  ])('refuses %j with a UsageError', (argv) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
  });
});

describe('--load-client', () => {
  it('defaults to light and accepts full', () => {
    expect(parseArgs([]).loadClient).toBe('light');
    expect(parseArgs(['--load-client', 'full']).loadClient).toBe('full');
    expect(() => parseArgs(['--load-client', 'heavy'])).toThrow(UsageError);
    expect(() => parseArgs(['--load-client'])).toThrow(UsageError);
  });
});
