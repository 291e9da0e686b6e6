// A small deterministic world for snapshot tests: players walk at 100 units/s in a direction that
// changes at random, wrap at the edges, sometimes teleport, join and leave.
import { seededRandom } from '../../../shared/random.js';
import type { EntityState } from '../../../shared/snapshot/view.js';

/** The shared seeded PRNG; seed 0 runs as 1, as this scene always has (its figures depend on it). */
export function rng(seed: number): () => number {
  return seededRandom(seed >>> 0 || 1);
}

export interface SceneOptions {
  players: number;
  seed: number;
  /** Chance per snapshot that a player (not the viewer) leaves, and that a new one joins. */
  churn?: number;
  /** Chance per snapshot that a player jumps somewhere else. */
  teleport?: number;
  /** Chance per snapshot that a player stops (unchanged state). */
  idle?: number;
  /** Chance per snapshot that a player picks a new direction. */
  turn?: number;
}

export class Scene {
  readonly world = 1000;
  readonly step = 5; // 100 units/s at 20 snapshots/s
  private readonly random: () => number;
  private readonly players = new Map<number, { x: number; y: number; angle: number; moving: boolean }>();
  private nextId = 0;
  readonly viewerId: number;

  constructor(private readonly o: SceneOptions) {
    this.random = rng(o.seed);
    for (let i = 0; i < o.players; i++) this.join();
    this.viewerId = [...this.players.keys()][0] ?? 0;
  }

  private join(): void {
    const r = this.random;
    // Sparse ids now and then, so entered ids are not always consecutive.
    const id = this.nextId;
    this.nextId += r() < 0.2 ? 2 + Math.floor(r() * 40) : 1;
    if (id > 0xffff) return;
    this.players.set(id, { x: r() * this.world, y: r() * this.world, angle: r() * 2 * Math.PI - Math.PI, moving: true });
  }

  advance(): void {
    const r = this.random;
    for (const [id, p] of this.players) {
      if (id !== this.viewerId && r() < (this.o.churn ?? 0)) {
        this.players.delete(id);
        continue;
      }
      if (r() < (this.o.turn ?? 1)) p.angle = r() * 2 * Math.PI - Math.PI;
      p.moving = !(r() < (this.o.idle ?? 0));
      if (r() < (this.o.teleport ?? 0)) {
        p.x = r() * this.world;
        p.y = r() * this.world;
      } else if (p.moving) {
        p.x = (p.x + Math.cos(p.angle) * this.step + this.world) % this.world;
        p.y = (p.y + Math.sin(p.angle) * this.step + this.world) % this.world;
      }
    }
    if (r() < (this.o.churn ?? 0) * this.o.players) this.join();
  }

  entities(): EntityState[] {
    return [...this.players].map(([id, p]) => ({ id, x: p.x, y: p.y, angle: p.angle }));
  }
}
