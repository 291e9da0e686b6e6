import { describe, expect, it } from 'vitest';
import { parseJsonLine, writeJsonLine } from '../../../tools/lib/json-lines.js';

describe('JSON lines', () => {
  it('writes one object per line and reads it back', () => {
    let out = '';
    writeJsonLine({ kind: 'run', P: 64, x: null, nested: { a: [1, 2] } }, { write: (t: string) => (out += t) });
    writeJsonLine({ event: 'ready' }, { write: (t: string) => (out += t) });
    const lines = out.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(parseJsonLine(lines[0])).toEqual({ kind: 'run', P: 64, x: null, nested: { a: [1, 2] } });
    expect(parseJsonLine(`  ${lines[1]}  `)).toEqual({ event: 'ready' });
  });

  it.each(['', 'plain output', '[1,2]', '{"half": ', 'null', '42', '"{}"'])('treats %j as text, not an event', (line) => {
    expect(parseJsonLine(line)).toBeNull();
  });
});
