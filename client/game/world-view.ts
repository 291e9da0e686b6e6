/**
 * What the demo draws each frame, from what the network delivers: remote players through the
 * adaptive interpolation buffer, the own player through prediction and reconciliation, names
 * from welcome/join/leave. Pure (time is passed in); the Pixi renderer only reads `frame()`.
 *
 * The event shapes are the subset of client/net's GameClient events this needs, declared here
 * structurally so this module (and its tests) stand on their own.
 */
import type { EntityState } from '../../shared/snapshot/view.js';
import { InterpolationBuffer, type InterpolationConfig } from './interpolation.js';
import { Predictor } from './prediction.js';
import type { InputRecord } from '../net/input-history.js';
import type { SnapshotPath } from '../net/game-client-types.js';
import { inputHeading, STANDARD_PLAYER_SPEED } from '../../shared/scene.js';

export interface WelcomeLike {
  entityId: number;
  worldW: number;
  worldH: number;
  snapshotHz: number;
  resumed: boolean;
  players: ReadonlyArray<{ entityId: number; name: string }>;
}

export interface SnapshotLike {
  serverTime: number;
  lastInputSeq: number;
  entities: readonly EntityState[];
  receivedAt: number;
  /** How it travelled (GameClient sets it): picks the interpolation delay rule. */
  path?: SnapshotPath;
}

export interface FrameEntity extends EntityState {
  name: string;
  own: boolean;
}

/** Names remembered for entities; bounded by the protocol's room size with some slack. */
export const MAX_KNOWN_NAMES = 4096;

export class WorldView {
  private buffer: InterpolationBuffer | null = null;
  private predictor: Predictor | null = null;
  private readonly names = new Map<number, string>();
  private ownId: number | null = null;
  private ownAngle = 0;
  private direction: [number, number] = [0, 0];
  private worldW = 1000;
  private worldH = 1000;
  private lastEntityCount = 0;

  /**
   * `interp` overrides the interpolation buffer's delay rule (the experiment harness compares
   * rules with it); the page uses the defaults.
   */
  constructor(
    private readonly speed = STANDARD_PLAYER_SPEED,
    private readonly interp: Pick<InterpolationConfig, 'baseIntervals' | 'lossResidual'> = {},
  ) {}

  welcome(w: WelcomeLike): void {
    const sameWorld = this.buffer !== null && w.worldW === this.worldW && w.worldH === this.worldH;
    this.worldW = w.worldW;
    this.worldH = w.worldH;
    const changedEntity = this.ownId !== w.entityId;
    this.ownId = w.entityId;
    if (!w.resumed || !sameWorld || changedEntity || !this.buffer || !this.predictor) {
      const interval = 1000 / Math.max(1, w.snapshotHz);
      this.buffer = new InterpolationBuffer({ ...this.interp, snapshotIntervalMs: interval, worldW: w.worldW, worldH: w.worldH });
      this.predictor = new Predictor({ speed: this.speed, worldW: w.worldW, worldH: w.worldH });
      this.names.clear();
    }
    for (const p of w.players) this.setName(p.entityId, p.name);
  }

  snapshot(s: SnapshotLike, rttMs: number | null): void {
    if (!this.buffer || !this.predictor) return;
    if (s.path) this.buffer.usePath(s.path);
    this.buffer.push(s.serverTime, s.entities, s.receivedAt);
    this.lastEntityCount = s.entities.length;
    const own = this.ownId === null ? undefined : s.entities.find((e) => e.id === this.ownId);
    if (own) {
      this.predictor.reconcile(own, s.lastInputSeq, s.receivedAt, rttMs ?? 0);
      this.ownAngle = own.angle;
    }
  }

  /** An input as the client sampled and sent it (GameClient `input` event). */
  input(rec: InputRecord): void {
    this.predictor?.recordInput(rec.seq, rec.dx, rec.dy, rec.t);
    this.direction = [rec.dx, rec.dy];
  }

  playerJoined(p: { entityId: number; name: string }): void {
    this.setName(p.entityId, p.name);
  }

  playerLeft(p: { entityId: number }): void {
    this.names.delete(p.entityId);
  }

  /** Everything to draw at local time `now`. */
  frame(now: number): FrameEntity[] {
    if (!this.buffer) return [];
    const out: FrameEntity[] = [];
    let ownSeen = false;
    for (const e of this.buffer.sample(now)) {
      const own = e.id === this.ownId;
      if (own) {
        ownSeen = true;
        const p = this.predictor?.position(now);
        if (p) {
          out.push({ id: e.id, x: p.x, y: p.y, angle: this.ownFacing(), name: this.nameOf(e.id), own: true });
          continue;
        }
      }
      out.push({ id: e.id, x: e.x, y: e.y, angle: e.angle, name: this.nameOf(e.id), own });
    }
    // The own player shows as soon as prediction has a position, even before the interpolated
    // world has caught up with it (the buffer lags by its delay).
    if (!ownSeen && this.ownId !== null) {
      const p = this.predictor?.position(now);
      if (p) out.push({ id: this.ownId, x: p.x, y: p.y, angle: this.ownFacing(), name: this.nameOf(this.ownId), own: true });
    }
    return out;
  }

  /** Predicted own position (null before the first snapshot that contains it). */
  ownPosition(now: number): { x: number; y: number } | null {
    return this.predictor?.position(now) ?? null;
  }

  get ownEntityId(): number | null {
    return this.ownId;
  }

  get world(): { w: number; h: number } {
    return { w: this.worldW, h: this.worldH };
  }

  /** Entities in the newest snapshot. */
  get entityCount(): number {
    return this.lastEntityCount;
  }

  get interpDelayMs(): number {
    return this.buffer?.delayMs ?? 0;
  }

  get interpTargetMs(): number {
    return this.buffer?.targetDelayMs ?? 0;
  }

  get jitterMs(): number {
    return this.buffer?.jitterMs ?? 0;
  }

  get bufferLossRate(): number {
    return this.buffer?.lossRate ?? 0;
  }

  get starvedFrames(): number {
    return this.buffer?.starvedFrames ?? 0;
  }

  get lastCorrection(): number {
    return this.predictor?.lastCorrectionDistance ?? 0;
  }

  nameOf(id: number): string {
    return this.names.get(id) ?? `player ${id}`;
  }

  private setName(id: number, name: string): void {
    if (!this.names.has(id) && this.names.size >= MAX_KNOWN_NAMES) {
      const oldest = this.names.keys().next().value;
      if (oldest !== undefined) this.names.delete(oldest);
    }
    this.names.set(id, name);
  }

  private ownFacing(): number {
    const [dx, dy] = this.direction;
    return inputHeading(dx, dy, this.ownAngle);
  }
}
