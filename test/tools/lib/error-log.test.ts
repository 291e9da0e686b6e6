import { describe, expect, it } from 'vitest';
import { ErrorLog } from '../../../tools/lib/error-log.js';

describe('ErrorLog', () => {
  it('counts every error, keeps the first few, and says how many more', () => {
    const seen: string[] = [];
    const log = new ErrorLog(2, (m) => seen.push(m));
    expect(log.summary()).toEqual([]);
    for (const m of ['a', 'b', 'c', 'd']) log.note(m);
    expect(log.count).toBe(4);
    expect(log.samples).toEqual(['a', 'b']);
    expect(log.summary()).toEqual(['a', 'b', '... 2 more']);
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
    log.samples.push('x');
    expect(log.samples).toEqual(['a', 'b']);
  });
});
