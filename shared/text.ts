/**
 * The one sanitiser for text a player shows to other players: display names and chat lines.
 * Both ends use it (the server on every name and line it broadcasts, the demo client on the name
 * it offers), so a rule lives here once. It never throws and is idempotent.
 *
 * Rules, in order (docs/protocol.md, "Text shown to other players"):
 * 1. Unicode NFC, so that one character has one spelling before anything is counted.
 * 2. Removed: terminal escape sequences whole (ECMA-48 CSI `ESC [ ... final`, OSC
 *    `ESC ] ... BEL`, other `ESC [intermediates] final`, C1 CSI U+009B), so an ANSI colour code
 *    leaves no debris; then C0 and C1 control characters and DEL, NUL included (tab, line feed
 *    and the other C0 whitespace stay for rule 5); the line and paragraph separators
 *    U+2028/U+2029; the bidi embeddings and overrides U+202A-U+202E and isolates U+2066-U+2069,
 *    which reorder the text around them ("Trojan Source", CVE-2021-42574); invisible characters
 *    that make two names look alike or a name look empty: soft hyphen, zero width space, word
 *    joiner, the invisible operators U+2061-U+2064, U+FEFF, the interlinear annotation
 *    characters U+FFF9-U+FFFB and the Hangul fillers U+3164 and U+FFA0. The marks LRM/RLM stay:
 *    they only steer neutral characters, and right-to-left text needs them.
 * 3. Zero width joiner and non-joiner (U+200D, U+200C) stay only between two visible characters,
 *    where emoji sequences and Indic and Persian spelling need them; leading, trailing, repeated
 *    or next to a space they go.
 * 4. At most MAX_COMBINING_MARKS_PER_CHARACTER combining marks after one base character (enough
 *    for Vietnamese, Thai and Indic syllables; "Zalgo" stacks are cut).
 * 5. Runs of whitespace of any kind become one space; the ends are trimmed.
 * 6. Cut to `maxLength` UTF-16 code units at a grapheme boundary (Intl.Segmenter where the
 *    runtime has it, else a code point boundary): an emoji sequence or a letter with its marks is
 *    kept whole or dropped whole, never split into a broken glyph or a lone surrogate.
 */
import { MAX_NAME_LENGTH } from './limits.js';

/** Combining marks kept after one base character (rule 4). */
export const MAX_COMBINING_MARKS_PER_CHARACTER = 3;

/** Display name used when nothing visible is left of the one given. */
export const FALLBACK_DISPLAY_NAME = 'player';

// Rule 2: ECMA-48 escape sequences (CSI with parameter, intermediate and final bytes; OSC up to
// BEL or ST; other escapes: intermediate bytes and one final byte), then single characters.
const ESCAPE_SEQUENCE = new RegExp(
  '\\u001b\\[[\\u0030-\\u003f]*[\\u0020-\\u002f]*[\\u0040-\\u007e]?'
  + '|\\u009b[\\u0030-\\u003f]*[\\u0020-\\u002f]*[\\u0040-\\u007e]?'
  + '|\\u001b\\][^\\u0007\\u001b]*(?:\\u0007|\\u001b\\\\)?'
  + '|\\u001b[\\u0020-\\u002f]*[\\u0030-\\u007e]',
  'g',
);
// Listed by code point so the source stays free of invisible characters.
const REMOVED = new RegExp(
  '[\\u0000-\\u0008\\u000e-\\u001f\\u007f-\\u009f\\u00ad\\u200b\\u2028\\u2029\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u2069'
  + '\\u3164\\ufeff\\ufff9-\\ufffb\\uffa0]',
  'g',
);
const JOINER = /^[\u200c\u200d]$/;
const VISIBLE = /^[^\s\u200c\u200d]/u;
const MARK_STACK = new RegExp(`(\\p{M}{${MAX_COMBINING_MARKS_PER_CHARACTER}})\\p{M}+`, 'gu');
const WHITESPACE = /\s+/g;

type Segmenter = { segment(text: string): Iterable<{ segment: string }> };
let segmenter: Segmenter | null | undefined;

/** Grapheme clusters of `text` (code points where Intl.Segmenter is missing). */
function graphemes(text: string): Iterable<string> {
  if (segmenter === undefined) {
    const Ctor = (Intl as unknown as { Segmenter?: new (locale?: string, o?: { granularity: string }) => Segmenter }).Segmenter;
    segmenter = Ctor ? new Ctor(undefined, { granularity: 'grapheme' }) : null;
  }
  if (!segmenter) return text;
  const s = segmenter;
  return (function* () {
    for (const g of s.segment(text)) yield g.segment;
  })();
}

/** Rule 3: a joiner stays only between two visible characters, and one of a run at most. */
function keepJoinersBetweenVisible(text: string): string {
  if (!/[\u200c\u200d]/.test(text)) return text;
  const cps = [...text];
  const out: string[] = [];
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i];
    if (JOINER.test(c)) {
      const prev = out[out.length - 1];
      const next = cps[i + 1];
      if (prev !== undefined && VISIBLE.test(prev) && next !== undefined && VISIBLE.test(next)) out.push(c);
      continue;
    }
    out.push(c);
  }
  return out.join('');
}

/** Rules 1-6 on `raw`; `maxLength` counts UTF-16 code units (the wire's string limits). */
export function sanitizeText(raw: string, maxLength: number): string {
  if (typeof raw !== 'string') return '';
  let s = raw.normalize('NFC').replace(ESCAPE_SEQUENCE, '').replace(REMOVED, '');
  s = keepJoinersBetweenVisible(s);
  s = s.replace(MARK_STACK, '$1').replace(WHITESPACE, ' ').trim();
  if (s.length <= maxLength) return s;
  let out = '';
  for (const g of graphemes(s)) {
    if (out.length + g.length > maxLength) break;
    out += g;
  }
  // A joiner ends the cluster before it (UAX #29 GB9), so the cut may leave one trailing.
  return keepJoinersBetweenVisible(out).trim();
}

/** A display name as every player sees it: sanitizeText to MAX_NAME_LENGTH; '' when nothing visible is left. */
export function sanitizeDisplayName(raw: string): string {
  return sanitizeText(raw, MAX_NAME_LENGTH);
}
