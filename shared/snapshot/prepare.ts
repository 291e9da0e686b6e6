/**
 * Preparation, the encoder's first step: the entities a snapshot may carry, sorted by id,
 * deduplicated and quantized. A server encoding one tick for many clients prepares once
 * (shared/snapshot/tick-encoder.ts) and hands the result to every encodeSnapshot call.
 */
import { MAX_ENTITY_ID } from '../limits.js';
import { STANDARD_FORMAT, quantizeAngle, quantizePosition, type SnapshotFormat } from './format.js';
import type { EntityState } from './view.js';

// Module-local copies: the loops below read these per entity, and imported bindings may be
// property getters once transpiled.
const MAX_ID = MAX_ENTITY_ID;
const qPos = quantizePosition;
const qAngle = quantizeAngle;

/**
 * Entities sorted by id, deduplicated and quantized once, so a server encoding one tick for many
 * clients does that work once (pass it as `SnapshotInput.entities`).
 */
export interface PreparedEntities {
  readonly prepared: true;
  readonly format: SnapshotFormat;
  /** Valid entities in increasing id order. */
  readonly list: readonly EntityState[];
  readonly qx: Uint16Array;
  readonly qy: Uint16Array;
  readonly qa: Uint8Array;
  /** Input entities dropped for an id that is not u16 or repeats an earlier one. */
  readonly skipped: number;
}

/** Sorts, deduplicates (first wins), drops non-u16 ids, and quantizes `entities` for `format`. */
export function prepareEntities(entities: readonly EntityState[], format: SnapshotFormat = STANDARD_FORMAT): PreparedEntities {
  // Fast path: already strictly increasing valid ids (what a room usually hands over).
  let sorted = true;
  let prev = -1;
  for (let j = 0; j < entities.length; j++) {
    const id = entities[j].id;
    if (!(Number.isInteger(id) && id > prev && id <= MAX_ID)) { sorted = false; break; }
    prev = id;
  }
  let list: EntityState[];
  if (sorted) {
    list = entities as EntityState[];
  } else {
    const seen = new Set<number>();
    list = [];
    for (const e of entities) {
      if (!Number.isInteger(e.id) || e.id < 0 || e.id > MAX_ID || seen.has(e.id)) continue;
      seen.add(e.id);
      list.push(e);
    }
    list.sort((a, b) => a.id - b.id);
  }
  const n = list.length;
  const qx = new Uint16Array(n);
  const qy = new Uint16Array(n);
  const qa = new Uint8Array(n);
  const xMax = format.xMax;
  const yMax = format.yMax;
  for (let j = 0; j < n; j++) {
    const e = list[j];
    qx[j] = qPos(e.x, xMax);
    qy[j] = qPos(e.y, yMax);
    qa[j] = qAngle(e.angle);
  }
  return { prepared: true, format, list, qx, qy, qa, skipped: entities.length - n };
}

/**
 * `entities` prepared for `format`: as given when already prepared with the same quantization
 * (the same position ranges), else prepared now (from the prepared list when prepared for
 * another world size).
 */
export function preparedFor(entities: readonly EntityState[] | PreparedEntities, format: SnapshotFormat): PreparedEntities {
  if ('prepared' in entities) {
    if (entities.format.xMax === format.xMax && entities.format.yMax === format.yMax) return entities;
    return prepareEntities(entities.list, format);
  }
  return prepareEntities(entities, format);
}
