/** Made-up display names for players who don't type one. */
import { sanitizeDisplayName } from '../../shared/text.js';

const ADJECTIVES = ['Swift', 'Quiet', 'Brave', 'Lucky', 'Sly', 'Bold', 'Calm', 'Keen', 'Wild', 'Zany', 'Jolly', 'Nimble'];
const ANIMALS = ['Otter', 'Falcon', 'Lynx', 'Panda', 'Heron', 'Badger', 'Gecko', 'Koala', 'Marten', 'Raven', 'Tapir', 'Wombat'];

/** A name like "Swift Otter 42"; `random` is uniform in [0, 1). */
export function makeUpName(random: () => number = Math.random): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.min(xs.length - 1, Math.floor(random() * xs.length))];
  return `${pick(ADJECTIVES)} ${pick(ANIMALS)} ${Math.floor(random() * 100)}`;
}

/**
 * Cleans a typed name with the same sanitiser the server applies to every name it broadcasts
 * (shared/text.ts): what the player sees in the form is what the others will see. Empty means
 * "make one up".
 */
export function cleanName(raw: string): string {
  return sanitizeDisplayName(raw);
}
