/**
 * The compact snapshot codec (docs/protocol.md, "Snapshots"): quantization, delta coding against
 * the client's acked baseline, budgeted encoding with a per-cell schedule or a per-client
 * priority accumulator. encode.ts says which file does which step of an encoding.
 */
export { encodeSnapshot, type SnapshotInput, type SnapshotEncodeResult } from './encode.js';
export { prepareEntities, type PreparedEntities } from './prepare.js';
export { withLastInputSeq, SNAPSHOT_PREFIX_BYTES, LAST_INPUT_SEQ_OFFSET, u32 } from './write.js';
export { decodeSnapshot, decodeSnapshotBody, type DecodedSnapshot, type SnapshotDecodeResult, type BaselineLookup } from './decode.js';
export {
  ANGLE_BITS, ENTITY_ID_BITS, POSITION_STEP, SHORT_DELTA_MIN_BITS, SHORT_DELTA_MAX_BITS, SHORT_DELTA_WIDTH_FIELD_BITS,
  STANDARD_FORMAT, snapshotFormat,
  quantizePosition, dequantizePosition, quantizeAngle, dequantizeAngle, type SnapshotFormat,
} from './format.js';
export {
  PriorityAccumulator, FORCE_AFTER, NEAR_RADIUS, NEAR_WEIGHT, entitiesPerSnapshot, refreshBound,
  type PriorityOptions, type Positioned,
} from './priority.js';
export { SnapshotHistory, SNAPSHOT_HISTORY_SIZE } from './history.js';
export { indexInView, MAX_HELD_AGE, type EntityState, type SnapshotView } from './view.js';
export { SnapshotTickEncoder, type SnapshotClient, type SnapshotTick, type TickEncodeResult } from './tick-encoder.js';
