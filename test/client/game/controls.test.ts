import { describe, expect, it } from 'vitest';
import { ARRIVE_RADIUS, isMovementKey, keysToDirection, steerToward } from '../../../client/game/controls.js';

const S = Math.SQRT1_2;

describe('keysToDirection', () => {
  it.each<[string[], [number, number]]>([
    [[], [0, 0]],
    [['KeyW'], [0, -1]],
    [['ArrowDown'], [0, 1]],
    [['KeyA', 'KeyD'], [0, 0]],
    [['KeyD', 'KeyS'], [S, S]],
    [['ArrowLeft', 'ArrowUp'], [-S, -S]],
    [['KeyW', 'ArrowUp'], [0, -1]],
    [['KeyW', 'ArrowUp', 'KeyD'], [S, -S]],
    [['KeyQ', 'Space'], [0, 0]],
    [['KeyW', 'KeyS', 'KeyD'], [1, 0]],
  ])('%j -> %j', (keys, want) => {
    const [x, y] = keysToDirection(keys);
    expect(x).toBeCloseTo(want[0], 12);
    expect(y).toBeCloseTo(want[1], 12);
  });

  it('knows its keys', () => {
    expect(isMovementKey('KeyW')).toBe(true);
    expect(isMovementKey('Enter')).toBe(false);
    expect(isMovementKey('toString')).toBe(false);
  });
});

describe('steerToward', () => {
  it('points straight at the target, unit length', () => {
    const d = steerToward({ x: 100, y: 100 }, { x: 400, y: 500 })!;
    expect(d[0]).toBeCloseTo(0.6, 12);
    expect(d[1]).toBeCloseTo(0.8, 12);
  });
  it('walks across the screen, not the short way round the edge', () => {
    const d = steerToward({ x: 10, y: 500 }, { x: 990, y: 500 })!;
    expect(d).toEqual([1, 0]);
  });
  it('stops within the arrive radius', () => {
    expect(steerToward({ x: 100, y: 100 }, { x: 100 + ARRIVE_RADIUS / 2, y: 100 })).toBeNull();
    expect(steerToward({ x: 100, y: 100 }, { x: 100, y: 100 })).toBeNull();
  });
});
