import { describe, expect, it } from 'vitest';
import {
  INPUT_HISTORY_LIMIT,
  INPUT_REDUNDANCY,
  InputHistory,
  normalizeDirection,
  sampledDirection,
} from '../../../client/net/input-history.js';
import { decodeMessage, encodeMessage } from '../../../shared/codec.js';
import { quantizeInput } from '../../../shared/input.js';
import { clampAxis, inputVelocity } from '../../../shared/scene.js';

describe('InputHistory', () => {
  it('numbers inputs from 1 and repeats the newest four, oldest first', () => {
    const h = new InputHistory();
    expect(h.redundant()).toEqual([]);
    h.push(1, 0, 0);
    expect(h.redundant().map((r) => r.seq)).toEqual([1]);
    for (let i = 2; i <= 6; i++) h.push(0, i % 2 ? 1 : -1, i);
    expect(INPUT_REDUNDANCY).toBe(4);
    expect(h.redundant().map((r) => r.seq)).toEqual([3, 4, 5, 6]);
    expect(h.newestSeq).toBe(6);
    expect(h.redundant().at(-1)).toMatchObject({ seq: 6, dx: 0, dy: -1, t: 6 });
  });

  it('one lost datagram loses no input: consecutive messages overlap by three', () => {
    const h = new InputHistory();
    const sent: number[][] = [];
    for (let i = 0; i < 10; i++) {
      h.push(0, 0, i);
      sent.push(h.redundant().map((r) => r.seq));
    }
    // Drop every other message; the union of the rest still covers every seq from 1 to 10.
    const covered = new Set(sent.filter((_, i) => i % 2 === 1).flat());
    expect([...covered].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('keeps a bounded history for prediction replay', () => {
    const h = new InputHistory();
    for (let i = 0; i < INPUT_HISTORY_LIMIT + 10; i++) h.push(1, 0, i);
    expect(h.since(0)).toHaveLength(INPUT_HISTORY_LIMIT);
    expect(h.since(INPUT_HISTORY_LIMIT + 7).map((r) => r.seq)).toEqual([INPUT_HISTORY_LIMIT + 8, INPUT_HISTORY_LIMIT + 9, INPUT_HISTORY_LIMIT + 10]);
  });

  it('reset keeps numbering monotonic when asked (resume) and restarts otherwise', () => {
    const h = new InputHistory();
    h.push(0, 0, 0);
    h.push(0, 0, 0);
    h.reset(true);
    expect(h.push(0, 0, 0).seq).toBe(3);
    h.reset(false);
    expect(h.push(0, 0, 0).seq).toBe(1);
  });

  it('clamps axes and normalizes diagonals so no input moves faster than speed', () => {
    expect(clampAxis(5)).toBe(1);
    expect(clampAxis(-5)).toBe(-1);
    expect(clampAxis(Number.NaN)).toBe(0);
    expect(clampAxis(Infinity)).toBe(0);
    const [x, y] = normalizeDirection(1, 1);
    expect(Math.hypot(x, y)).toBeCloseTo(1, 12);
    expect(normalizeDirection(0.3, -0.4)).toEqual([0.3, -0.4]);
    expect(normalizeDirection(Number.NaN, 1)).toEqual([0, 1]);
    // The scene's own rule (shared/scene.ts), as the server applies it.
    const v = inputVelocity(-3, 2);
    expect(normalizeDirection(-3, 2)).toEqual([v.x, v.y]);
  });

  it('records the quantized direction, exactly what the server decodes from the datagram', () => {
    const h = new InputHistory();
    const diag = h.push(1, 1, 0);
    // 0.7071 * 127 = 89.8, so the diagonal travels as 90/127 per axis.
    expect([diag.dx, diag.dy]).toEqual([90 / 127, 90 / 127]);
    const odd = h.push(0.123456, -0.654321, 1);
    expect([odd.dx, odd.dy]).toEqual(quantizeInput([0.123456, -0.654321]));
    expect([odd.dx, odd.dy]).toEqual(sampledDirection(0.123456, -0.654321));
    const inputs = h.redundant().reverse().map((r): [number, number] => [r.dx, r.dy]);
    const r = decodeMessage(encodeMessage('input', { seq: h.newestSeq, ack: 0, inputs }), { channel: 'unreliable', direction: 'c2s' });
    expect(r).toEqual({ ok: true, name: 'input', body: { seq: 2, ack: 0, inputs } });
  });
});
