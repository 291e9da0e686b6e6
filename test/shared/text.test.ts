import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CHAT_TEXT_LENGTH, MAX_NAME_LENGTH } from '../../shared/limits.js';
import { MAX_COMBINING_MARKS_PER_CHARACTER, sanitizeDisplayName, sanitizeText } from '../../shared/text.js';

const name = sanitizeDisplayName;

describe('sanitizeText: one rule set for names and chat (a test per rule)', () => {
  it('rule 1: NFC, so a decomposed letter and its precomposed form come out equal', () => {
    expect(name('Jose\u0301')).toBe('Jos\u00e9');
    expect(name('Jose\u0301')).toBe(name('Jos\u00e9'));
  });

  it('rule 2: NUL and other C0/C1 controls and DEL are removed', () => {
    expect(name('Ada\u0000')).toBe('Ada');
    expect(name('Bob\u0000\u0007Smith')).toBe('BobSmith');
    expect(name('x\u007fy\u0085z\u009fw')).toBe('xyzw');
  });

  it('rule 2: ANSI / ECMA-48 escape sequences go whole, leaving no debris', () => {
    expect(name('\u001b[31mred\u001b[0m')).toBe('red');
    expect(name('\u001b[1;32;40mX')).toBe('X');
    expect(name('\u001b]0;owned\u0007T')).toBe('T');
    expect(name('\u001b(BZ')).toBe('Z');
    expect(name('\u009b2JQ')).toBe('Q');
  });

  it('rule 2: bidi embeddings, overrides (U+202A-202E) and isolates (U+2066-2069) are removed', () => {
    expect(name('abc\u202egnp.exe')).toBe('abcgnp.exe');
    for (const cp of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]) {
      expect(name(`a${String.fromCodePoint(cp)}b`), cp.toString(16)).toBe('ab');
    }
    // LRM / RLM stay: they steer only neutral characters.
    expect(name('a\u200fb')).toBe('a\u200fb');
  });

  it('rule 2: invisible look-alike and blank-name characters are removed, line separators too', () => {
    for (const cp of [0x00ad, 0x200b, 0x2060, 0x2061, 0x2064, 0xfeff, 0xfff9, 0xfffb, 0x3164, 0xffa0, 0x2028, 0x2029]) {
      expect(name(`ad${String.fromCodePoint(cp)}min`), cp.toString(16)).toBe('admin');
    }
    expect(name('\u3164\u3164\u3164')).toBe('');
  });

  it('rule 3: zero width joiners stay between visible characters only, one per run', () => {
    const family = '\u{1f468}\u200d\u{1f469}\u200d\u{1f467}';
    expect(name(family)).toBe(family);
    expect(name('\u200dab\u200c')).toBe('ab');
    expect(name('a\u200d\u200d\u200db')).toBe('a\u200db');
    expect(name('a \u200c b')).toBe('a b');
  });

  it('rule 4: at most MAX_COMBINING_MARKS_PER_CHARACTER marks after one character', () => {
    const zalgo = `z${'\u0336\u0337\u0338\u0339\u033a'.repeat(4)}`;
    expect([...name(zalgo)].length).toBe(1 + MAX_COMBINING_MARKS_PER_CHARACTER);
    // Vietnamese (decomposed: two marks) and a keycap emoji survive intact.
    expect(name('e\u0323\u0302')).toBe('e\u0323\u0302'.normalize('NFC'));
    expect(name('1\ufe0f\u20e3')).toBe('1\ufe0f\u20e3');
  });

  it('rule 5: whitespace runs of any kind become one space, the ends are trimmed', () => {
    expect(name('  Alice  ')).toBe('Alice');
    expect(name('a\t\n  \u00a0\u3000b')).toBe('a b');
  });

  it('rule 6: cut to the limit in UTF-16 units at a grapheme boundary', () => {
    expect(name('x'.repeat(100))).toBe('x'.repeat(MAX_NAME_LENGTH));
    expect(name('a' + '\u{1f600}'.repeat(20))).toBe('a' + '\u{1f600}'.repeat(MAX_NAME_LENGTH / 2 - 1));
    // A family emoji is 8 units: 'ab' + two of them fit 18 units, a third would not.
    const family = '\u{1f468}\u200d\u{1f469}\u200d\u{1f467}';
    expect(name(`ab${family.repeat(4)}`)).toBe(`ab${family.repeat(2)}`);
    // A letter with its marks is not split from them.
    expect(name(`${'x'.repeat(22)}q\u0323\u0302`)).toBe('x'.repeat(22));
  });

  it('chat uses the same rules with its own length', () => {
    expect(sanitizeText(`\u001b[2J hi \u202e there\u0000 ${'y'.repeat(300)}`, MAX_CHAT_TEXT_LENGTH)).toBe(`hi there ${'y'.repeat(MAX_CHAT_TEXT_LENGTH - 9)}`);
  });

  it('property: idempotent, within the limit, no lone surrogates, nothing it removes is left', () => {
    const removed = /[\u0000-\u0008\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b\ufeff]/;
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 80 }), fc.integer({ min: 1, max: 40 }), (raw, max) => {
      const out = sanitizeText(raw, max);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(sanitizeText(out, max)).toBe(out);
      expect(out).not.toMatch(removed);
      expect(out).toBe(out.trim());
      expect(out).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    }), { numRuns: 2000 });
  });
});
