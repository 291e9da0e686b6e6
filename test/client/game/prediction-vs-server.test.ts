/**
 * The client's prediction must follow the same movement rule as the server's standard scene,
 * or every snapshot would pull the own player back. Both run shared/scene.ts's `stepPosition`;
 * this runs the server's own step (server/rooms/standard-scene.ts `moveStandard`) beside the
 * Predictor: one step is bit-identical, random input sequences agree to float rounding.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Predictor } from '../../../client/game/prediction.js';
import { sampledDirection } from '../../../client/net/input-history.js';
import { quantizeInput } from '../../../shared/input.js';
import { inputVelocity, STANDARD_PLAYER_SPEED } from '../../../shared/scene.js';
import { shortDelta } from '../../../client/game/wrap.js';
import { STANDARD_SPEED, STANDARD_WORLD, moveStandard } from '../../../server/rooms/standard-scene.js';
import type { RoomPlayer } from '../../../server/rooms/types.js';

const TICK_MS = 1000 / 60;

describe('prediction follows the server rule', () => {
  it('uses the server speed and world', () => {
    expect(STANDARD_PLAYER_SPEED).toBe(STANDARD_SPEED);
    expect(STANDARD_WORLD).toEqual({ width: 1000, height: 1000 });
  });

  it('normalizes inputs like the server', () => {
    fc.assert(fc.property(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), (dx, dy) => {
      const player = { entity: { id: 1, x: 500, y: 500, angle: 0 }, input: { dx, dy } } as unknown as RoomPlayer;
      moveStandard(player, 1, STANDARD_WORLD);
      const v = inputVelocity(dx, dy);
      expect(Math.abs(shortDelta(500 + v.x * STANDARD_SPEED, player.entity.x, 1000))).toBeLessThan(1e-9);
      expect(Math.abs(shortDelta(500 + v.y * STANDARD_SPEED, player.entity.y, 1000))).toBeLessThan(1e-9);
    }));
  });

  it('turns the quantized inputs the client sends into bit-identical server motion', () => {
    // The client sends and records sampledDirection (normalized, then quantized); the server
    // decodes the same numbers. Over one second from x = 500 both sides compute 500 + v * 100
    // with the same v, so the results must be equal, not merely close.
    const axis = fc.double({ min: -1.5, max: 1.5, noNaN: true });
    fc.assert(fc.property(axis, axis, (rawX, rawY) => {
      const [dx, dy] = sampledDirection(rawX, rawY);
      expect([dx, dy]).toEqual(quantizeInput([dx, dy]));
      const player = { entity: { id: 1, x: 500, y: 500, angle: 0 }, input: { dx, dy } } as unknown as RoomPlayer;
      moveStandard(player, 1, STANDARD_WORLD);
      const v = inputVelocity(dx, dy);
      if (dx === 0 && dy === 0) return; // the server does not touch a still player
      expect(player.entity.x).toBe(500 + v.x * STANDARD_SPEED);
      expect(player.entity.y).toBe(500 + v.y * STANDARD_SPEED);
    }), { numRuns: 2000 });
  });

  it('predicts exactly the position the server step reaches, edges included', () => {
    // Same start, same (quantized) input, same duration: the predictor's one span and the
    // server's one step are the same computation, so the bits must agree, also where the step
    // crosses or lands on an edge.
    const coord = fc.oneof(fc.constantFrom(0, 999.999, 500, 1e-9, 1000 - 1e-9), fc.double({ min: 0, max: 1000, maxExcluded: true, noNaN: true }));
    const axis = fc.oneof(fc.constantFrom(-1, 0, 1), fc.double({ min: -1.5, max: 1.5, noNaN: true }));
    fc.assert(fc.property(coord, coord, axis, axis, fc.integer({ min: 1, max: 600_000 }), (x, y, rawX, rawY, dtMs) => {
      const [dx, dy] = sampledDirection(rawX, rawY);
      const player = { entity: { id: 1, x, y, angle: 0 }, input: { dx, dy } } as unknown as RoomPlayer;
      moveStandard(player, dtMs / 1000, STANDARD_WORLD);
      const p = new Predictor({ speed: STANDARD_PLAYER_SPEED, worldW: 1000, worldH: 1000 });
      p.recordInput(1, dx, dy, 0);
      p.reconcile({ x, y }, 1, 0, 0);
      const got = p.predicted(dtMs)!;
      expect(got.x).toBe(player.entity.x);
      expect(got.y).toBe(player.entity.y);
      expect(got.x).toBeLessThan(1000);
      expect(got.y).toBeLessThan(1000);
    }), { numRuns: 3000 });
  });

  it('replays random input sequences to the server position, wrapping included', () => {
    const dir = fc.tuple(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }));
    fc.assert(fc.property(fc.array(fc.tuple(dir, fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 30 }), (steps) => {
      const player = { entity: { id: 1, x: 990, y: 5, angle: 0 }, input: { dx: 0, dy: 0 } } as unknown as RoomPlayer;
      const p = new Predictor({ speed: STANDARD_PLAYER_SPEED, worldW: 1000, worldH: 1000 });
      // Input seq k takes effect at a tick boundary on both sides (zero latency: the model's
      // reference case), held for its number of ticks.
      p.recordInput(0, 0, 0, 0);
      p.reconcile({ x: 990, y: 5 }, 0, 0, 0);
      let tick = 0;
      steps.forEach(([[dx, dy], ticks], i) => {
        p.recordInput(i + 1, dx, dy, tick * TICK_MS);
        player.input = { dx, dy };
        for (let k = 0; k < ticks; k++) moveStandard(player, 1 / 60, STANDARD_WORLD);
        tick += ticks;
      });
      const got = p.predicted(tick * TICK_MS)!;
      expect(Math.abs(shortDelta(got.x, player.entity.x, 1000))).toBeLessThan(1e-6);
      expect(Math.abs(shortDelta(got.y, player.entity.y, 1000))).toBeLessThan(1e-6);
    }), { numRuns: 200 });
  });
});
