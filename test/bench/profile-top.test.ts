import { describe, expect, it } from 'vitest';
import { callersOf, topSelfBytes, topSelfTime } from '../../bench/standard-scene/profile-top.js';
import { parseArgs } from '../../bench/standard-scene/args.js';

describe('topSelfTime', () => {
  it('sums sample time per function, largest first, with shares', () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 } },
        { id: 2, callFrame: { functionName: 'encode', url: 'file:///repo/shared/snapshot/encode.ts', lineNumber: 89 } },
        { id: 3, callFrame: { functionName: 'send', url: 'file:///repo/server/h3/quic/endpoint.ts', lineNumber: 220 } },
      ],
      samples: [2, 3, 2, 2, 1],
      timeDeltas: [1000, 500, 2000, 1000, 500],
    };
    const top = topSelfTime(profile, 2, '/repo');
    expect(top).toEqual([
      { fn: 'encode', where: 'shared/snapshot/encode.ts:90', selfMs: 4, share: 0.8 },
      { fn: 'send', where: 'server/h3/quic/endpoint.ts:221', selfMs: 0.5, share: 0.1 },
    ]);
  });
});

describe('callersOf', () => {
  it('splits one function\'s self time by its callers, largest first', () => {
    const frame = (functionName: string) => ({ functionName, url: '', lineNumber: -1 });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 4] },
        { id: 2, callFrame: frame('flush'), children: [3] },
        { id: 3, callFrame: frame('native'), children: [] },
        { id: 4, callFrame: frame('receive'), children: [5] },
        { id: 5, callFrame: frame('native'), children: [] },
      ],
      samples: [3, 5, 3, 2, 1],
      timeDeltas: [3000, 1000, 1000, 500, 500],
    };
    expect(callersOf(profile, 'native', 5)).toEqual([
      { callers: 'flush < (root)', selfMs: 4, share: 0.8 },
      { callers: 'receive < (root)', selfMs: 1, share: 0.2 },
    ]);
  });
});

describe('topSelfBytes', () => {
  it('sums sampled allocation per function over the whole tree, largest first, with shares', () => {
    const frame = (functionName: string, lineNumber: number) => ({ functionName, url: 'file:///repo/server/a.ts', lineNumber });
    const head = {
      callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, selfSize: 0,
      children: [
        { callFrame: frame('build', 9), selfSize: 3000, children: [{ callFrame: frame('slice', 19), selfSize: 4000, children: [] }] },
        { callFrame: frame('build', 9), selfSize: 1000, children: [] },
        { callFrame: frame('tiny', 29), selfSize: 2000, children: [] },
      ],
    };
    expect(topSelfBytes(head, 2, '/repo')).toEqual([
      { fn: 'build', where: 'server/a.ts:10', selfBytes: 4000, share: 0.4 },
      { fn: 'slice', where: 'server/a.ts:20', selfBytes: 4000, share: 0.4 },
    ]);
  });
});

describe('--profile-server', () => {
  it('takes a folder', () => {
    expect(parseArgs(['--profile-server', '/tmp/p']).profileServerDir).toBe('/tmp/p');
    expect(parseArgs([]).profileServerDir).toBeNull();
    expect(() => parseArgs(['--profile-server'])).toThrow();
  });
});
