import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../tools/lib/args.js';
import { MAX_BOT_COUNT, parseBotArgs } from '../../../tools/bots/args.js';

describe('bots CLI arguments', () => {
  it('parses the documented command line', () => {
    expect(parseBotArgs(['--url', 'http://127.0.0.1:8080/', '--transport', 'wt', '--count', '16', '--duration', '2.5'])).toEqual({
      url: 'http://127.0.0.1:8080', transport: 'wt', count: 16, durationS: 2.5, seed: 1, verbose: false, help: false,
    });
    expect(parseBotArgs(['--room', 'r1', '--seed', '9', '--verbose'])).toMatchObject({ room: 'r1', seed: 9, verbose: true });
  });

  it('has defaults for everything', () => {
    expect(parseBotArgs([])).toMatchObject({ url: 'http://127.0.0.1:8080', transport: 'ws', count: 2, durationS: 5 });
    expect(parseBotArgs(['--help']).help).toBe(true);
  });

  it.each([
    [['--transport', 'udp'], /--transport needs one of ws, wt, auto/],
    [['--count', '0'], /--count needs an integer in \[1, 2000\]/],
    [['--count', String(MAX_BOT_COUNT + 1)], /--count/],
    [['--count', '1.5'], /--count needs an integer/],
    [['--duration', '-1'], /--duration needs a number/],
    [['--duration'], /--duration needs a value/],
    [['--url', 'ftp://x'], /--url needs an http\(s\) origin/],
    [['--frobnicate'], /unknown flag "--frobnicate"/],
  ])('refuses %j with a message naming the flag', (argv, message) => {
    expect(() => parseBotArgs(argv)).toThrow(UsageError);
    expect(() => parseBotArgs(argv)).toThrow(message);
  });
});
