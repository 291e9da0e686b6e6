/**
 * `window.tickwire`: a read-only view of the running game for tests and for people poking at it
 * in the console. Every property is a getter (values are copies), the object is frozen, and
 * nothing on it changes the game.
 *
 * Properties: transport ('webtransport' | 'websocket' | null), transportLabel, connected, state,
 * rttMs, snapshotsReceived, snapshotsPerSec, loss (0..1), downBytesPerSec, entities (count in
 * the newest snapshot), interpDelayMs, interpTargetMs, jitterMs, starvedFrames,
 * predictionCorrection, chat (visible lines "name: text"), chatNotice, chatRejected,
 * ownEntityId (0 for a spectator), spectator (true on the watch page), camera (a spectator's
 * { x, y, zoom }, else null), playerId, name, renderer ('webgl' | 'webgpu' | 'canvas'), frames, positions (this
 * frame's drawn entities), pointerTarget (world point a click or tap set), hud (the HUD's texts), status, statusLog (recent status lines), fallbackReason, errors, stats (the
 * GameClient's), now (the page clock), connectStartedAt and welcomeAt (page clock when connecting
 * started and when the first welcome arrived). Methods: samples(sinceMs?) returns the per-frame
 * drawn positions recorded since a page-clock time (see FrameSampleRing); clientPointOf(x, y)
 * the page point (CSS pixels) where a world point is drawn.
 */
import type { FrameEntity } from './game/world-view.js';

/**
 * Frames of positions kept for `samples()`: 3600 is one minute at 60 frames/s, enough for a
 * test to measure ten seconds of motion after a setup phase.
 */
export const FRAME_SAMPLE_LIMIT = 3600;

export interface FrameSample {
  /** Page clock (performance.now()) when the frame was drawn. */
  t: number;
  /** Every drawn entity: [id, x, y, own ? 1 : 0]. */
  e: Array<[number, number, number, number]>;
}

export class FrameSampleRing {
  private buf: FrameSample[] = [];
  private start = 0;

  add(t: number, entities: readonly FrameEntity[]): void {
    const s: FrameSample = { t, e: entities.map((x) => [x.id, x.x, x.y, x.own ? 1 : 0]) };
    if (this.buf.length < FRAME_SAMPLE_LIMIT) this.buf.push(s);
    else {
      this.buf[this.start] = s;
      this.start = (this.start + 1) % FRAME_SAMPLE_LIMIT;
    }
  }

  /** Samples with t > sinceMs, oldest first. */
  since(sinceMs: number): FrameSample[] {
    const ordered = this.buf.length < FRAME_SAMPLE_LIMIT ? this.buf : [...this.buf.slice(this.start), ...this.buf.slice(0, this.start)];
    return ordered.filter((s) => s.t > sinceMs);
  }
}

type Source = Record<string, (...args: never[]) => unknown>;

/** Entries of the source that are methods (with arguments) rather than getters. */
const METHODS = new Set(['samples', 'clientPointOf']);

/** Defines `target.tickwire` as a frozen object of getters (and the query methods). */
export function installDebugObject(target: object, source: Source): void {
  const obj: Record<string, unknown> = {};
  for (const [key, fn] of Object.entries(source)) {
    if (METHODS.has(key)) {
      const f = fn as (...args: unknown[]) => unknown;
      Object.defineProperty(obj, key, { value: (...args: unknown[]) => copy(f(...args)), enumerable: true });
    } else {
      Object.defineProperty(obj, key, { get: () => copy((fn as () => unknown)()), enumerable: true });
    }
  }
  Object.freeze(obj);
  Object.defineProperty(target, 'tickwire', { value: obj, enumerable: true, configurable: false, writable: false });
}

function copy(v: unknown): unknown {
  return v !== null && typeof v === 'object' ? structuredClone(v) : v;
}
