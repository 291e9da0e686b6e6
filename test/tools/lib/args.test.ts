import { describe, expect, it } from 'vitest';
import { flag, parseFlags, UsageError } from '../../../tools/lib/args.js';

const SPEC = {
  count: flag.int(1, 10),
  ratio: flag.number(0, 1),
  ps: flag.ints(2, 512),
  loss: flag.numbers(0, 100),
  mode: flag.choice(['fast', 'slow'] as const),
  transports: flag.choices(['webtransport', 'websocket'] as const, { wt: 'webtransport', ws: 'websocket' }),
  url: flag.origin(),
  out: flag.string(),
  quick: flag.boolean(),
};

describe('parseFlags', () => {
  it('reads every kind, with a space or an equals sign', () => {
    const r = parseFlags(['--count', '3', '--ratio=0.25', '--ps', '16, 64', '--loss', '0,2.5', '--mode', 'slow',
      '--transports', 'WT,ws,webtransport', '--url', 'http://h:1/x?y', '--out=a=b', '--quick'], SPEC);
    expect(r.values).toEqual({
      count: 3, ratio: 0.25, ps: [16, 64], loss: [0, 2.5], mode: 'slow', transports: ['webtransport', 'websocket'],
      url: 'http://h:1', out: 'a=b', quick: true,
    });
    expect([...r.given].sort()).toEqual(['count', 'loss', 'mode', 'out', 'ps', 'quick', 'ratio', 'transports', 'url']);
    expect(r.help).toBe(false);
  });

  it('leaves absent flags undefined and notices --help and -h', () => {
    expect(parseFlags([], SPEC)).toEqual({ values: {}, given: new Set(), help: false });
    expect(parseFlags(['-h'], SPEC).help).toBe(true);
    expect(parseFlags(['--count', '2', '--help'], SPEC)).toMatchObject({ values: { count: 2 }, help: true });
  });

  it('takes a value that looks like a flag or a negative number as the value', () => {
    const s = { nice: flag.int(-20, 19), room: flag.string() };
    expect(parseFlags(['--nice', '-10', '--room', '--x'], s).values).toEqual({ nice: -10, room: '--x' });
  });

  it.each([
    [['--count'], '--count needs a value'],
    [['--count', '0'], '--count needs an integer in [1, 10], got "0"'],
    [['--count', '2.5'], '--count needs an integer in [1, 10], got "2.5"'],
    [['--count', ''], '--count needs an integer in [1, 10], got ""'],
    [['--ratio', 'x'], '--ratio needs a number in [0, 1], got "x"'],
    [['--ps', '16,1'], '--ps needs an integer in [2, 512], got "1"'],
    [['--ps', '16,,64'], '--ps needs a comma-separated list of integers in [2, 512], got "16,,64"'],
    [['--loss', '101'], '--loss needs a number in [0, 100], got "101"'],
    [['--mode', 'warp'], '--mode needs one of fast, slow, got "warp"'],
    [['--transports', 'wt,udp'], '--transports needs one of webtransport, websocket, wt, ws, got "udp"'],
    [['--url', 'ftp://x'], '--url needs an http(s) origin, got "ftp://x"'],
    [['--url', 'not a url'], '--url needs an http(s) origin, got "not a url"'],
    [['--out', ''], '--out needs a value'],
    [['--quick=yes'], '--quick takes no value'],
    [['--frobnicate', '1'], 'unknown flag "--frobnicate"'],
    [['--frob=1'], 'unknown flag "--frob"'],
    [['--constructor', '1'], 'unknown flag "--constructor"'],
    [['stray'], 'unexpected argument "stray"'],
  ])('refuses %j: %s', (argv, message) => {
    let err: unknown;
    try {
      parseFlags(argv, SPEC);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(message);
  });
});
