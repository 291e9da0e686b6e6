/** Made-up display names for players who don't type one. */
import { MAX_NAME_LENGTH } from '../../shared/limits.js';

const ADJECTIVES = ['Swift', 'Quiet', 'Brave', 'Lucky', 'Sly', 'Bold', 'Calm', 'Keen', 'Wild', 'Zany', 'Jolly', 'Nimble'];
const ANIMALS = ['Otter', 'Falcon', 'Lynx', 'Panda', 'Heron', 'Badger', 'Gecko', 'Koala', 'Marten', 'Raven', 'Tapir', 'Wombat'];

/** A name like "Swift Otter 42"; `random` is uniform in [0, 1). */
export function makeUpName(random: () => number = Math.random): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.min(xs.length - 1, Math.floor(random() * xs.length))];
  return `${pick(ADJECTIVES)} ${pick(ANIMALS)} ${Math.floor(random() * 100)}`;
}

/**
 * Cleans a typed name: control characters removed, whitespace collapsed, trimmed, cut to the
 * protocol's MAX_NAME_LENGTH. Empty means "make one up".
 */
export function cleanName(raw: string): string {
  const s = raw.replace(/[\u0000-\u001f\u007f]/g, '').replace(/\s+/g, ' ').trim();
  // The limit counts UTF-16 code units; cut between code points so no surrogate is split.
  let out = '';
  for (const ch of s) {
    if (out.length + ch.length > MAX_NAME_LENGTH) break;
    out += ch;
  }
  return out.trim();
}
