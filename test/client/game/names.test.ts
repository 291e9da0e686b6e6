import { describe, expect, it } from 'vitest';
import { cleanName, makeUpName } from '../../../client/game/names.js';
import { MAX_NAME_LENGTH } from '../../../shared/limits.js';

describe('makeUpName', () => {
  it('is deterministic for a given random source and fits the limit', () => {
    let i = 0;
    const seq = [0, 0.99, 0.42];
    const name = makeUpName(() => seq[i++ % 3]);
    expect(name).toBe('Swift Wombat 42');
    for (let k = 0; k < 100; k++) expect(makeUpName().length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
  });
});

describe('cleanName', () => {
  it.each([
    ['  Alice  ', 'Alice'],
    ['Bob\u0000\u0007Smith', 'BobSmith'],
    ['a\t\n  b', 'a b'],
    ['', ''],
    ['x'.repeat(100), 'x'.repeat(MAX_NAME_LENGTH)],
    ['😀'.repeat(20), '😀'.repeat(MAX_NAME_LENGTH / 2)],
    ['a' + '😀'.repeat(20), 'a' + '😀'.repeat(MAX_NAME_LENGTH / 2 - 1)],
  ])('%j -> %j', (raw, want) => {
    expect(cleanName(raw)).toBe(want);
    expect(cleanName(raw).length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
  });
});
