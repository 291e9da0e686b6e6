import { describe, expect, it } from 'vitest';
import { MAX_BOT_COUNT, parseBotArgs } from '../../../server/bots/args.js';

describe('bots CLI arguments', () => {
  it('parses the documented command line', () => {
    expect(parseBotArgs(['--url', 'http://127.0.0.1:8080/', '--transport', 'wt', '--count', '16', '--duration', '2.5'])).toEqual({
      url: 'http://127.0.0.1:8080', transport: 'wt', count: 16, durationS: 2.5, seed: 1, verbose: false,
    });
  });

  it('has defaults for everything', () => {
    expect(parseBotArgs([])).toMatchObject({ transport: 'ws', count: 2, durationS: 5 });
  });

  it('rejects bad values with a message naming the argument', () => {
    expect(() => parseBotArgs(['--transport', 'udp'])).toThrow(/--transport must be/);
    expect(() => parseBotArgs(['--count', '0'])).toThrow(/--count must be an integer/);
    expect(() => parseBotArgs(['--count', String(MAX_BOT_COUNT + 1)])).toThrow(/--count/);
    expect(() => parseBotArgs(['--count', '1.5'])).toThrow(/--count/);
    expect(() => parseBotArgs(['--duration', '-1'])).toThrow(/--duration/);
    expect(() => parseBotArgs(['--duration'])).toThrow(/needs a value/);
    expect(() => parseBotArgs(['--url', 'ftp://x'])).toThrow(/http/);
    expect(() => parseBotArgs(['--frobnicate'])).toThrow(/unknown argument/);
  });
});
