import { describe, expect, it } from 'vitest';
import { STANDARD_FORMAT, quantizeAngle, quantizePosition, snapshotFormat } from '../../../shared/snapshot/format.js';
import { prepareEntities, preparedFor } from '../../../shared/snapshot/prepare.js';

const ents = [
  { id: 1, x: 10, y: 20, angle: 0.5 },
  { id: 4, x: 999.9, y: -3, angle: -3 },
  { id: 9, x: 1e9, y: Number.NaN, angle: Number.POSITIVE_INFINITY },
];

describe('prepareEntities', () => {
  it('keeps an already sorted list as it is and quantizes every entity for the format', () => {
    const p = prepareEntities(ents);
    expect(p.list).toBe(ents);
    expect(p.skipped).toBe(0);
    expect(p.format).toBe(STANDARD_FORMAT);
    expect([...p.qx]).toEqual(ents.map((e) => quantizePosition(e.x, STANDARD_FORMAT.xMax)));
    expect([...p.qy]).toEqual(ents.map((e) => quantizePosition(e.y, STANDARD_FORMAT.yMax)));
    expect([...p.qa]).toEqual(ents.map((e) => quantizeAngle(e.angle)));
    // Clamped to the world and NaN to 0, as the decoder's range checks expect.
    expect([p.qx[2], p.qy[2], p.qa[2]]).toEqual([STANDARD_FORMAT.xMax, 0, 0]);
  });

  it('sorts by id, keeps the first of repeated ids, and drops ids that are not u16, counting them', () => {
    const p = prepareEntities([
      { id: 7, x: 1, y: 1, angle: 0 }, { id: 2, x: 2, y: 2, angle: 0 }, { id: 7, x: 3, y: 3, angle: 0 },
      { id: 65536, x: 0, y: 0, angle: 0 }, { id: -1, x: 0, y: 0, angle: 0 }, { id: 2.5, x: 0, y: 0, angle: 0 },
      { id: 65535, x: 4, y: 4, angle: 0 }, { id: 0, x: 5, y: 5, angle: 0 },
    ]);
    expect(p.list.map((e) => [e.id, e.x])).toEqual([[0, 5], [2, 2], [7, 1], [65535, 4]]);
    expect(p.skipped).toBe(4);
    expect([...p.qx]).toEqual([20, 8, 4, 16]);
  });
});

describe('preparedFor', () => {
  it('passes through entities prepared for the same quantization, and prepares anything else', () => {
    const p = prepareEntities(ents);
    expect(preparedFor(p, STANDARD_FORMAT)).toBe(p);
    // Another format object of the same world size quantizes the same way.
    expect(preparedFor(p, snapshotFormat(1000, 1000))).toBe(p);
    const raw = preparedFor(ents, STANDARD_FORMAT);
    expect([...raw.qx]).toEqual([...p.qx]);
    const big = snapshotFormat(4000, 300);
    const again = preparedFor(p, big);
    expect(again).not.toBe(p);
    expect(again.format).toBe(big);
    expect(again.list).toEqual(p.list);
    expect([...again.qy]).toEqual(ents.map((e) => quantizePosition(e.y, big.yMax)));
    expect(again.skipped).toBe(0);
  });
});
