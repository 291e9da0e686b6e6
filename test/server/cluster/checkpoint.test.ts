import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, type RoomCheckpoint } from '../../../server/cluster/checkpoint.js';
import { checkpoint, seat } from './checkpoint-fixtures.js';

describe('room checkpoint codec', () => {
  it('round-trips seats, chat position and the definition state', () => {
    const c = checkpoint();
    expect(decodeCheckpoint(encodeCheckpoint(c))).toEqual(c);
    const bare = checkpoint({ chat: null, seats: [], state: undefined });
    delete bare.state;
    expect(decodeCheckpoint(encodeCheckpoint(bare))).toEqual(bare);
    // Spectators ride along (without entities); a checkpoint without them still decodes.
    const watched = checkpoint({ watchers: [{ playerId: 'viewer', name: 'V', resumeTokenHash: 'B'.repeat(43) }] });
    expect(decodeCheckpoint(encodeCheckpoint(watched))).toEqual(watched);
  });

  it('refuses checkpoints that do not validate', () => {
    const bad: Array<Partial<RoomCheckpoint> | Record<string, unknown>> = [
      { v: 2 as 1 }, { roomId: 'a{b}' }, { token: 0 }, { tick: -1 }, { nextEntityId: 70_000 }, { savedAt: Number.NaN },
      { chat: { epoch: 'e', lastId: -1 } }, { seats: [seat(1), seat(1)] }, { seats: [seat(1), seat(2, { entity: { id: 1, x: 0, y: 0, angle: 0 } })] },
      { seats: [seat(1, { playerId: 'has space' })] }, { seats: [seat(1, { entity: { id: 0, x: 0, y: 0, angle: 0 } })] },
      { seats: [seat(1, { entity: { id: 1, x: Number.POSITIVE_INFINITY, y: 0, angle: 0 } })] },
      { seats: [seat(1, { input: { dx: 2, dy: 0 } })] }, { seats: [seat(1, { resumeTokenHash: 'short' })] },
      { seats: [seat(1, { data: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])) })] },
      { seats: [seat(1, { name: 'x'.repeat(25) })] },
      { watchers: [{ playerId: 'v', name: 'V', resumeTokenHash: 'short' }] },
      { watchers: [{ playerId: 'v', name: 'V', resumeTokenHash: 'B'.repeat(43) }, { playerId: 'v', name: 'W', resumeTokenHash: 'C'.repeat(43) }] },
      { watchers: Array.from({ length: 1_025 }, (_, i) => ({ playerId: `v${i}`, name: 'V', resumeTokenHash: 'B'.repeat(43) })) },
      { watchers: 'nobody' as unknown as [] },
    ];
    for (const change of bad) expect(decodeCheckpoint(encodeCheckpoint({ ...checkpoint(), ...change } as RoomCheckpoint))).toBeNull();
    expect(decodeCheckpoint(new Uint8Array(0))).toBeNull();
  });

  it('enforces the size limit on both ends', () => {
    const big = checkpoint({ state: 'x'.repeat(2_000) });
    expect(() => encodeCheckpoint(big, 1_000)).toThrow(RangeError);
    expect(decodeCheckpoint(encodeCheckpoint(big), 1_000)).toBeNull();
  });

  it('never throws on arbitrary bytes or values', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => { decodeCheckpoint(bytes); }), { numRuns: 500 });
    fc.assert(fc.property(fc.anything(), (value) => {
      let bytes: Uint8Array;
      try { bytes = encodeCheckpoint(value as RoomCheckpoint); } catch { return; }
      expect(decodeCheckpoint(bytes)).toBeNull();
    }), { numRuns: 300 });
  });
});
