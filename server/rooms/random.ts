// The room's spawn PRNG is the shared mulberry32 (shared/random.ts); kept under this name for room.ts.
export { seededRandom as createRandom } from '../../shared/random.js';
