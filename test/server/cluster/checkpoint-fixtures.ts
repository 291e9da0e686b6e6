/** Sample checkpoints for the checkpoint tests. */
import { CHECKPOINT_FORMAT, type RoomCheckpoint, type SeatCheckpoint } from '../../../server/cluster/checkpoint.js';

export function seat(n: number, extra: Partial<SeatCheckpoint> = {}): SeatCheckpoint {
  return {
    playerId: `player-${n}`, name: `P${n}`, entity: { id: n, x: 10 * n + 0.25, y: 500 - n, angle: -1.5 },
    input: { dx: 0.5, dy: -1 }, lastInputSeq: 40 + n, data: { score: n, tags: ['a', 'b'] },
    resumeTokenHash: 'A'.repeat(43), ...extra,
  };
}

export function checkpoint(extra: Partial<RoomCheckpoint> = {}): RoomCheckpoint {
  return {
    v: CHECKPOINT_FORMAT, roomId: 'arena', token: 1_796_303_543_802_208, savedAt: 1_700_000_000_123.5, tick: 9_000,
    nextEntityId: 4, chat: { epoch: 'ep-1', lastId: 57 }, seats: [seat(1), seat(2), seat(3, { resumeTokenHash: null })],
    state: { round: 3, flags: { red: 1 }, blob: new Uint8Array([1, 2, 3]), list: [1, 'two', null, true] }, ...extra,
  };
}
